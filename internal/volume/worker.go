package volume

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// Worker does the slow part of volume requests: the rows in a transient
// status are its queue (volumes creating, downloading, deleting,
// extending, uploading; snapshots creating, deleting), so work a restart
// interrupted is found and done again. It wakes on Service.Wake and scans
// periodically, running at most Concurrency jobs at once.
type Worker struct {
	s        *Service
	b        Backend
	backups  Backend // the backup store (nil: backups end in error)
	log      *slog.Logger
	servers  ServerEvents // nil: nobody is told
	interval time.Duration
	sem      chan struct{}
	mu       sync.Mutex
	inflight map[string]bool
	wg       sync.WaitGroup
}

// WorkerOptions tune the worker.
type WorkerOptions struct {
	Concurrency int           // jobs at once (default 4)
	Interval    time.Duration // periodic scan (default 10 s)
	Log         *slog.Logger  // default slog.Default()
	// Backups is the backup store (<data-dir>/backups); nil fails backups.
	Backups Backend
}

// NewWorker returns the worker of s's jobs over backend b.
func NewWorker(s *Service, b Backend, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Worker{s: s, b: b, backups: opts.Backups, log: opts.Log, interval: opts.Interval,
		sem: make(chan struct{}, opts.Concurrency), inflight: map[string]bool{}}
}

// TellServers makes the worker tell servers of their in-use volumes that
// grew; call it before Run (the compute service is built after the
// volume service it depends on).
func (w *Worker) TellServers(ev ServerEvents) { w.servers = ev }

// job is one row's pending work.
type job struct {
	key  string // "volume:<id>" or "snapshot:<id>"
	kind string // volume or snapshot
	id   string
}

// Cleaner is a Backend that can remove what interrupted jobs left
// (volfile's temporary files); Run calls it before its first scan.
type Cleaner interface {
	Clean() error
}

// Run works until ctx ends, then waits for the jobs running.
func (w *Worker) Run(ctx context.Context) error {
	for _, b := range []Backend{w.b, w.backups} {
		if c, ok := b.(Cleaner); ok {
			if err := c.Clean(); err != nil {
				w.log.Error("volume worker clean up", "err", err)
			}
		}
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()
	defer w.wg.Wait()
	// Work queued by other processes (PostgreSQL) wakes this worker too.
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.s.db.Subscribe(ctx, volumeChannel, w.log, w.s.wakeLocal, func(string) { w.s.wakeLocal() })
	}()
	for {
		jobs, err := w.pending(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("volume worker scan", "err", err)
		}
		for _, j := range jobs {
			if !w.claim(j) {
				continue
			}
			select {
			case w.sem <- struct{}{}:
			case <-ctx.Done():
				w.release(j)
				return nil
			}
			w.wg.Add(1)
			go func(j job) {
				defer w.wg.Done()
				defer func() { <-w.sem }()
				defer w.release(j)
				w.do(ctx, j)
			}(j)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.s.wake:
		case <-t.C:
		}
	}
}

// Step runs every pending job, one after another, in the caller (tests),
// until none is left; it reports how many ran.
func (w *Worker) Step(ctx context.Context) (int, error) {
	n := 0
	for round := 0; round < 100; round++ {
		jobs, err := w.pending(ctx)
		if err != nil {
			return n, err
		}
		ran := 0
		for _, j := range jobs {
			if !w.claim(j) {
				continue
			}
			w.do(ctx, j)
			w.release(j)
			ran++
		}
		n += ran
		if ran == 0 {
			return n, nil
		}
	}
	return n, nil
}

func (w *Worker) claim(j job) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight[j.key] {
		return false
	}
	w.inflight[j.key] = true
	return true
}

func (w *Worker) release(j job) {
	w.mu.Lock()
	delete(w.inflight, j.key)
	w.mu.Unlock()
}

// pending lists the rows in transient statuses, oldest first. Snapshots
// come before volumes, so a cascade delete removes them first.
func (w *Worker) pending(ctx context.Context) ([]job, error) {
	var jobs []job
	// Only this storage host's rows (and new ones, which it places):
	// another kumo sharing the database keeps its data in its own files.
	pool := w.s.PoolName()
	rows, err := w.s.db.QueryContext(ctx, `SELECT s.id FROM snapshots s WHERE s.status IN (?, ?, ?) AND s.work <> ''
		AND (s.host = ? OR (s.host = '' AND EXISTS (SELECT 1 FROM volumes v WHERE v.id = s.volume_id AND v.host IN ('', ?))))
		ORDER BY s.updated_at`, SnapshotCreating, SnapshotDeleting, SnapshotUnmanaging, pool, pool)
	if err != nil {
		return nil, fmt.Errorf("scan snapshots: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		jobs = append(jobs, job{key: "snapshot:" + id, kind: "snapshot", id: id})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if jobs, err = w.pendingBackups(ctx, jobs); err != nil {
		return nil, err
	}
	rows, err = w.s.db.QueryContext(ctx, `SELECT id FROM volumes WHERE status IN (?, ?, ?, ?, ?, ?, ?, ?) AND work <> ''
		AND host IN ('', ?) ORDER BY updated_at`,
		StatusCreating, StatusDownloading, StatusDeleting, StatusExtending, StatusUploading, StatusReverting,
		StatusManaging, StatusUnmanaging, pool)
	if err != nil {
		return nil, fmt.Errorf("scan volumes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		jobs = append(jobs, job{key: "volume:" + id, kind: "volume", id: id})
	}
	return jobs, rows.Err()
}

// do runs one job; its outcome is in the row.
func (w *Worker) do(ctx context.Context, j job) {
	var err error
	switch j.kind {
	case "snapshot":
		err = w.doSnapshot(ctx, j.id)
	case "backup":
		err = w.doBackup(ctx, j.id)
	default:
		err = w.doVolume(ctx, j.id)
	}
	if err != nil && ctx.Err() == nil {
		w.log.Error("volume job", "kind", j.kind, "id", j.id, "err", err)
	}
	w.s.changed()
}

// row is what the worker reads of a volume or snapshot.
type row struct {
	status, prev, host, location, format, work string
	size                                       int
	projectID, userID                          string
	snapshotID, sourceVolID, imageID, volumeID sql.NullString
}

func (w *Worker) readVolume(ctx context.Context, q store.Querier, id string) (*row, error) {
	var r row
	var prev sql.NullString
	err := q.QueryRowContext(ctx, `SELECT status, previous_status, host, location, format, work, size_gb, project_id, user_id,
		snapshot_id, source_volid, image_id FROM volumes WHERE id = ?`, id).Scan(&r.status, &prev, &r.host, &r.location,
		&r.format, &r.work, &r.size, &r.projectID, &r.userID, &r.snapshotID, &r.sourceVolID, &r.imageID)
	r.prev = prev.String
	return &r, err
}

func (w *Worker) readSnapshot(ctx context.Context, q store.Querier, id string) (*row, error) {
	var r row
	err := q.QueryRowContext(ctx, `SELECT status, host, location, format, size_gb, project_id, user_id, volume_id
		FROM snapshots WHERE id = ?`, id).Scan(&r.status, &r.host, &r.location, &r.format, &r.size, &r.projectID, &r.userID, &r.volumeID)
	return &r, err
}

// place puts a new volume or snapshot on the host, as Cinder's scheduler
// does: false (and status error) when the host lacks the space.
func (w *Worker) place(ctx context.Context, table, id, creating, errStatus string) (bool, error) {
	placed := false
	err := w.s.db.InTx(ctx, func(tx *store.Tx) error {
		var host string
		var size int64
		var status string
		err := tx.QueryRowContext(ctx, `SELECT host, size_gb, status FROM `+table+` WHERE id = ?`, id).Scan(&host, &size, &status)
		if err != nil {
			return err
		}
		if host != "" {
			placed = true
			return nil
		}
		if total := w.s.cfg.CapacityGB; total > 0 {
			used, err := usedGB(ctx, tx)
			if err != nil {
				return err
			}
			if used+size > total {
				_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET status = ?, work = '', updated_at = ? WHERE id = ? AND status = ?`,
					errStatus, w.s.ts(), id, status)
				return err
			}
		}
		placed = true
		_, err = tx.ExecContext(ctx, `UPDATE `+table+` SET host = ?, updated_at = ? WHERE id = ?`, w.s.PoolName(), w.s.ts(), id)
		return err
	})
	return placed, err
}

func (w *Worker) doVolume(ctx context.Context, id string) error {
	r, err := w.readVolume(ctx, w.s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var wk work
	_ = json.Unmarshal([]byte(r.work), &wk)
	switch r.status {
	case StatusDownloading:
		if wk.Job == jobReimage {
			return w.reimageVolume(ctx, id, r, wk)
		}
		return w.createVolume(ctx, id, r)
	case StatusCreating:
		return w.createVolume(ctx, id, r)
	case StatusReverting:
		return w.revertVolume(ctx, id, r, wk)
	case StatusDeleting:
		return w.deleteVolume(ctx, id)
	case StatusExtending:
		return w.extendVolume(ctx, id, r)
	case StatusUploading:
		return w.uploadVolume(ctx, id, r)
	case StatusManaging:
		return w.manageVolume(ctx, id, r)
	case StatusUnmanaging:
		return w.unmanageVolume(ctx, id)
	}
	return nil
}

// finish moves volume id from status from to the outcome's columns.
func (w *Worker) finish(ctx context.Context, table, id, from, set string, args ...any) error {
	args = append(args, w.s.ts(), id, from)
	_, err := w.s.db.ExecContext(ctx, `UPDATE `+table+` SET `+set+`, work = '', updated_at = ? WHERE id = ? AND status = ?`, args...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", table, id, err)
	}
	return nil
}

func (w *Worker) createVolume(ctx context.Context, id string, r *row) error {
	placed, err := w.place(ctx, "volumes", id, r.status, StatusError)
	if err != nil || !placed {
		return err
	}
	d, err := w.writeVolume(ctx, id, r)
	if err != nil {
		if ctx.Err() != nil {
			return err // stopped: the job runs again after a restart
		}
		_ = w.b.Delete(context.WithoutCancel(ctx), volumeName(id))
		if ferr := w.finish(ctx, "volumes", id, r.status, "status = ?", StatusError); ferr != nil {
			return ferr
		}
		return err
	}
	now := w.s.ts()
	return w.finish(ctx, "volumes", id, r.status, "status = ?, location = ?, format = ?, launched_at = ?",
		StatusAvailable, d.Location, d.Format, now)
}

// writeVolume writes a new volume's data from its source.
func (w *Worker) writeVolume(ctx context.Context, id string, r *row) (Disk, error) {
	name := volumeName(id)
	switch {
	case r.snapshotID.Valid:
		src, err := w.readSnapshot(ctx, w.s.db, r.snapshotID.String)
		if err != nil {
			return Disk{}, fmt.Errorf("source snapshot %s: %w", r.snapshotID.String, err)
		}
		return w.b.Clone(ctx, name, Disk{Location: src.location, Format: src.format}, r.size)
	case r.sourceVolID.Valid:
		src, err := w.readVolume(ctx, w.s.db, r.sourceVolID.String)
		if err != nil {
			return Disk{}, fmt.Errorf("source volume %s: %w", r.sourceVolID.String, err)
		}
		if src.location == "" {
			return Disk{}, fmt.Errorf("source volume %s has no data", r.sourceVolID.String)
		}
		return w.b.Clone(ctx, name, Disk{Location: src.location, Format: src.format}, r.size)
	case r.imageID.Valid:
		return w.fromImage(ctx, id, r, r.imageID.String)
	}
	return w.b.Create(ctx, name, r.size)
}

// fromImage writes image imageID into volume id's disk.
func (w *Worker) fromImage(ctx context.Context, id string, r *row, imageID string) (Disk, error) {
	if w.s.cfg.Images == nil {
		return Disk{}, errors.New("no image service")
	}
	data, err := w.s.cfg.Images.Open(ctx, systemPrincipal(r.projectID, r.userID), imageID)
	if err != nil {
		return Disk{}, fmt.Errorf("open image %s: %w", imageID, err)
	}
	if data == nil {
		return Disk{}, fmt.Errorf("image %s has no data", imageID)
	}
	defer data.Close()
	md, err := readMap(ctx, w.s.db, "volume_image_metadata", "volume_id", id)
	if err != nil {
		return Disk{}, err
	}
	return w.b.CreateFromImage(ctx, volumeName(id), data, md["disk_format"], r.size)
}

func (w *Worker) deleteVolume(ctx context.Context, id string) error {
	// A cascade delete's snapshots go first. Their jobs run beside this
	// one and remove their rows at any moment, so one statement counts
	// both: two would see a snapshot that has gone since as one that
	// is not being deleted.
	var snaps, others int
	if err := w.s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN status <> ? THEN 1 END)
		FROM snapshots WHERE volume_id = ?`, SnapshotDeleting, id).Scan(&snaps, &others); err != nil {
		return err
	}
	if others > 0 {
		return w.finish(ctx, "volumes", id, StatusDeleting, "status = ?", StatusErrorDeleting)
	}
	if snaps > 0 {
		return nil // the next round, after the snapshots
	}
	if err := w.b.Delete(ctx, volumeName(id)); err != nil {
		if ctx.Err() != nil {
			return err
		}
		if ferr := w.finish(ctx, "volumes", id, StatusDeleting, "status = ?", StatusErrorDeleting); ferr != nil {
			return ferr
		}
		return err
	}
	if _, err := w.s.db.ExecContext(ctx, `DELETE FROM volumes WHERE id = ? AND status = ?`, id, StatusDeleting); err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	return nil
}

func (w *Worker) extendVolume(ctx context.Context, id string, r *row) error {
	var wk work
	if err := json.Unmarshal([]byte(r.work), &wk); err != nil || wk.Size <= 0 {
		return w.finish(ctx, "volumes", id, StatusExtending, "status = ?", StatusErrorExtending)
	}
	inUse := statusFor(r.prev) == StatusInUse
	err := w.b.Extend(ctx, Disk{Location: r.location, Format: r.format}, wk.Size)
	if err != nil && !(inUse && errors.Is(err, ErrDiskHeld)) {
		if ctx.Err() != nil {
			return err
		}
		if ferr := w.finish(ctx, "volumes", id, StatusExtending, "status = ?", StatusErrorExtending); ferr != nil {
			return ferr
		}
		return err
	}
	if err := w.finish(ctx, "volumes", id, StatusExtending, "status = ?, size_gb = ?", statusFor(r.prev), wk.Size); err != nil {
		return err
	}
	if inUse {
		w.volumeExtended(ctx, id)
	}
	return nil
}

// volumeExtended tells the servers an in-use volume is attached to that
// it grew, as Cinder's volume manager sends Nova "volume-extended" after
// an online extend (whose failure Cinder only logs): their hypervisor
// lets the guest see the new size, growing a disk it holds itself.
func (w *Worker) volumeExtended(ctx context.Context, id string) {
	if w.servers == nil {
		return
	}
	rows, err := w.s.db.QueryContext(ctx, `SELECT instance_uuid FROM volume_attachments
		WHERE volume_id = ? AND attach_status = ? AND instance_uuid IS NOT NULL ORDER BY created_at, id`, id, AttachAttached)
	if err != nil {
		w.log.Error("volume extended: read attachments", "volume", id, "err", err)
		return
	}
	var servers []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			w.log.Error("volume extended: read attachments", "volume", id, "err", err)
			return
		}
		servers = append(servers, s)
	}
	rows.Close()
	if len(servers) == 0 {
		return
	}
	if err := w.servers.VolumeExtended(ctx, id, servers); err != nil {
		w.log.Error("volume extended: tell the servers", "volume", id, "servers", servers, "err", err)
	}
}

func (w *Worker) uploadVolume(ctx context.Context, id string, r *row) error {
	var wk work
	back := statusFor(r.prev)
	if err := json.Unmarshal([]byte(r.work), &wk); err != nil || wk.ImageID == "" || w.s.cfg.Images == nil {
		return w.finish(ctx, "volumes", id, StatusUploading, "status = ?", back)
	}
	err := w.upload(ctx, r, wk)
	if err != nil && ctx.Err() != nil {
		return err
	}
	if err != nil {
		// Cinder deletes the image a failed upload leaves.
		_ = w.s.cfg.Images.DeleteSnapshot(context.WithoutCancel(ctx), wk.ImageID)
	}
	if ferr := w.finish(ctx, "volumes", id, StatusUploading, "status = ?", back); ferr != nil {
		return ferr
	}
	return err
}

func (w *Worker) upload(ctx context.Context, r *row, wk work) error {
	data, err := w.b.Open(ctx, Disk{Location: r.location, Format: r.format}, wk.DiskFormat)
	if err != nil {
		return fmt.Errorf("read volume: %w", err)
	}
	defer data.Close()
	if _, err := w.s.cfg.Images.UploadSnapshot(ctx, wk.ImageID, wk.DiskFormat, data); err != nil {
		return fmt.Errorf("upload to image %s: %w", wk.ImageID, err)
	}
	return nil
}

func (w *Worker) doSnapshot(ctx context.Context, id string) error {
	r, err := w.readSnapshot(ctx, w.s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	switch r.status {
	case SnapshotUnmanaging:
		return w.unmanageSnapshot(ctx, id)
	case SnapshotCreating:
		placed, err := w.place(ctx, "snapshots", id, SnapshotCreating, SnapshotError)
		if err != nil || !placed {
			return err
		}
		src, err := w.readVolume(ctx, w.s.db, r.volumeID.String)
		if err == nil && src.location == "" {
			err = fmt.Errorf("volume %s has no data", r.volumeID.String)
		}
		var d Disk
		if err == nil {
			d, err = w.b.Clone(ctx, snapshotName(id), Disk{Location: src.location, Format: src.format}, r.size)
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			_ = w.b.Delete(context.WithoutCancel(ctx), snapshotName(id))
			if ferr := w.finish(ctx, "snapshots", id, SnapshotCreating, "status = ?", SnapshotError); ferr != nil {
				return ferr
			}
			return err
		}
		return w.finish(ctx, "snapshots", id, SnapshotCreating, "status = ?, progress = ?, location = ?, format = ?",
			SnapshotAvailable, "100%", d.Location, d.Format)
	case SnapshotDeleting:
		if err := w.b.Delete(ctx, snapshotName(id)); err != nil {
			if ctx.Err() != nil {
				return err
			}
			if ferr := w.finish(ctx, "snapshots", id, SnapshotDeleting, "status = ?", SnapshotErrorDeleting); ferr != nil {
				return ferr
			}
			return err
		}
		if _, err := w.s.db.ExecContext(ctx, `DELETE FROM snapshots WHERE id = ? AND status = ?`, id, SnapshotDeleting); err != nil {
			return fmt.Errorf("delete snapshot %s: %w", id, err)
		}
		// A cascade-deleted volume waits for its snapshots.
		w.s.Wake()
	}
	return nil
}

// reimageVolume writes the image into the volume in place of its data.
func (w *Worker) reimageVolume(ctx context.Context, id string, r *row, wk work) error {
	back := r.prev
	if back == "" || back == StatusError {
		back = StatusAvailable
	}
	d, err := w.fromImage(ctx, id, r, wk.ImageID)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if ferr := w.finish(ctx, "volumes", id, StatusDownloading, "status = ?, previous_status = ?", StatusError, r.prev); ferr != nil {
			return ferr
		}
		return err
	}
	return w.finish(ctx, "volumes", id, StatusDownloading, "status = ?, location = ?, format = ?, bootable = ?", back, d.Location, d.Format, true)
}

// revertVolume copies the snapshot's data over the volume's.
func (w *Worker) revertVolume(ctx context.Context, id string, r *row, wk work) error {
	src, err := w.readSnapshot(ctx, w.s.db, wk.SnapshotID)
	var d Disk
	if err == nil {
		d, err = w.b.Clone(ctx, volumeName(id), Disk{Location: src.location, Format: src.format}, r.size)
	}
	if err != nil && ctx.Err() != nil {
		return err
	}
	status := StatusAvailable
	if err != nil {
		status = StatusError
		d = Disk{Location: r.location, Format: r.format}
	}
	if _, serr := w.s.db.ExecContext(ctx, `UPDATE snapshots SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
		SnapshotAvailable, w.s.ts(), wk.SnapshotID, SnapshotRestoring); serr != nil {
		return serr
	}
	if ferr := w.finish(ctx, "volumes", id, StatusReverting, "status = ?, location = ?, format = ?", status, d.Location, d.Format); ferr != nil {
		return ferr
	}
	return err
}
