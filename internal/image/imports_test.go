package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// runImports runs the import workers for the rest of the test.
func runImports(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.RunImports(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitTask waits for a task to end and returns it.
func waitTask(t *testing.T, s *Service, id string) *Task {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tk, err := s.GetTask(context.Background(), admin, id)
		if err != nil {
			t.Fatalf("get task: %v", err)
		}
		if tk.Status == TaskSuccess || tk.Status == TaskFailure {
			return tk
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("task %s did not end", id)
	return nil
}

func glanceDirect() ImportRequest {
	return ImportRequest{Method: MethodGlanceDirect, AllStoresMustSucceed: true,
		Body: map[string]any{"method": map[string]any{"name": MethodGlanceDirect}}}
}

func webDownload(uri string) ImportRequest {
	return ImportRequest{Method: MethodWebDownload, URI: uri, AllStoresMustSucceed: true,
		Body: map[string]any{"method": map[string]any{"name": MethodWebDownload, "uri": uri}}}
}

func sums(data []byte) (string, string) {
	m, s := md5.Sum(data), sha512.Sum512(data)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

func TestStageAndGlanceDirectImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		s.Limits = fixedLimits(unlimited(), nil)
		img := mustCreate(t, s, alice, CreateRequest{})
		data := bytes.Repeat([]byte("kumo"), 5000)
		if err := s.Stage(ctx, alice, img.ID, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("stage: %v", err)
		}
		got, _ := s.Get(ctx, alice, img.ID)
		if got.Status != StatusUploading || got.Size == nil || *got.Size != int64(len(data)) || got.Checksum != nil {
			t.Fatalf("after stage: status %s size %v checksum %v", got.Status, got.Size, got.Checksum)
		}
		if u, _ := s.Usage(ctx, alice); u[QuotaImageStageTotal].Usage != 0 || u[QuotaImageCountUploading].Usage != 1 {
			t.Fatalf("usage while staged: %+v", u)
		}
		// Staging twice, or uploading to a staged image, is a conflict.
		wantKind(t, s.Stage(ctx, alice, img.ID, bytes.NewReader(data), -1), errs.KindConflict)
		task, err := s.Import(ctx, alice, img.ID, glanceDirect())
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		got, _ = s.Get(ctx, alice, img.ID)
		if got.Status != StatusImporting || got.Properties[propImportTask] != task.ID {
			t.Fatalf("after import call: status %s properties %v", got.Status, got.Properties)
		}
		if v, ok := got.Properties[propImportingStores]; !ok || v != "" {
			t.Fatalf("os_glance_importing_to_stores = %q, %v", v, ok)
		}
		runImports(t, s)
		done := waitTask(t, s, task.ID)
		if done.Status != TaskSuccess || done.Result["image_id"] != img.ID || done.ExpiresAt == nil || done.Type != TaskTypeAPIImageImport {
			t.Fatalf("task %+v", done)
		}
		got, _ = s.Get(ctx, alice, img.ID)
		md, sh := sums(data)
		if got.Status != StatusActive || *got.Size != int64(len(data)) || *got.Checksum != md || *got.OSHashValue != sh || *got.VirtualSize != int64(len(data)) {
			t.Fatalf("imported image: %+v", got)
		}
		if _, held := got.Properties[propImportTask]; held {
			t.Fatal("import lock kept after success")
		}
		if _, err := os.Stat(s.stagingPath(img.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("staged data left behind: %v", err)
		}
		d, err := s.Open(ctx, alice, img.ID)
		if err != nil || d == nil {
			t.Fatalf("open: %v", err)
		}
		d.Close()
		tasks, err := s.ImageTasks(ctx, alice, img.ID)
		if err != nil || len(tasks) != 1 || tasks[0].ID != task.ID {
			t.Fatalf("image tasks %v, %v", tasks, err)
		}
		if _, err := s.ImageTasks(ctx, bob, img.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("another project's image tasks: %v", err)
		}
	})
}

func TestImportRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		queued := mustCreate(t, s, alice, CreateRequest{})
		noFormats, _ := s.Create(ctx, alice, CreateRequest{})
		if err := s.Stage(ctx, alice, noFormats.ID, strings.NewReader("x"), 1); err != nil {
			t.Fatalf("stage without formats: %v", err)
		}
		active := mustCreate(t, s, alice, CreateRequest{})
		if _, err := s.Upload(ctx, alice, active.ID, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		notAllStores := glanceDirect()
		notAllStores.AllStoresMustSucceed = false
		staged := mustCreate(t, s, alice, CreateRequest{})
		if err := s.Stage(ctx, alice, staged.ID, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			p    *auth.Principal
			id   string
			req  ImportRequest
			kind errs.Kind
			msg  string
		}{
			{"unknown method", alice, queued.ID, ImportRequest{Method: "copy-image"}, errs.KindInvalid, "Unknown import method name 'copy-image'."},
			{"missing image", alice, "nope", glanceDirect(), errs.KindNotFound, ""},
			{"active", alice, active.ID, glanceDirect(), errs.KindConflict, "Image with status active cannot be target for import"},
			{"not staged", alice, queued.ID, glanceDirect(), errs.KindConflict, "Image needs to be staged before 'glance-direct' method can be used"},
			{"web-download of staged", alice, staged.ID, webDownload("http://example.com/x"), errs.KindConflict, "Image needs to be in 'queued' state to use 'web-download' method"},
			{"no container format", alice, noFormats.ID, glanceDirect(), errs.KindConflict, "'container_format' needs to be set before import"},
			{"another project", bob, staged.ID, glanceDirect(), errs.KindNotFound, ""},
			{"all stores must succeed", alice, staged.ID, notAllStores, errs.KindInvalid, "All_stores_must_succeed can only be set with enabled_backends None"},
			{"filtered scheme", alice, queued.ID, webDownload("ftp://example.com/x"), errs.KindInvalid, "URI for web-download does not pass filtering: ftp://example.com/x"},
			{"filtered port", alice, queued.ID, webDownload("http://example.com:8080/x"), errs.KindInvalid, "URI for web-download does not pass filtering: http://example.com:8080/x"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Import(ctx, tc.p, tc.id, tc.req)
				if tc.msg == "" {
					wantKind(t, err, tc.kind)
					return
				}
				wantMessage(t, err, tc.kind, tc.msg)
			})
		}
		// A second import while the first holds the lock is refused.
		if _, err := s.Import(ctx, alice, staged.ID, glanceDirect()); err != nil {
			t.Fatal(err)
		}
		_, err := s.Import(ctx, alice, staged.ID, glanceDirect())
		wantKind(t, err, errs.KindConflict)
	})
}

func TestWebDownload(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte{7}, 3<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/image":
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data)
		case "/redirect":
			http.Redirect(w, r, "ftp://elsewhere/x", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			name   string
			path   string
			limits map[string]int64
			status string
			msg    string
		}{
			{"ok", "/image", unlimited(), TaskSuccess, ""},
			{"not found", "/missing", unlimited(), TaskFailure, "HTTP Error 404: Not Found"},
			{"redirect filtered", "/redirect", unlimited(), TaskFailure, "Redirect to disallowed URL: ftp://elsewhere/x"},
			// Streamed, the download stops where it goes over.
			{"over stage quota", "/image", with(unlimited(), QuotaImageStageTotal, 1), TaskFailure,
				overLimitPrefix + "Project pa is over a limit for [Resource image_stage_total is over limit of 1 due to current usage 0 and delta 2]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, ctx := newService(t, db), context.Background()
				s.Limits = fixedLimits(tc.limits, nil)
				s.ImportFilter = ImportFilter{AllowedSchemes: []string{"http"}, AllowedPorts: []int{port}}
				runImports(t, s)
				img := mustCreate(t, s, alice, CreateRequest{})
				task, err := s.Import(ctx, alice, img.ID, webDownload(srv.URL+tc.path))
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				done := waitTask(t, s, task.ID)
				got, _ := s.Get(ctx, alice, img.ID)
				if done.Status != tc.status || done.Message != tc.msg {
					t.Fatalf("task %s %q, want %s %q", done.Status, done.Message, tc.status, tc.msg)
				}
				if tc.status == TaskSuccess {
					md, _ := sums(data)
					if got.Status != StatusActive || *got.Checksum != md {
						t.Fatalf("image %+v", got)
					}
					return
				}
				if got.Status != StatusQueued || got.Size != nil || got.Properties[propImportTask] != "" {
					t.Fatalf("failed import left image %s size %v props %v", got.Status, got.Size, got.Properties)
				}
				// The lock is gone: importing again is allowed.
				again, err := s.Import(ctx, alice, img.ID, webDownload(srv.URL+"/image"))
				if err != nil {
					t.Fatalf("retry: %v", err)
				}
				waitTask(t, s, again.ID)
			})
		}
	})
}

func TestStageQuotaAndFailure(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		s.Limits = fixedLimits(with(unlimited(), QuotaImageStageTotal, 1), nil)
		img := mustCreate(t, s, alice, CreateRequest{})
		err := s.Stage(ctx, alice, img.ID, bytes.NewReader(make([]byte, 3<<20)), 3<<20)
		wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_stage_total is over limit of 1 due to current usage 0 and delta 3]")
		// Streamed without a length, it stops where it goes over.
		err = s.Stage(ctx, alice, img.ID, bytes.NewReader(make([]byte, 3<<20)), -1)
		wantKind(t, err, errs.KindTooLarge)
		got, _ := s.Get(ctx, alice, img.ID)
		if got.Status != StatusQueued || got.Size != nil {
			t.Fatalf("after refused stage: %s %v", got.Status, got.Size)
		}
		if _, err := os.Stat(s.stagingPath(img.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("staged data after refusal: %v", err)
		}
		// Within the quota, staged data counts against it.
		if err := s.Stage(ctx, alice, img.ID, bytes.NewReader(make([]byte, 1<<20)), 1<<20); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.Usage(ctx, alice); u[QuotaImageStageTotal].Usage != 1 || u[QuotaImageSizeTotal].Usage != 0 {
			t.Fatalf("usage: %+v", u)
		}
		// Only the owner may stage.
		other := mustCreate(t, s, alice, CreateRequest{Visibility: Community})
		wantMessage(t, s.Stage(ctx, bob, other.ID, strings.NewReader("x"), 1), errs.KindForbidden, "You are not authorized to complete modify_image action.")
		// Deleting a staged image drops its staged data.
		if err := s.Delete(ctx, alice, img.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(s.stagingPath(img.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("staged data after delete: %v", err)
		}
	})
}

// TestImportAcrossRestart: a pending task survives a restart and runs
// then; one a restart interrupted fails and its image is queued again.
func TestImportAcrossRestart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		pending := mustCreate(t, s, alice, CreateRequest{})
		if err := s.Stage(ctx, alice, pending.ID, strings.NewReader("pending"), -1); err != nil {
			t.Fatal(err)
		}
		pt, err := s.Import(ctx, alice, pending.ID, glanceDirect())
		if err != nil {
			t.Fatal(err)
		}
		cut := mustCreate(t, s, alice, CreateRequest{})
		if err := s.Stage(ctx, alice, cut.ID, strings.NewReader("cut"), -1); err != nil {
			t.Fatal(err)
		}
		ct, err := s.Import(ctx, alice, cut.ID, glanceDirect())
		if err != nil {
			t.Fatal(err)
		}
		// The process died while this one ran.
		if _, err := db.ExecContext(ctx, `UPDATE image_tasks SET status = ? WHERE id = ?`, TaskProcessing, ct.ID); err != nil {
			t.Fatal(err)
		}
		// And while this image was being staged (the data never arrived).
		halfStaged := mustCreate(t, s, alice, CreateRequest{})
		if _, err := db.ExecContext(ctx, `UPDATE images SET status = ? WHERE id = ?`, StatusUploading, halfStaged.ID); err != nil {
			t.Fatal(err)
		}
		restarted := New(db, s.dir)
		if err := restarted.Recover(ctx); err != nil {
			t.Fatalf("recover: %v", err)
		}
		failed, _ := restarted.GetTask(ctx, admin, ct.ID)
		if failed.Status != TaskFailure || failed.Message != "Import was interrupted by a restart of the image service" {
			t.Fatalf("interrupted task: %s %q", failed.Status, failed.Message)
		}
		for id, want := range map[string]string{cut.ID: StatusQueued, halfStaged.ID: StatusQueued, pending.ID: StatusImporting} {
			if got, _ := restarted.Get(ctx, alice, id); got.Status != want {
				t.Fatalf("image %s is %s after recovery, want %s", id, got.Status, want)
			}
		}
		if _, err := os.Stat(restarted.stagingPath(cut.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("interrupted import's staged data kept: %v", err)
		}
		runImports(t, restarted)
		if done := waitTask(t, restarted, pt.ID); done.Status != TaskSuccess {
			t.Fatalf("pending task after restart: %s %q", done.Status, done.Message)
		}
		// The interrupted image may be staged and imported again.
		if err := restarted.Stage(ctx, alice, cut.ID, strings.NewReader("again"), -1); err != nil {
			t.Fatalf("restage: %v", err)
		}
		again, err := restarted.Import(ctx, alice, cut.ID, glanceDirect())
		if err != nil {
			t.Fatalf("reimport: %v", err)
		}
		if done := waitTask(t, restarted, again.ID); done.Status != TaskSuccess {
			t.Fatalf("reimport: %s %q", done.Status, done.Message)
		}
	})
}

func TestListTasks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		var ids []string
		for range 3 {
			img := mustCreate(t, s, alice, CreateRequest{})
			if err := s.Stage(ctx, alice, img.ID, strings.NewReader("x"), 1); err != nil {
				t.Fatal(err)
			}
			tk, err := s.Import(ctx, alice, img.ID, glanceDirect())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
			time.Sleep(2 * time.Millisecond)
		}
		bobImg := mustCreate(t, s, bob, CreateRequest{})
		if err := s.Stage(ctx, bob, bobImg.ID, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, bob, bobImg.ID, glanceDirect()); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			p    *auth.Principal
			o    TaskListOptions
			want []string
			more bool
			msg  string
		}{
			{"own, newest first", alice, TaskListOptions{}, []string{ids[2], ids[1], ids[0]}, false, ""},
			{"oldest first, paged", alice, TaskListOptions{SortDir: "asc", Limit: 2}, []string{ids[0], ids[1]}, true, ""},
			{"after marker", alice, TaskListOptions{SortDir: "asc", Limit: 2, Marker: ids[1]}, []string{ids[2]}, false, ""},
			{"status filter", alice, TaskListOptions{Status: TaskSuccess}, nil, false, ""},
			{"admin sees all", admin, TaskListOptions{}, nil, false, ""},
			{"bad status", alice, TaskListOptions{Status: "done"}, nil, false, "Invalid status value: done"},
			{"bad type", alice, TaskListOptions{Type: "api_image_import"}, nil, false, "Invalid type value: api_image_import"},
			{"bad sort dir", alice, TaskListOptions{SortDir: "up"}, nil, false, "Invalid sort direction: up"},
			{"bad sort key", alice, TaskListOptions{SortKey: "input"}, nil, false, "Invalid sort key: input."},
			{"unknown marker", alice, TaskListOptions{Marker: "00000000-0000-0000-0000-000000000000"}, nil, false, "Task with the given ID 00000000-0000-0000-0000-000000000000 was not found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, more, err := s.ListTasks(ctx, tc.p, tc.o)
				if tc.msg != "" {
					wantMessage(t, err, errs.KindInvalid, tc.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "admin sees all" {
					if len(got) != 4 {
						t.Fatalf("admin sees %d tasks", len(got))
					}
					return
				}
				var gotIDs []string
				for _, tk := range got {
					gotIDs = append(gotIDs, tk.ID)
				}
				if strings.Join(gotIDs, ",") != strings.Join(tc.want, ",") || more != tc.more {
					t.Fatalf("got %v more=%v, want %v more=%v", gotIDs, more, tc.want, tc.more)
				}
			})
		}
		if _, err := s.GetTask(ctx, bob, ids[0]); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("another project's task: %v", err)
		}
	})
}

func TestLegacyImportTask(t *testing.T) {
	t.Parallel()
	data := []byte("legacy image data")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		s.ImportFilter = ImportFilter{AllowedSchemes: []string{"http"}, AllowedPorts: []int{port}}
		for _, tc := range []struct{ uri, msg string }{
			{"", "Invalid location: "},
			{"file:///etc/passwd", "File based imports are not allowed. Please use a non-local source of image data."},
			{"swift://x", "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']"},
			{"http://example.com:9/x", "URI for legacy import task does not pass filtering: http://example.com:9/x"},
		} {
			_, err := s.CreateTask(ctx, admin, TaskTypeImport, map[string]any{"import_from": tc.uri}, CreateRequest{}, "")
			wantMessage(t, err, errs.KindInvalid, tc.msg)
		}
		runImports(t, s)
		tk, err := s.CreateTask(ctx, admin, TaskTypeImport, map[string]any{"import_from": srv.URL, "import_from_format": "raw",
			"image_properties": map[string]any{"disk_format": "raw", "container_format": "bare"}},
			CreateRequest{DiskFormat: ptr("raw"), ContainerFormat: ptr("bare")}, "req-1")
		if err != nil {
			t.Fatal(err)
		}
		done := waitTask(t, s, tk.ID)
		id, _ := done.Result["image_id"].(string)
		if done.Status != TaskSuccess || id == "" {
			t.Fatalf("legacy task %s %q %v", done.Status, done.Message, done.Result)
		}
		img, _ := s.Get(ctx, admin, id)
		if md, _ := sums(data); img.Status != StatusActive || *img.Checksum != md {
			t.Fatalf("legacy image %+v", img)
		}
		// Other types are recorded and fail without an import lock.
		other, err := s.CreateTask(ctx, admin, TaskTypeAPIImageImport, map[string]any{}, CreateRequest{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if done := waitTask(t, s, other.ID); done.Status != TaskFailure {
			t.Fatalf("api_image_import via the tasks API: %s", done.Status)
		}
	})
}

func TestImportFilter(t *testing.T) {
	t.Parallel()
	def := DefaultImportFilter()
	for _, tc := range []struct {
		f    ImportFilter
		uri  string
		want bool
	}{
		{def, "http://example.com/x", true},
		{def, "https://example.com:443/x", true},
		{def, "http://example.com:8080/x", false},
		{def, "ftp://example.com/x", false},
		{def, "example.com/x", false},
		{def, "", false},
		{ImportFilter{DisallowedHosts: []string{"127.0.0.1"}}, "http://127.0.0.1/x", false},
		{ImportFilter{DisallowedHosts: []string{"evil.example"}}, "http://EVIL.example/x", false},
		{ImportFilter{AllowedHosts: []string{"ok.example"}, DisallowedHosts: []string{"ok.example"}}, "http://ok.example/x", true},
		{ImportFilter{DisallowedPorts: []int{22}}, "http://example.com:22/x", false},
	} {
		if got := tc.f.Allows(tc.uri); got != tc.want {
			t.Errorf("%+v allows %q = %v, want %v", tc.f, tc.uri, got, tc.want)
		}
	}
}
