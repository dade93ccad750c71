package compute

// Block device mappings (Nova's block_device_mapping table): the volumes
// of each server, a boot volume made or given at create and the volumes
// attached since. Each row holds its volume's Cinder attachment and, once
// the server's host connected it, where the volume's data is. Only
// compute reads and writes the table; the volume itself is the volume
// service's, reached through Deps.Volumes.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// BlockDevice is one block device mapping of a server that is a volume
// (destination_type "volume").
type BlockDevice struct {
	ID              string // bdm_uuid (2.89)
	InstanceID      string
	SourceType      string // "volume", "image", "snapshot" or "blank"
	DestinationType string // "volume"
	VolumeID        string // "" until the host made the volume of an image, snapshot or blank source
	SnapshotID      string
	ImageID         string
	// BootIndex is nil for a volume the server does not boot from
	// (Nova's None); 0 is the root disk.
	BootIndex           *int
	DeviceName          string // "/dev/vdb"; "" until a host chose one
	DeleteOnTermination bool
	VolumeSize          int // GiB; 0 when none was asked
	VolumeType          string
	Tag                 string
	AttachmentID        string
	DiskBus             string
	DeviceType          string
	GuestFormat         string
	// Connection is where the host found the volume's data; nil until
	// the host connected it.
	Connection *VolumeConnection
	CreatedAt  time.Time
}

// IsRoot reports whether the server boots from this volume.
func (b *BlockDevice) IsRoot() bool { return b.BootIndex != nil && *b.BootIndex == 0 }

const bdmColumns = `id, instance_id, source_type, destination_type, volume_id, snapshot_id, image_id, boot_index,
	device_name, delete_on_termination, volume_size, volume_type, tag, attachment_id, disk_bus, device_type,
	guest_format, connection_info, created_at`

// insertBlockDevice writes b in tx.
func insertBlockDevice(ctx context.Context, tx *store.Tx, b *BlockDevice) error {
	var size any
	if b.VolumeSize > 0 {
		size = b.VolumeSize
	}
	var boot any
	if b.BootIndex != nil {
		boot = *b.BootIndex
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO block_device_mappings (`+bdmColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.InstanceID, b.SourceType, b.DestinationType, b.VolumeID, b.SnapshotID, b.ImageID, boot,
		b.DeviceName, b.DeleteOnTermination, size, b.VolumeType, b.Tag, b.AttachmentID, b.DiskBus, b.DeviceType,
		b.GuestFormat, connectionJSON(b.Connection), b.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("insert block device mapping: %w", err)
	}
	return nil
}

func connectionJSON(c *VolumeConnection) string {
	if c == nil {
		return ""
	}
	m := map[string]string{"path": c.Path, "format": c.Format}
	if c.ReadOnly {
		m["access_mode"] = "ro"
	}
	raw, _ := json.Marshal(m)
	return string(raw)
}

// scanBlockDevices reads rows of bdmColumns.
func scanBlockDevices(rows *sql.Rows) ([]BlockDevice, error) {
	defer rows.Close()
	var out []BlockDevice
	for rows.Next() {
		var b BlockDevice
		var boot, size sql.NullInt64
		var conn string
		var created int64
		if err := rows.Scan(&b.ID, &b.InstanceID, &b.SourceType, &b.DestinationType, &b.VolumeID, &b.SnapshotID,
			&b.ImageID, &boot, &b.DeviceName, &b.DeleteOnTermination, &size, &b.VolumeType, &b.Tag, &b.AttachmentID,
			&b.DiskBus, &b.DeviceType, &b.GuestFormat, &conn, &created); err != nil {
			return nil, fmt.Errorf("scan block device mapping: %w", err)
		}
		if boot.Valid {
			i := int(boot.Int64)
			b.BootIndex = &i
		}
		b.VolumeSize = int(size.Int64)
		if conn != "" {
			var m map[string]string
			if err := json.Unmarshal([]byte(conn), &m); err != nil {
				return nil, fmt.Errorf("decode connection_info of %s: %w", b.ID, err)
			}
			b.Connection = &VolumeConnection{Path: m["path"], Format: m["format"], ReadOnly: m["access_mode"] == "ro"}
		}
		b.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read block device mappings: %w", err)
	}
	return out, nil
}

// blockDevicesOf are server id's mappings in the order they were made.
func blockDevicesOf(ctx context.Context, q store.Querier, id string) ([]BlockDevice, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+bdmColumns+` FROM block_device_mappings
		WHERE instance_id = ? ORDER BY created_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("block device mappings of %s: %w", id, err)
	}
	return scanBlockDevices(rows)
}

// blockDeviceByID is mapping id (sql.ErrNoRows wrapped when gone).
func blockDeviceByID(ctx context.Context, q store.Querier, id string) (*BlockDevice, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+bdmColumns+` FROM block_device_mappings WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("block device mapping %s: %w", id, err)
	}
	bs, err := scanBlockDevices(rows)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("block device mapping %s: %w", id, sql.ErrNoRows)
	}
	return &bs[0], nil
}

// blockDevicesOfVolume are the mappings of volume id, on any server.
func blockDevicesOfVolume(ctx context.Context, q store.Querier, volumeID string) ([]BlockDevice, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+bdmColumns+` FROM block_device_mappings
		WHERE volume_id = ? ORDER BY created_at, id`, volumeID)
	if err != nil {
		return nil, fmt.Errorf("block device mappings of volume %s: %w", volumeID, err)
	}
	return scanBlockDevices(rows)
}

// volumeBDM is the mapping of volumeID on server id: Nova's
// get_by_volume_and_instance, 404 in its words when there is none.
func volumeBDM(ctx context.Context, q store.Querier, id, volumeID string) (*BlockDevice, error) {
	bs, err := blockDevicesOf(ctx, q, id)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		if bs[i].VolumeID == volumeID {
			return &bs[i], nil
		}
	}
	return nil, errs.NotFound("Instance %s is not attached to volume %s", id, volumeID)
}

func deleteBlockDevice(ctx context.Context, tx *store.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM block_device_mappings WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete block device mapping %s: %w", id, err)
	}
	return nil
}

// BlockDevices are the volume mappings of server id as p sees it (404 for
// a server p may not see).
func (s *Service) BlockDevices(ctx context.Context, p *auth.Principal, id string) ([]BlockDevice, error) {
	var out []BlockDevice
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.visible(ctx, tx, p, id); err != nil {
			return err
		}
		var err error
		out, err = blockDevicesOf(ctx, tx, id)
		return err
	})
	return out, err
}

// BlockDevice is the mapping of volumeID on server id (Nova's 404s when
// the server is not visible or has no such volume).
func (s *Service) BlockDevice(ctx context.Context, p *auth.Principal, id, volumeID string) (*BlockDevice, error) {
	var out *BlockDevice
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.visible(ctx, tx, p, id); err != nil {
			return err
		}
		var err error
		out, err = volumeBDM(ctx, tx, id, volumeID)
		return err
	})
	return out, err
}

// AttachedVolumes are the volumes of each of servers ids (volumes_attached
// of the server views), by server, in the order they were mapped; a
// mapping whose volume the host has yet to make is left out.
func (s *Service) AttachedVolumes(ctx context.Context, ids []string) (map[string][]BlockDevice, error) {
	out := map[string][]BlockDevice{}
	if len(ids) == 0 {
		return out, nil
	}
	from, arg := store.StringsTable(s.DB, "k", ids)
	rows, err := s.DB.QueryContext(ctx, `SELECT `+prefixed("b.", bdmColumns)+` FROM `+from+`
		JOIN block_device_mappings b ON b.instance_id = k.value WHERE b.volume_id <> '' ORDER BY b.created_at, b.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("attached volumes: %w", err)
	}
	bs, err := scanBlockDevices(rows)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		out[b.InstanceID] = append(out[b.InstanceID], b)
	}
	return out, nil
}

// prefixed qualifies each of the comma-separated columns cols with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// releaseVolumes is what Nova's compute manager does with a deleted
// server's volumes (_cleanup_volumes): each attachment deleted, the
// volumes marked delete_on_termination deleted, the mappings gone. A
// volume the volume service no longer has is skipped, as Nova logs and
// goes on.
func (s *Service) releaseVolumes(ctx context.Context, tx *store.Tx, srv *Server) error {
	bs, err := blockDevicesOf(ctx, tx, srv.ID)
	if err != nil || len(bs) == 0 {
		return err
	}
	for _, b := range bs {
		if b.AttachmentID != "" {
			if err := ignoreGone(s.Volumes.DeleteAttachment(ctx, tx, b.AttachmentID)); err != nil {
				return fmt.Errorf("delete attachment %s of volume %s: %w", b.AttachmentID, b.VolumeID, err)
			}
		}
		if b.DeleteOnTermination && b.VolumeID != "" {
			if err := ignoreGone(s.Volumes.DeleteVolume(ctx, tx, srv.ProjectID, b.VolumeID)); err != nil {
				return fmt.Errorf("delete volume %s: %w", b.VolumeID, err)
			}
		}
		if err := deleteBlockDevice(ctx, tx, b.ID); err != nil {
			return err
		}
	}
	return nil
}

// ignoreGone is err unless it says the thing is already gone.
func ignoreGone(err error) error {
	if errs.KindOf(err) == errs.KindNotFound {
		return nil
	}
	return err
}

// GuestVolume is one volume of a server as its guest gets it (the agent
// turns it into the driver's virt.Volume).
type GuestVolume struct {
	ID        string
	Path      string
	Format    string
	Device    string
	ReadOnly  bool
	BootIndex int // 0: the root disk; -1 otherwise
}

// guestVolumes are the connected volumes of server id in mapping order.
func guestVolumes(ctx context.Context, q store.Querier, id string) ([]GuestVolume, error) {
	bs, err := blockDevicesOf(ctx, q, id)
	if err != nil {
		return nil, err
	}
	var out []GuestVolume
	for _, b := range bs {
		if b.Connection == nil || b.VolumeID == "" {
			continue // not (yet) on this host
		}
		boot := -1
		if b.IsRoot() {
			boot = 0
		}
		out = append(out, GuestVolume{ID: b.VolumeID, Path: b.Connection.Path, Format: b.Connection.Format,
			Device: b.DeviceName, ReadOnly: b.Connection.ReadOnly, BootIndex: boot})
	}
	return out, nil
}

// VolumeBacked reports whether server id boots from a volume.
func volumeBacked(ctx context.Context, q store.Querier, id string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM block_device_mappings WHERE instance_id = ? AND boot_index = 0`,
		id).Scan(&n); err != nil {
		return false, fmt.Errorf("boot volume of %s: %w", id, err)
	}
	return n > 0, nil
}
