package volume

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Cinder's statuses of managing and unmanaging: the API shows
// "managing" as "creating" and "error_managing" as "error".
const (
	StatusManaging      = "managing"
	StatusErrorManaging = "error_managing"
	StatusUnmanaging    = "unmanaging"
	SnapshotUnmanaging  = "unmanaging"
)

// Jobs of manage and unmanage.
const (
	jobManage   = "manage"
	jobUnmanage = "unmanage"
)

// Inventory is a Backend that can list the disks it keeps and adopt one
// under a volume's name, as Cinder's LVM driver lists its logical
// volumes and renames the one it manages. volfile implements it.
type Inventory interface {
	// Disks lists every disk kept, volumes' and snapshots' alike.
	Disks(ctx context.Context) ([]StoredDisk, error)
	// Adopt renames source's disk to name's and returns it; ErrNoDisk
	// when there is no source (and no name: a rename a crash
	// interrupted is done).
	Adopt(ctx context.Context, source, name string) (StoredDisk, error)
}

// ErrNoDisk is an Inventory's answer for a disk it does not keep.
var ErrNoDisk = errors.New("no such disk")

// StoredDisk is one disk an Inventory keeps.
type StoredDisk struct {
	Name string // "volume-<id>", the reference's source-name
	Disk
	Bytes int64 // virtual size
}

// Manageable is one disk of GET /manageable_volumes, as Cinder's LVM
// driver reports its logical volumes.
type Manageable struct {
	SourceName    string // reference {"source-name": ...}
	Size          int    // GiB, rounded up
	SafeToManage  bool
	ReasonNotSafe *string
	CinderID      *string
}

// ManageableOptions sort and page the listing: Sort keys are reference
// and size; Marker is a reference's source-name (nil: none).
type ManageableOptions struct {
	Sort   []SortKey
	Marker *string
	Limit  int
	Offset int
}

// ManageRequest is POST /manageable_volumes: Ref is the driver's
// reference ({"source-name": "<disk>"}), Host or Cluster the service.
type ManageRequest struct {
	Host             string
	Cluster          string
	Ref              map[string]any
	Name             *string
	Description      *string
	VolumeType       string
	AvailabilityZone *string
	Bootable         bool
	Metadata         map[string]string
}

// manageWork is the work column of a volume being managed.
type manageWork struct {
	Job string         `json:"job"`
	Ref map[string]any `json:"ref"`
}

// checkService is Cinder's _get_service_by_host_cluster: the volume
// service of host (host@backend, a pool after '#' aside) or of cluster.
// kumo's service has no cluster. notFound is the error of a miss.
func (s *Service) checkService(host, cluster string, notFound func() error) error {
	if cluster != "" {
		return notFound()
	}
	backend, _, _ := strings.Cut(host, "#")
	name, _, _ := cutAt(s.cfg.Host)
	if backend == s.cfg.Host || backend == name {
		return nil
	}
	return notFound()
}

// ManageableVolumes lists the disks of host (or cluster) not snapshots',
// those a volume owns as not safe ("already managed"), as Cinder's LVM
// driver does; sorted and paged as paginate_entries_list does.
func (s *Service) ManageableVolumes(ctx context.Context, host, cluster string, opts ManageableOptions) ([]Manageable, error) {
	err := s.checkService(host, cluster, func() error {
		if cluster != "" {
			return errs.Named("ServiceNotFound", errs.NotFound("Service None could not be found."))
		}
		return errs.Named("ServiceNotFound", errs.NotFound("Service None could not be found on host %s.", host))
	})
	if err != nil {
		return nil, err
	}
	var disks []StoredDisk
	if s.cfg.Inventory != nil {
		if disks, err = s.cfg.Inventory.Disks(ctx); err != nil {
			return nil, fmt.Errorf("list the backend's disks: %w", err)
		}
	}
	owned := map[string]bool{}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM volumes`)
	if err != nil {
		return nil, fmt.Errorf("read volume ids: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		owned[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Manageable{}
	for _, d := range disks {
		if strings.HasPrefix(d.Name, "snapshot-") {
			continue
		}
		m := Manageable{SourceName: d.Name, Size: int((d.Bytes + gib - 1) / gib), SafeToManage: true}
		if id, ok := strings.CutPrefix(d.Name, "volume-"); ok && owned[id] {
			m.SafeToManage, m.ReasonNotSafe, m.CinderID = false, ptrTo("already managed"), ptrTo(id)
		}
		out = append(out, m)
	}
	sortKeys := opts.Sort
	if len(sortKeys) == 0 {
		sortKeys = []SortKey{{Key: "reference", Dir: "desc"}}
	}
	slices.SortStableFunc(out, func(a, b Manageable) int {
		for _, k := range sortKeys {
			c := 0
			if k.Key == "size" {
				c = cmp.Compare(a.Size, b.Size)
			} else {
				c = cmp.Compare(a.SourceName, b.SourceName)
			}
			if k.Dir == "desc" {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	start := 0
	if opts.Marker != nil {
		i := slices.IndexFunc(out, func(m Manageable) bool { return m.SourceName == *opts.Marker })
		if i < 0 {
			return nil, invalidInput("marker not found: {'source-name': '%s'}", *opts.Marker)
		}
		start = i + 1
	}
	lo, hi := min(start+opts.Offset, len(out)), min(start+opts.Offset+opts.Limit, len(out))
	return out[lo:hi], nil
}

func ptrTo[T any](v T) *T { return &v }

// Manage takes a disk of the backend into a new volume of p's project,
// as Cinder's manage_existing: the volume is "managing" (shown as
// "creating") until the worker has renamed the disk to the volume's
// and counted it in the project's quota; a reference the backend does
// not know leaves it "error_managing" (shown as "error"), as the volume
// manager does.
func (s *Service) Manage(ctx context.Context, p *auth.Principal, req ManageRequest) (*Volume, error) {
	var v *Volume
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if name, ok := req.Ref["source-name"].(string); ok {
			if id, ok := strings.CutPrefix(name, "volume-"); ok {
				if _, err := getVolume(ctx, tx, id, "", true); err == nil {
					return invalidVolume("Unable to manage existing volume. The volume is already managed")
				} else if !errs.Is(err, errs.KindNotFound) {
					return err
				}
			}
		}
		var vt *VolumeType
		var err error
		if req.VolumeType != "" {
			vt, err = s.findType(ctx, tx, p, req.VolumeType)
			if errs.Is(err, errs.KindNotFound) {
				return errs.Named("InvalidVolumeType", errs.Invalid("Invalid volume type: Cannot find requested '%s' volume type", req.VolumeType))
			}
		} else {
			vt, err = s.volumeType(ctx, tx, p, "", nil)
		}
		if err != nil {
			return err
		}
		if err := s.checkService(req.Host, req.Cluster, func() error {
			if req.Cluster != "" {
				return errs.Named("ServiceUnavailable", errs.Invalid("Cluster '%s' not found", req.Cluster))
			}
			return errs.Named("ServiceUnavailable", errs.Invalid("Host '%s' not found", req.Host))
		}); err != nil {
			return err
		}
		zone := s.cfg.AvailabilityZone
		if req.AvailabilityZone != nil {
			zone = *req.AvailabilityZone
		}
		now := s.ts()
		v = &Volume{
			ID: uuid.NewString(), ProjectID: p.ProjectID, UserID: p.UserID, Name: req.Name, Description: req.Description,
			Status: StatusManaging, AttachStatus: AttachDetached, AvailabilityZone: zone,
			VolumeTypeID: vt.ID, VolumeTypeName: vt.Name, Bootable: req.Bootable,
			Multiattach: vt.ExtraSpecs["multiattach"] == "<is> True", Host: s.PoolName(),
			Metadata: maps.Clone(req.Metadata), ImageMetadata: map[string]string{}, AdminMetadata: map[string]string{},
			CreatedAt: store.Time(now), UpdatedAt: store.Time(now),
		}
		if v.Metadata == nil {
			v.Metadata = map[string]string{}
		}
		wk, err := json.Marshal(manageWork{Job: jobManage, Ref: req.Ref})
		if err != nil {
			return fmt.Errorf("manage: %w", err)
		}
		// Size 0 and no quota until the worker knows the disk, as
		// Cinder's manage flow reserves it once the driver gave the size.
		if _, err := tx.ExecContext(ctx, `INSERT INTO volumes (id, project_id, user_id, name, description, size_gb, status,
			attach_status, availability_zone, volume_type_id, bootable, multiattach, host, consumes_quota, work, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			v.ID, v.ProjectID, v.UserID, v.Name, v.Description, 0, v.Status, v.AttachStatus, v.AvailabilityZone,
			v.VolumeTypeID, v.Bootable, v.Multiattach, v.Host, false, string(wk), now, now); err != nil {
			return fmt.Errorf("manage volume: %w", err)
		}
		return setMapKeys(ctx, tx, "volume_metadata", "volume_id", v.ID, v.Metadata)
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return v, nil
}

// Unmanage is os-unmanage (admin): the volume leaves kumo, as Cinder's
// delete with unmanage_only — "unmanaging", then its row goes (and with
// it its quota) while its disk stays in the backend, manageable again.
func (s *Service) Unmanage(ctx context.Context, p *auth.Principal, id string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Host == "" {
			// Never placed: nothing in the backend, the row just goes.
			_, err := tx.ExecContext(ctx, `DELETE FROM volumes WHERE id = ?`, id)
			return err
		}
		ok := map[string]bool{StatusAvailable: true, StatusError: true, StatusErrorRestoring: true,
			StatusErrorExtending: true, StatusErrorManaging: true}[v.Status]
		migrating := v.MigrationStatus != nil && *v.MigrationStatus != "" && *v.MigrationStatus != "success" && *v.MigrationStatus != "error"
		var snaps int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM snapshots WHERE volume_id = ?`, id).Scan(&snaps); err != nil {
			return fmt.Errorf("read snapshots of %s: %w", id, err)
		}
		if !ok || migrating || v.AttachStatus == AttachAttached || len(v.Attachments) > 0 || snaps > 0 {
			return invalidVolume("Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.")
		}
		_, err = tx.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, work = ?, updated_at = ? WHERE id = ?`,
			StatusUnmanaging, v.Status, jobJSON(jobUnmanage), s.ts(), id)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// UnmanageSnapshot is the snapshot's os-unmanage (admin): "unmanaging",
// then the row goes while the snapshot's disk stays in the backend.
func (s *Service) UnmanageSnapshot(ctx context.Context, p *auth.Principal, id string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sn, err := getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if sn.Status != SnapshotAvailable && sn.Status != SnapshotError {
			return invalidSnapshot("Snapshot status must be available or error and must not be part of a group.")
		}
		_, err = tx.ExecContext(ctx, `UPDATE snapshots SET status = ?, work = ?, updated_at = ? WHERE id = ?`,
			SnapshotUnmanaging, jobJSON(jobUnmanage), s.ts(), id)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// unmanageVolume drops the row of an unmanaged volume, leaving its disk.
func (w *Worker) unmanageVolume(ctx context.Context, id string) error {
	if _, err := w.s.db.ExecContext(ctx, `DELETE FROM volumes WHERE id = ? AND status = ?`, id, StatusUnmanaging); err != nil {
		return fmt.Errorf("unmanage volume %s: %w", id, err)
	}
	return nil
}

// unmanageSnapshot drops the row of an unmanaged snapshot.
func (w *Worker) unmanageSnapshot(ctx context.Context, id string) error {
	if _, err := w.s.db.ExecContext(ctx, `DELETE FROM snapshots WHERE id = ? AND status = ?`, id, SnapshotUnmanaging); err != nil {
		return fmt.Errorf("unmanage snapshot %s: %w", id, err)
	}
	return nil
}

// manageVolume adopts the disk a managing volume's reference names: its
// size (rounded up to GiB) is checked against the project's quota, the
// disk renamed to the volume's, and the volume becomes available. A bad
// reference, a disk another volume owns or a quota exceeded leave it
// "error_managing", as Cinder's manage flow does.
func (w *Worker) manageVolume(ctx context.Context, id string, r *row) error {
	var wk manageWork
	_ = json.Unmarshal([]byte(r.work), &wk)
	fail := func(cause error) error {
		if ferr := w.finish(ctx, "volumes", id, StatusManaging, "status = ?", StatusErrorManaging); ferr != nil {
			return ferr
		}
		return fmt.Errorf("manage volume %s: %w", id, cause)
	}
	inv, ok := w.b.(Inventory)
	if !ok {
		return fail(errors.New("the backend cannot manage existing disks"))
	}
	source, _ := wk.Ref["source-name"].(string)
	if source == "" {
		return fail(fmt.Errorf("Manage existing volume failed due to invalid backend reference %v: Reference must contain source-name element.", wk.Ref))
	}
	if sid, ok := strings.CutPrefix(source, "volume-"); ok && sid != id {
		if _, err := getVolume(ctx, w.s.db, sid, "", true); err == nil {
			return fail(fmt.Errorf("Failed to manage existing volume due to the volume to be managed is already managed: %s", source))
		}
	}
	if sid, ok := strings.CutPrefix(source, "snapshot-"); ok {
		if _, err := getSnapshot(ctx, w.s.db, sid, "", true); err == nil {
			return fail(fmt.Errorf("manage existing volume: %s is a snapshot's disk", source))
		}
	}
	var vtName string
	if err := w.s.db.QueryRowContext(ctx, `SELECT name FROM volume_types WHERE id = (SELECT volume_type_id FROM volumes WHERE id = ?)`, id).Scan(&vtName); err != nil {
		return fmt.Errorf("manage volume %s: read its type: %w", id, err)
	}
	// The size first, from the listing, so a disk over quota stays where
	// it is (Cinder reserves the quota before the driver renames).
	disks, err := inv.Disks(ctx)
	if err != nil {
		return fmt.Errorf("manage volume %s: %w", id, err)
	}
	name := volumeName(id)
	var found *StoredDisk
	for i := range disks {
		if disks[i].Name == source || (found == nil && disks[i].Name == name) {
			found = &disks[i]
		}
	}
	if found == nil {
		return fail(fmt.Errorf("Manage existing volume failed due to invalid backend reference %s: Specified logical volume does not exist.", source))
	}
	size := int((found.Bytes + gib - 1) / gib)
	if size < 1 {
		size = 1
	}
	if err := w.s.db.InTx(ctx, func(tx *store.Tx) error {
		return w.s.reserve(ctx, tx, r.projectID, vtName, usageDelta{volumes: 1, gigabytes: int64(size)}, int64(size))
	}); err != nil {
		if errs.KindOf(err) == errs.KindOverQuota {
			return fail(err)
		}
		return err
	}
	d, err := inv.Adopt(ctx, source, name)
	if errors.Is(err, ErrNoDisk) {
		return fail(fmt.Errorf("Manage existing volume failed due to invalid backend reference %s: Specified logical volume does not exist.", source))
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fail(err)
	}
	// The quota again with the volume's new row, in one transaction: a
	// concurrent manage or create may have taken it since.
	err = w.s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := w.s.reserve(ctx, tx, r.projectID, vtName, usageDelta{volumes: 1, gigabytes: int64(size)}, int64(size)); err != nil {
			return err
		}
		now := w.s.ts()
		_, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, size_gb = ?, location = ?, format = ?, consumes_quota = ?,
			launched_at = ?, work = '', updated_at = ? WHERE id = ? AND status = ?`,
			StatusAvailable, size, d.Location, d.Format, true, now, now, id, StatusManaging)
		return err
	})
	if errs.KindOf(err) == errs.KindOverQuota {
		// The disk goes back to its name, manageable again.
		if _, berr := inv.Adopt(context.WithoutCancel(ctx), name, source); berr != nil {
			return fmt.Errorf("manage volume %s: %w; and renaming it back: %v", id, err, berr)
		}
		return fail(err)
	}
	if err != nil {
		return fmt.Errorf("manage volume %s: %w", id, err)
	}
	return nil
}
