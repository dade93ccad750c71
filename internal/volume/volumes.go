package volume

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
)

const gib = int64(1) << 30

// Create makes a volume: blank, from an image, a snapshot or another
// volume. It is "creating" (or "downloading" from an image) until the
// worker has written its data.
func (s *Service) Create(ctx context.Context, p *auth.Principal, req CreateRequest) (*Volume, error) {
	var v *Volume
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		v, err = s.CreateTx(ctx, tx, p, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return v, nil
}

// CreateTx is Create in the caller's transaction (Nova's block device
// mappings); the caller wakes the worker (Wake) after committing.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, p *auth.Principal, req CreateRequest) (*Volume, error) {
	sources := 0
	for _, src := range []string{req.ImageID, req.SnapshotID, req.SourceVolID} {
		if src != "" {
			sources++
		}
	}
	if sources > 1 {
		return nil, errs.Invalid("Invalid input received: Only one of snapshot_id, source_volid, image_id and backup_id may be specified.")
	}
	if req.Size < 0 || (req.Size == 0 && req.SnapshotID == "" && req.SourceVolID == "") {
		return nil, invalidInput("Volume size '%d' must be an integer and greater than 0", req.Size)
	}
	zone := req.AvailabilityZone
	if zone == "" {
		zone = s.cfg.AvailabilityZone
	} else if zone != s.cfg.AvailabilityZone {
		return nil, errs.Named("InvalidAvailabilityZone", errs.Invalid("Availability zone '%s' is invalid.", zone))
	}
	now := s.ts()
	v := &Volume{
		ID: req.ID, ProjectID: p.ProjectID, UserID: p.UserID, Name: req.Name, Description: req.Description,
		Size: req.Size, Status: StatusCreating, AttachStatus: AttachDetached, AvailabilityZone: zone,
		Multiattach: req.Multiattach, ConsumesQuota: true,
		Metadata: maps.Clone(req.Metadata), ImageMetadata: map[string]string{}, AdminMetadata: map[string]string{},
		CreatedAt: store.Time(now), UpdatedAt: store.Time(now),
	}
	if v.ID == "" {
		v.ID = uuid.NewString()
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	var srcType *VolumeType
	switch {
	case req.SnapshotID != "":
		snap, err := getSnapshot(ctx, tx, req.SnapshotID, p.ProjectID, p.IsAdmin())
		if err != nil {
			return nil, err
		}
		if snap.Status != SnapshotAvailable {
			return nil, errs.Named("InvalidSnapshot", errs.Invalid("Invalid snapshot: Originating snapshot status must be one of 'available' values"))
		}
		if v.Size == 0 {
			v.Size = snap.Size
		}
		if v.Size < snap.Size {
			return nil, invalidInput("Volume size '%d'GB cannot be smaller than the snapshot size %dGB. They must be >= original snapshot size.", v.Size, snap.Size)
		}
		v.SnapshotID = &snap.ID
		src, err := getVolume(ctx, tx, snap.VolumeID, "", true)
		if err == nil {
			v.Bootable = src.Bootable
			v.ImageMetadata = maps.Clone(src.ImageMetadata)
		}
		if srcType, err = s.findType(ctx, tx, adminPrincipal, snap.VolumeTypeID); err != nil {
			return nil, err
		}
	case req.SourceVolID != "":
		src, err := getVolume(ctx, tx, req.SourceVolID, p.ProjectID, p.IsAdmin())
		if err != nil {
			return nil, err
		}
		if src.Status != StatusAvailable && src.Status != StatusInUse {
			return nil, invalidVolume("Originating volume status must be one of 'available, in-use' values")
		}
		if v.Size == 0 {
			v.Size = src.Size
		}
		if v.Size < src.Size {
			return nil, invalidInput("Volume size '%d'GB cannot be smaller than original volume size  %dGB. They must be >= original volume size.", v.Size, src.Size)
		}
		v.SourceVolID = &src.ID
		v.Bootable = src.Bootable
		v.ImageMetadata = maps.Clone(src.ImageMetadata)
		if srcType, err = s.findType(ctx, tx, adminPrincipal, src.VolumeTypeID); err != nil {
			return nil, err
		}
	case req.ImageID != "":
		img, err := s.imageFor(ctx, p, req.ImageID)
		if err != nil {
			return nil, err
		}
		if err := checkImage(img, v.Size); err != nil {
			return nil, err
		}
		v.ImageID = &img.ID
		v.Bootable = true
		v.Status = StatusDownloading
		v.ImageMetadata = imageMetadata(img)
	}
	vt, err := s.volumeType(ctx, tx, p, req.VolumeType, srcType)
	if err != nil {
		return nil, err
	}
	v.VolumeTypeID, v.VolumeTypeName = vt.ID, vt.Name
	if err := checkTypeEncryption(ctx, tx, vt.ID); err != nil {
		return nil, err
	}
	// Cinder's create flow: a volume of a multiattach type is multiattach
	// (the API checks the caller may make one).
	if vt.ExtraSpecs["multiattach"] == "<is> True" {
		v.Multiattach = true
	}
	if err := s.reserve(ctx, tx, v.ProjectID, vt.Name, usageDelta{volumes: 1, gigabytes: int64(v.Size)}, int64(v.Size)); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO volumes (id, project_id, user_id, name, description, size_gb, status,
		attach_status, availability_zone, volume_type_id, bootable, multiattach, image_id, snapshot_id, source_volid,
		consumes_quota, work, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		v.ID, v.ProjectID, v.UserID, v.Name, v.Description, v.Size, v.Status, v.AttachStatus, v.AvailabilityZone,
		v.VolumeTypeID, v.Bootable, v.Multiattach, v.ImageID, v.SnapshotID, v.SourceVolID, v.ConsumesQuota,
		jobJSON(jobCreate), now, now); err != nil {
		if store.IsUniqueViolation(err) {
			return nil, errs.Conflict("Volume %s already exists.", v.ID)
		}
		return nil, fmt.Errorf("create volume: %w", err)
	}
	if err := setMapKeys(ctx, tx, "volume_metadata", "volume_id", v.ID, v.Metadata); err != nil {
		return nil, err
	}
	if err := setMapKeys(ctx, tx, "volume_image_metadata", "volume_id", v.ID, v.ImageMetadata); err != nil {
		return nil, err
	}
	return v, nil
}

// adminPrincipal is the service acting on its own records.
var adminPrincipal = &auth.Principal{UserID: "cinder", Roles: []string{"admin"}}

// volumeType resolves the type asked for (name or id), else the
// source's, else the project's default.
func (s *Service) volumeType(ctx context.Context, tx *store.Tx, p *auth.Principal, ref string, src *VolumeType) (*VolumeType, error) {
	if ref != "" {
		t, err := s.findType(ctx, tx, p, ref)
		if errs.Is(err, errs.KindNotFound) && ref == DefaultTypeName {
			return s.defaultType(ctx, tx)
		}
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid("Invalid volume_type provided: %s (requested type is not compatible; recommend omitting the type argument).", ref)
		}
		return t, err
	}
	if src != nil {
		return src, nil
	}
	t, err := s.projectDefaultType(ctx, tx, p.ProjectID)
	if err != nil {
		return nil, err
	}
	t.ExtraSpecs, err = readMap(ctx, tx, "volume_type_extra_specs", "volume_type_id", t.ID)
	return t, err
}

func (s *Service) imageFor(ctx context.Context, p *auth.Principal, id string) (*image.Image, error) {
	if s.cfg.Images == nil {
		return nil, errs.Named("ImageNotFound", errs.NotFound("Image %s could not be found.", id))
	}
	img, err := s.cfg.Images.Get(ctx, p, id)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.Named("ImageNotFound", errs.NotFound("Image %s could not be found.", id))
	}
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", id, err)
	}
	return img, nil
}

// checkImage is Cinder's check_image_metadata.
func checkImage(img *image.Image, size int) error {
	if img.Status != image.StatusActive {
		return invalidInput("Image %s is not active.", img.ID)
	}
	var bytes int64
	if img.Size != nil {
		bytes = *img.Size
	}
	if gb := (bytes + gib - 1) / gib; gb > int64(size) {
		return invalidInput("Size of specified image %dGB is larger than volume size %dGB.", gb, size)
	}
	if size < img.MinDisk {
		return invalidInput("Volume size %dGB cannot be smaller than the image minDisk size %dGB.", size, img.MinDisk)
	}
	if img.VirtualSize != nil && *img.VirtualSize > 0 {
		if gb := (*img.VirtualSize + gib - 1) / gib; gb > int64(size) {
			return errs.Named("ImageUnacceptable", errs.Invalid("Image %s is unacceptable: Image virtual size is %dGB and doesn't fit in a volume of size %dGB.", img.ID, gb, size))
		}
	}
	return nil
}

// imageMetadata is volume_image_metadata of a volume made from img, as
// Cinder's _capture_volume_image_metadata records it.
func imageMetadata(img *image.Image) map[string]string {
	m := map[string]string{"image_id": img.ID, "min_disk": strconv.Itoa(img.MinDisk), "min_ram": strconv.Itoa(img.MinRAM)}
	if img.Name != nil {
		m["image_name"] = *img.Name
	}
	for k, p := range map[string]*string{"checksum": img.Checksum, "container_format": img.ContainerFormat, "disk_format": img.DiskFormat} {
		if p != nil {
			m[k] = *p
		}
	}
	if img.Size != nil {
		m["size"] = strconv.FormatInt(*img.Size, 10)
	}
	for k, v := range img.Properties {
		if _, core := m[k]; !core {
			m[k] = v
		}
	}
	return m
}

// Get returns a volume p may see (its project's; any for admins).
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*Volume, error) {
	return getVolume(ctx, s.db, id, p.ProjectID, p.IsAdmin())
}

// GetQ is Get in q (the caller's transaction or the database).
func (s *Service) GetQ(ctx context.Context, q store.Querier, p *auth.Principal, id string) (*Volume, error) {
	return getVolume(ctx, q, id, p.ProjectID, p.IsAdmin())
}

// volumeSortKeys are the keys Cinder sorts volumes by.
var volumeSortKeys = map[string]string{
	"id": "v.id", "created_at": "v.created_at", "updated_at": "v.updated_at", "size": "v.size_gb",
	"status": "v.status", "name": "COALESCE(v.name, '')", "display_name": "COALESCE(v.name, '')",
	"description": "COALESCE(v.description, '')", "availability_zone": "v.availability_zone",
	"bootable": "v.bootable", "project_id": "v.project_id", "user_id": "v.user_id",
	"volume_type_id": "v.volume_type_id", "volume_type": "t.name", "attach_status": "v.attach_status",
}

// volumeFilterColumns are the exact-match filters.
var volumeFilterColumns = map[string]string{
	"id": "v.id", "name": "v.name", "display_name": "v.name", "status": "v.status", "project_id": "v.project_id",
	"user_id": "v.user_id", "availability_zone": "v.availability_zone", "size": "v.size_gb",
	"description": "v.description", "display_description": "v.description", "attach_status": "v.attach_status",
	"migration_status": "v.migration_status", "snapshot_id": "v.snapshot_id", "source_volid": "v.source_volid",
	"image_id": "v.image_id",
}

// List lists volumes with Cinder's filters, sorting and paging.
func (s *Service) List(ctx context.Context, p *auth.Principal, opts ListOptions) ([]*Volume, error) {
	where, args, none := volumeWhere(p, opts)
	if none {
		return nil, nil
	}
	page := pageQuery{table: "volumes", alias: "v", sortable: volumeSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	q, qargs, err := page.build(ctx, s.db, `SELECT `+volumeColumns+volumeFrom, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset, volumeNotFound)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []*Volume
	for rows.Next() {
		v, err := scanVolume(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, fillVolumes(ctx, s.db, out)
}

// Count is the number of volumes List would return without paging
// (with_count, 3.45).
func (s *Service) Count(ctx context.Context, p *auth.Principal, opts ListOptions) (int, error) {
	where, args, none := volumeWhere(p, opts)
	if none {
		return 0, nil
	}
	q := `SELECT COUNT(*)` + volumeFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count volumes: %w", err)
	}
	return n, nil
}

// volumeWhere is the WHERE of a listing; none when a filter can match
// nothing.
func volumeWhere(p *auth.Principal, opts ListOptions) ([]string, []any, bool) {
	var where []string
	var args []any
	switch {
	case opts.AllTenants && opts.ProjectID != "":
		where, args = append(where, "v.project_id = ?"), append(args, opts.ProjectID)
	case opts.AllTenants:
	default:
		where, args = append(where, "v.project_id = ?"), append(args, p.ProjectID)
	}
	for k, val := range opts.Filters {
		switch k {
		case "bootable", "multiattach", "consumes_quota":
			b, ok := parseBool(val)
			if !ok {
				return nil, nil, true
			}
			where, args = append(where, "v."+k+" = ?"), append(args, b)
		case "volume_type", "volume_type_id":
			where, args = append(where, "(t.id = ? OR t.name = ?)"), append(args, val, val)
		case "group_id", "host", "cluster_name":
			return nil, nil, true
		default:
			col, ok := volumeFilterColumns[k]
			if !ok {
				return nil, nil, true
			}
			if k == "size" {
				n, err := strconv.Atoi(val)
				if err != nil {
					return nil, nil, true
				}
				where, args = append(where, col+" = ?"), append(args, n)
				continue
			}
			where, args = append(where, col+" = ?"), append(args, val)
		}
	}
	for k, val := range opts.Like {
		col, ok := volumeFilterColumns[k]
		if !ok {
			return nil, nil, true
		}
		where, args = append(where, "COALESCE("+col+", '') LIKE ?"), append(args, "%"+likeEscape(val)+"%")
	}
	for k, val := range opts.Metadata {
		where = append(where, "EXISTS (SELECT 1 FROM volume_metadata m WHERE m.volume_id = v.id AND m.key = ? AND m.value = ?)")
		args = append(args, k, val)
	}
	for k, val := range opts.ImageMetadata {
		where = append(where, "EXISTS (SELECT 1 FROM volume_image_metadata m WHERE m.volume_id = v.id AND m.key = ? AND m.value = ?)")
		args = append(args, k, val)
	}
	return where, args, false
}

// likeEscape drops LIKE's wildcards from a value matched literally.
func likeEscape(s string) string {
	return strings.NewReplacer("%", "", "_", "").Replace(s)
}

// parseBool is oslo's bool_from_string, strictly.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

// Update changes a volume's name, description or metadata.
func (s *Service) Update(ctx context.Context, p *auth.Principal, id string, req UpdateRequest) (*Volume, error) {
	var v *Volume
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if v, err = getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		if v.Status == StatusMaintenance {
			return invalidVolume("The volume cannot be updated during maintenance.")
		}
		if req.Name != nil {
			v.Name = req.Name
		}
		if req.Description != nil {
			v.Description = req.Description
		}
		now := s.ts()
		v.UpdatedAt = store.Time(now)
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET name = ?, description = ?, updated_at = ? WHERE id = ?`,
			v.Name, v.Description, now, id); err != nil {
			return fmt.Errorf("update volume %s: %w", id, err)
		}
		if req.Metadata != nil {
			if err := replaceMap(ctx, tx, "volume_metadata", "volume_id", id, req.Metadata); err != nil {
				return err
			}
			v.Metadata = maps.Clone(req.Metadata)
		}
		return nil
	})
	return v, err
}

// deleteMessage is Cinder's refusal of a volume delete.
const deleteMessage = "Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer."

// Delete deletes a volume: it becomes "deleting" and the worker removes
// its data, then its row. With Cascade its snapshots go first; Force
// (admin) deletes from any status but attached.
func (s *Service) Delete(ctx context.Context, p *auth.Principal, id string, opts DeleteOptions) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.DeleteTx(ctx, tx, p, id, opts)
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// DeleteTx is Delete in the caller's transaction.
func (s *Service) DeleteTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id string, opts DeleteOptions) error {
	v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return err
	}
	deletable := map[string]bool{StatusAvailable: true, StatusError: true, StatusErrorRestoring: true,
		StatusErrorExtending: true, "error_managing": true}
	if opts.Force {
		deletable = nil // any status (deleting too: the delete runs again)
	} else if !deletable[v.Status] {
		return invalidVolume(deleteMessage)
	}
	if v.AttachStatus == AttachAttached || len(v.Attachments) > 0 {
		return invalidVolume(deleteMessage)
	}
	if v.MigrationStatus != nil && *v.MigrationStatus != "" && *v.MigrationStatus != "success" && *v.MigrationStatus != "error" {
		return invalidVolume(deleteMessage)
	}
	var snaps []string
	rows, err := tx.QueryContext(ctx, `SELECT id, status FROM snapshots WHERE volume_id = ?`, id)
	if err != nil {
		return fmt.Errorf("read snapshots of %s: %w", id, err)
	}
	for rows.Next() {
		var sid, st string
		if err := rows.Scan(&sid, &st); err != nil {
			rows.Close()
			return err
		}
		if !opts.Cascade {
			rows.Close()
			return invalidVolume(deleteMessage)
		}
		if st != SnapshotAvailable && st != SnapshotError && st != SnapshotErrorDeleting && st != SnapshotDeleting {
			rows.Close()
			return invalidVolume("Snapshot %s must not be part of a group.", sid)
		}
		snaps = append(snaps, sid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := s.ts()
	for _, sid := range snaps {
		if _, err := tx.ExecContext(ctx, `UPDATE snapshots SET status = ?, work = ?, updated_at = ? WHERE id = ?`,
			SnapshotDeleting, jobJSON(jobDelete), now, sid); err != nil {
			return fmt.Errorf("delete snapshot %s: %w", sid, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, work = ?, updated_at = ? WHERE id = ?`,
		StatusDeleting, v.Status, jobJSON(jobDelete), now, id); err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	return nil
}

// ForceDelete is os-force_delete (admin): Delete with Force.
func (s *Service) ForceDelete(ctx context.Context, p *auth.Principal, id string) error {
	return s.Delete(ctx, p, id, DeleteOptions{Force: true})
}
