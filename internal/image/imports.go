package image

// Glance's interoperable import (glance/api/v2/images.py import_image and
// glance/async_/flows/api_image_import.py), for a site without multiple
// stores: glance-direct moves staged data into the store, web-download
// fetches a URL into the staging area first. POST .../import checks the
// request, records a pending task and takes the image's import lock
// (os_glance_import_task); a bounded pool of workers (RunImports) claims
// pending tasks from the database, so accepted work survives a restart;
// a task a restart interrupts mid-way fails (Recover), the image going
// back to queued, as Glance's reverted flow leaves it.

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Import methods.
const (
	MethodGlanceDirect = "glance-direct"
	MethodWebDownload  = "web-download"
)

// ImportMethods are the enabled import methods (Glance's
// enabled_import_methods less copy-image, which needs several stores).
var ImportMethods = []string{MethodGlanceDirect, MethodWebDownload}

// Properties Glance keeps an import's progress in.
const (
	propImportTask      = "os_glance_import_task"
	propImportingStores = "os_glance_importing_to_stores"
	propFailedImport    = "os_glance_failed_import"
)

// importLockExpiry is how old a task's last update must be before its
// import lock may be taken over (doubled for a pending task), as Glance.
const importLockExpiry = 60 * time.Minute

// ImportFilter is Glance's [import_filtering_opts]: which URIs
// web-download may fetch. An allowed list, when set, wins over the
// matching disallowed one.
type ImportFilter struct {
	AllowedSchemes, DisallowedSchemes []string
	AllowedHosts, DisallowedHosts     []string
	AllowedPorts, DisallowedPorts     []int
}

// DefaultImportFilter is Glance's default: http and https on ports 80
// and 443.
func DefaultImportFilter() ImportFilter {
	return ImportFilter{AllowedSchemes: []string{"http", "https"}, AllowedPorts: []int{80, 443}}
}

// Allows is Glance's validate_import_uri.
func (f ImportFilter) Allows(uri string) bool {
	if uri == "" {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return false
	}
	bl := f.DisallowedSchemes
	if len(f.AllowedSchemes) > 0 {
		bl = nil
	}
	if (len(f.AllowedSchemes) > 0 && !slices.Contains(f.AllowedSchemes, u.Scheme)) || slices.Contains(bl, u.Scheme) {
		return false
	}
	host := normalizeHost(u.Hostname())
	blh := f.DisallowedHosts
	if len(f.AllowedHosts) > 0 {
		blh = nil
	}
	if host == "" || (len(f.AllowedHosts) > 0 && !slices.Contains(f.AllowedHosts, host)) || slices.Contains(blh, host) {
		return false
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		blp := f.DisallowedPorts
		if len(f.AllowedPorts) > 0 {
			blp = nil
		}
		if (len(f.AllowedPorts) > 0 && !slices.Contains(f.AllowedPorts, port)) || slices.Contains(blp, port) {
			return false
		}
	}
	return true
}

// normalizeHost is Glance's normalize_hostname: addresses in their
// canonical form, names lower-cased; "" for what is neither.
func normalizeHost(h string) string {
	if h == "" {
		return ""
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.ToLower(h)
}

// ImportRequest is a POST /v2/images/{id}/import body, already checked
// for shape; Body is the request as sent, kept in the task's input.
type ImportRequest struct {
	Method string
	URI    string
	// AllStoresMustSucceed is false only when the body says so.
	AllStoresMustSucceed bool
	Body                 map[string]any
	RequestID            string
}

// Import starts importing an image's data: it checks the request as
// Glance does, records a pending api_image_import task, takes the
// image's import lock and marks it importing, and hands the task to the
// import workers. It returns the task.
func (s *Service) Import(ctx context.Context, p *auth.Principal, id string, req ImportRequest) (*Task, error) {
	if !slices.Contains(ImportMethods, req.Method) {
		return nil, errs.Invalid("Unknown import method name '%s'.", req.Method)
	}
	owner := projectOf(p)
	if err := s.enforce(ctx, s.db, owner, map[string]int64{QuotaImageSizeTotal: 0}); err != nil {
		return nil, err
	}
	now := store.Now()
	t := &Task{ID: uuid.NewString(), Type: TaskTypeAPIImageImport, Status: TaskPending, Owner: owner, ImageID: id,
		RequestID: req.RequestID, UserID: userOf(p), CreatedAt: now, UpdatedAt: now,
		Input: map[string]any{"image_id": id, "import_req": req.Body, "backend": []any{nil}}}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		img, err := getVisible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		switch {
		case img.Status == StatusActive:
			return errs.Conflict("Image with status active cannot be target for import")
		case req.Method == MethodWebDownload && img.Status != StatusQueued:
			return errs.Conflict("Image needs to be in 'queued' state to use '%s' method", req.Method)
		case req.Method == MethodGlanceDirect && img.Status != StatusUploading:
			return errs.Conflict("Image needs to be staged before 'glance-direct' method can be used")
		case img.ContainerFormat == nil:
			return errs.Conflict("'container_format' needs to be set before import")
		case img.DiskFormat == nil:
			return errs.Conflict("'disk_format' needs to be set before import")
		}
		if !canModify(p, img) {
			return notAuthorized("modify_image")
		}
		if t.Owner == "" {
			t.Owner = img.Owner
		}
		if other, held := img.Properties[propImportTask]; held {
			if err := s.bustImportLock(ctx, tx, id, other); err != nil {
				return err
			}
		}
		if !req.AllStoresMustSucceed {
			return errs.Invalid("All_stores_must_succeed can only be set with enabled_backends %s", cmp.Or(req.URI, "None"))
		}
		if req.Method == MethodWebDownload && !s.ImportFilter.Allows(req.URI) {
			return errs.Invalid("URI for web-download does not pass filtering: %s", req.URI)
		}
		if err := insertTask(ctx, tx, t); err != nil {
			return err
		}
		// The lock, and what Glance's flow sets as it starts: the image
		// importing, no store importing or failed (kumo has one store,
		// which Glance leaves out of these lists).
		res, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE id = ? AND status = ? AND deleted = FALSE`,
			StatusImporting, now, id, img.Status)
		if err != nil {
			return fmt.Errorf("start import of image %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Conflict("New operation on image '%s' is not permitted as prior operation is still in progress", id)
		}
		for k, v := range map[string]string{propImportTask: t.ID, propImportingStores: "", propFailedImport: ""} {
			if err := setProperty(ctx, tx, id, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wakeImports()
	return t, nil
}

func userOf(p *auth.Principal) string {
	if p == nil {
		return ""
	}
	return p.UserID
}

// setProperty sets one image property.
func setProperty(ctx context.Context, tx *store.Tx, id, name, value string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ? AND name = ?`, id, name); err != nil {
		return fmt.Errorf("set image property %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value) VALUES (?,?,?)`, id, name, value); err != nil {
		return fmt.Errorf("set image property %s: %w", name, err)
	}
	return nil
}

// bustImportLock is Glance's _enforce_import_lock: a lock whose task is
// gone, or ended or stalled for longer than the expiry, is taken over;
// otherwise the image has an active task (409).
func (s *Service) bustImportLock(ctx context.Context, tx *store.Tx, imageID, taskID string) error {
	var status string
	var updated int64
	err := tx.QueryRowContext(ctx, `SELECT status, updated_at FROM image_tasks WHERE id = ?`, taskID).Scan(&status, &updated)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("check import lock of image %s: %w", imageID, err)
	}
	if err == nil {
		expiry := importLockExpiry
		if status == TaskPending {
			expiry *= 2
		}
		if time.Duration(store.Now()-updated)*time.Microsecond < expiry {
			return errs.Conflict("Image has active task")
		}
		if status == TaskPending || status == TaskProcessing {
			if err := finishTask(ctx, tx, taskID, TaskFailure, nil, "Expired lock preempted"); err != nil {
				return err
			}
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ? AND name = ?`, imageID, propImportTask)
	if err != nil {
		return fmt.Errorf("drop import lock of image %s: %w", imageID, err)
	}
	return nil
}

// wakeImports tells an idle import worker there is work.
func (s *Service) wakeImports() {
	select {
	case s.importWake <- struct{}{}:
	default:
	}
}

// importPoll is how often idle workers look for pending tasks they
// were not woken for (tasks recorded by another process, or left
// pending by a restart).
const importPoll = 5 * time.Second

// RunImports runs the import workers until ctx ends: ImportWorkers
// goroutines each claim the oldest pending task and run it to its end.
// It returns when every worker has stopped.
func (s *Service) RunImports(ctx context.Context) {
	n := max(s.ImportWorkers, 1)
	done := make(chan struct{}, n)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			s.importWorker(ctx)
		}()
	}
	for range n {
		<-done
	}
}

func (s *Service) importWorker(ctx context.Context) {
	tick := time.NewTicker(importPoll)
	defer tick.Stop()
	for ctx.Err() == nil {
		t, err := s.claimTask(ctx)
		if err == nil && t != nil {
			s.runTask(ctx, t)
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.importWake:
		case <-tick.C:
		}
	}
}

// claimTask moves the oldest pending task to processing; nil when there
// is none (or another worker took it first).
func (s *Service) claimTask(ctx context.Context) (*Task, error) {
	var t *Task
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM image_tasks WHERE status = ?
			ORDER BY created_at, id LIMIT 1`, TaskPending)
		found, err := scanTask(row)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find pending task: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE image_tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			TaskProcessing, store.Now(), found.ID, TaskPending)
		if err != nil {
			return fmt.Errorf("claim task %s: %w", found.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			t = found
		}
		return nil
	})
	return t, err
}

// taskError is a task's failure with the message its record shows.
type taskError struct{ msg string }

func (e *taskError) Error() string { return e.msg }

func taskFailed(format string, args ...any) error { return &taskError{fmt.Sprintf(format, args...)} }

// runTask runs a claimed task within ImportTimeout and records how it
// ended.
func (s *Service) runTask(ctx context.Context, t *Task) {
	ctx, cancel := context.WithTimeout(ctx, s.ImportTimeout)
	defer cancel()
	err := s.importData(ctx, t)
	if err == nil {
		return
	}
	// The process is stopping: the task stays processing and Recover
	// fails it at the next start, as an interrupted one.
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return
	}
	msg := err.Error()
	var te *taskError
	var ke *errs.Error
	switch {
	case errors.As(err, &te):
	case errors.As(err, &ke):
		msg = ke.Message
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("Import timed out after %s", s.ImportTimeout)
	}
	if ferr := s.failImport(context.WithoutCancel(ctx), t, msg); ferr != nil {
		s.logf("image import task %s: %v", t.ID, ferr)
	}
}

// importData is the flow: check the lock and the quotas, bring the data
// into the staging area (web-download), verify it, move it into the
// store and activate the image.
func (s *Service) importData(ctx context.Context, t *Task) error {
	method, uri := importMethod(t)
	img, err := loadImage(ctx, s.db, t.ImageID)
	if errors.Is(err, store.ErrNotFound) {
		return taskFailed("Image %s could not be found; aborting import.", t.ImageID)
	}
	if err != nil {
		return err
	}
	if img.Properties[propImportTask] != t.ID {
		return taskFailed("Image %s import task %s lost its lock", t.ImageID, t.ID)
	}
	if t.Type == TaskTypeLocationImport {
		// No store of kumo's takes a location (see AddLocation).
		return taskFailed(locationImportFailure)
	}
	switch method {
	case MethodGlanceDirect:
		size := int64(0)
		if img.Size != nil {
			size = *img.Size
		}
		if err := s.enforce(ctx, s.db, t.Owner, map[string]int64{QuotaImageSizeTotal: size / mib}); err != nil {
			return err
		}
	case MethodWebDownload:
		if err := s.enforce(ctx, s.db, t.Owner, map[string]int64{QuotaImageStageTotal: 0, QuotaImageCountUploading: 0}); err != nil {
			return err
		}
		if err := s.download(ctx, t, img, uri); err != nil {
			return err
		}
	default:
		return taskFailed("Unknown import method name '%s'.", method)
	}
	if _, err := os.Stat(s.stagingPath(t.ImageID)); err != nil {
		return taskFailed("Image data for %s is not staged", t.ImageID)
	}
	diskFormat := ""
	if img.DiskFormat != nil {
		diskFormat = *img.DiskFormat
	}
	sum, err := s.sumFile(ctx, s.stagingPath(t.ImageID), diskFormat)
	if err != nil {
		return err
	}
	// The staged file becomes the image's file: same filesystem, so no
	// second copy of the data.
	if err := os.Rename(s.stagingPath(t.ImageID), s.dataPath(t.ImageID)); err != nil {
		return writeError("store image file", err)
	}
	if err := syncDir(s.dir); err != nil {
		s.removeFile(t.ImageID)
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.enforce(ctx, tx, t.Owner, map[string]int64{QuotaImageSizeTotal: sum.size / mib}); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, size = ?, virtual_size = ?, checksum = ?,
			os_hash_algo = ?, os_hash_value = ?, updated_at = ? WHERE id = ? AND status = ? AND deleted = FALSE`,
			StatusActive, sum.size, sum.virtualSize, sum.md5, "sha512", sum.sha512, store.Now(), t.ImageID, StatusImporting)
		if err != nil {
			return fmt.Errorf("activate image %s: %w", t.ImageID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return taskFailed("Image has been deleted, aborting import.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ? AND name = ? AND value = ?`,
			t.ImageID, propImportTask, t.ID); err != nil {
			return fmt.Errorf("drop import lock of image %s: %w", t.ImageID, err)
		}
		return finishTask(ctx, tx, t.ID, TaskSuccess, map[string]any{"image_id": t.ImageID}, "")
	})
	if err != nil {
		s.removeFile(t.ImageID)
		return storageFullIfDiskFull(err)
	}
	return nil
}

// importMethod reads the method and URI from a task's input: a legacy
// import task's is a web-download of import_from.
func importMethod(t *Task) (method, uri string) {
	input := t.Input
	if t.Type == TaskTypeImport {
		uri, _ = input["import_from"].(string)
		return MethodWebDownload, uri
	}
	req, _ := input["import_req"].(map[string]any)
	m, _ := req["method"].(map[string]any)
	method, _ = m["name"].(string)
	uri, _ = m["uri"].(string)
	return method, uri
}

// failImport records a failed import: the task failed with msg, the
// image queued again without data and its lock dropped (only this
// task's), the staged data gone.
func (s *Service) failImport(ctx context.Context, t *Task, msg string) error {
	s.removeStaged(t.ImageID)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, size = NULL, virtual_size = NULL, updated_at = ?
			WHERE id = ? AND status = ? AND deleted = FALSE`, StatusQueued, store.Now(), t.ImageID, StatusImporting); err != nil {
			return fmt.Errorf("requeue image %s: %w", t.ImageID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ? AND name = ? AND value = ?`,
			t.ImageID, propImportTask, t.ID); err != nil {
			return fmt.Errorf("drop import lock of image %s: %w", t.ImageID, err)
		}
		return finishTask(ctx, tx, t.ID, TaskFailure, nil, msg)
	})
}

// download is web-download: the URI's data streams into the staging
// area, within the image size cap, the project's image_stage_total and
// the disk reserve. Redirects must pass the import filter too.
func (s *Service) download(ctx context.Context, t *Task, img *Image, uri string) error {
	client := &http.Client{
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if !s.ImportFilter.Allows(req.URL.String()) {
				return taskFailed("Redirect to disallowed URL: %s", req.URL)
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return taskFailed("%v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var te *taskError
		if errors.As(err, &te) {
			return te
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return taskFailed("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return taskFailed("HTTP Error %d: %s", resp.StatusCode, strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" "))
	}
	up := uploadPlan{checked: true, project: t.Owner, budget: -1, resource: QuotaImageStageTotal}
	if img.DiskFormat != nil {
		up.diskFormat = *img.DiskFormat
	}
	if up.budget, up.usedMiB, up.limitMiB, err = s.budget(ctx, s.db, t.Owner, QuotaImageStageTotal); err != nil {
		return err
	}
	expected := resp.ContentLength // -1 when unknown
	sum, err := s.writeFile(t.ImageID, s.stagingPath(t.ImageID), up, ctxReader{ctx, resp.Body}, expected)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	// Staged data counts as staged, as after a stage.
	if _, err := s.db.ExecContext(ctx, `UPDATE images SET size = ?, updated_at = ? WHERE id = ? AND status = ?`,
		sum.size, store.Now(), t.ImageID, StatusImporting); err != nil {
		return fmt.Errorf("record downloaded data of image %s: %w", t.ImageID, err)
	}
	return nil
}

// ctxReader stops reading when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// sumFile reads a staged file for its size, checksums and virtual size,
// refusing data over the image size cap.
func (s *Service) sumFile(ctx context.Context, path, diskFormat string) (fileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileSum{}, fmt.Errorf("open staged data: %w", err)
	}
	defer f.Close()
	md, sh := md5.New(), sha512.New()
	head := &headBuffer{max: 512}
	n, err := io.Copy(io.MultiWriter(md, sh, head), io.LimitReader(ctxReader{ctx, f}, s.MaxSize+1))
	if err != nil {
		return fileSum{}, fmt.Errorf("read staged data: %w", err)
	}
	if n > s.MaxSize {
		return fileSum{}, taskFailed("The incoming image is too large: the image size cap is %d bytes", s.MaxSize)
	}
	return fileSum{size: n, virtualSize: virtualSize(diskFormat, head.b, n), md5: hex.EncodeToString(md.Sum(nil)),
		sha512: hex.EncodeToString(sh.Sum(nil))}, nil
}

// recoverTasks fails the tasks a restart interrupted (processing): their
// images go back to queued without their lock or staged data. Pending
// tasks stay for the workers. An image importing with no live task left
// (its task expired or vanished) is queued again too.
func (s *Service) recoverTasks(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+taskColumns+` FROM image_tasks WHERE status = ?`, TaskProcessing)
	if err != nil {
		return fmt.Errorf("list interrupted tasks: %w", err)
	}
	var stuck []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("scan task: %w", err)
		}
		stuck = append(stuck, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list interrupted tasks: %w", err)
	}
	for _, t := range stuck {
		if err := s.failImport(ctx, t, "Import was interrupted by a restart of the image service"); err != nil {
			return err
		}
	}
	_, err = s.db.ExecContext(ctx, `UPDATE images SET status = ?, size = NULL, virtual_size = NULL, updated_at = ?
		WHERE status = ? AND deleted = FALSE AND id NOT IN (SELECT image_id FROM image_tasks WHERE status = ? AND image_id IS NOT NULL)`,
		StatusQueued, store.Now(), StatusImporting, TaskPending)
	if err != nil {
		return fmt.Errorf("reset orphaned imports: %w", err)
	}
	return nil
}

// purgeExpiredTasks deletes tasks past their expiry, as Glance's task
// soft-delete does.
func (s *Service) purgeExpiredTasks(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM image_tasks WHERE expires_at IS NOT NULL AND expires_at < ?`, store.Now()); err != nil {
		return fmt.Errorf("purge expired tasks: %w", err)
	}
	return nil
}

// CreateTask is POST /v2/tasks, the deprecated tasks API. An import
// task (the legacy import: input import_from, import_from_format,
// image_properties) registers an image from imageReq and fetches
// import_from into it as web-download does; its result names the
// image. Tasks of the other types are recorded and fail when run, as
// Glance's do without the import lock they expect.
func (s *Service) CreateTask(ctx context.Context, p *auth.Principal, typ string, input map[string]any, imageReq CreateRequest, requestID string) (*Task, error) {
	if !slices.Contains(TaskTypes, typ) {
		return nil, errs.Invalid("Invalid type value: %s", typ)
	}
	now := store.Now()
	t := &Task{ID: uuid.NewString(), Type: typ, Status: TaskPending, Owner: projectOf(p), RequestID: requestID,
		UserID: userOf(p), Input: input, CreatedAt: now, UpdatedAt: now}
	if id, ok := input["image_id"].(string); ok {
		t.ImageID = id
	}
	if typ != TaskTypeImport {
		if err := insertTask(ctx, s.db, t); err != nil {
			return nil, err
		}
		s.wakeImports()
		return t, nil
	}
	uri, _ := input["import_from"].(string)
	if err := s.checkLegacyImportURI(uri); err != nil {
		return nil, err
	}
	img, err := s.Create(ctx, p, imageReq)
	if err != nil {
		return nil, err
	}
	t.ImageID = img.ID
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertTask(ctx, tx, t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE id = ?`, StatusImporting, now, img.ID); err != nil {
			return fmt.Errorf("start import of image %s: %w", img.ID, err)
		}
		return setProperty(ctx, tx, img.ID, propImportTask, t.ID)
	})
	if err != nil {
		_ = s.Delete(context.WithoutCancel(ctx), p, img.ID)
		return nil, err
	}
	s.wakeImports()
	return t, nil
}

// checkLegacyImportURI is Glance's validate_legacy_import_from_uri.
func (s *Service) checkLegacyImportURI(uri string) error {
	switch {
	case uri == "":
		return errs.Invalid("Invalid location: %s", uri)
	case strings.HasPrefix(uri, "file:///") || strings.HasPrefix(uri, "filesystem:///"):
		return errs.Invalid("File based imports are not allowed. Please use a non-local source of image data.")
	case !strings.HasPrefix(uri, "http://") && !strings.HasPrefix(uri, "https://"):
		return errs.Invalid("The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']")
	case !s.ImportFilter.Allows(uri):
		return errs.Invalid("URI for legacy import task does not pass filtering: %s", uri)
	}
	return nil
}
