package image

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// importClients are clients whose image service runs its import
// workers; web-download may fetch from allowPort on 127.0.0.1.
func importClients(t *testing.T, db *store.DB, allowPort int) (owner, other, admin *apitest.Client, svc *image.Service) {
	t.Helper()
	svc = image.New(db, filepath.Join(t.TempDir(), "images"))
	svc.ImportFilter = image.ImportFilter{AllowedSchemes: []string{"http"}, AllowedPorts: []int{allowPort}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.RunImports(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	c := apitest.New(t, NewService(svc, api.Options{Auth: auth.NoAuth{}}))
	return c.As("u1:p1", ""), c.As("u2:p2", ""), c.As("admin:admin", ""), svc
}

// waitStatus polls an image until it has status.
func waitStatus(t *testing.T, c *apitest.Client, id, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := c.Do("GET", "/image/v2/images/"+id, nil).Expect(t, http.StatusOK).JSON(t)
		if img["status"] == status {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s is %v, want %s", id, img["status"], status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStageAndImportAPI(t *testing.T) {
	t.Parallel()
	data := []byte("web image data")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		owner, other, admin, _ := importClients(t, db, port)
		formats := map[string]any{"disk_format": "raw", "container_format": "bare"}

		// glance-direct: stage, then import.
		id := createImage(t, owner, formats)
		owner.Do("PUT", "/image/v2/images/"+id+"/stage", []byte("x"), "Content-Type", "text/plain").Expect(t, http.StatusUnsupportedMediaType)
		owner.Do("PUT", "/image/v2/images/"+id+"/stage", []byte("staged"), "Content-Type", octetCT).Expect(t, http.StatusNoContent)
		if img := owner.Do("GET", "/image/v2/images/"+id, nil).JSON(t); img["status"] != "uploading" || img["size"] != 6.0 {
			t.Fatalf("staged image: %v", img)
		}
		other.Do("POST", "/image/v2/images/"+id+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}).Expect(t, http.StatusNotFound)
		for _, c := range []struct {
			body   any
			status int
			msg    string
		}{
			{map[string]any{}, 400, "Import request requires a 'method' field."},
			{map[string]any{"method": map[string]any{}}, 400, "Import request requires a 'name' field."},
			{map[string]any{"method": map[string]any{"name": "copy-image"}}, 400, "Unknown import method name 'copy-image'."},
			{map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores": "yes"}, 400, "'all_stores' must be boolean value only"},
			{map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores_must_succeed": 1}, 400, "'all_stores_must_succeed' must be boolean value only"},
			{map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores_must_succeed": false}, 400, "All_stores_must_succeed can only be set with enabled_backends None"},
			{map[string]any{"method": map[string]any{"name": "web-download", "uri": srv.URL}}, 409, "Image needs to be in 'queued' state to use 'web-download' method"},
		} {
			r := owner.Do("POST", "/image/v2/images/"+id+"/import", c.body).Expect(t, c.status)
			expectMsg(t, r, c.msg)
		}
		owner.Do("POST", "/image/v2/images/"+id+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}).Expect(t, http.StatusAccepted)
		img := waitStatus(t, owner, id, "active")
		if img["checksum"] == nil || img["os_hash_value"] == nil || img["size"] != 6.0 || img["os_glance_importing_to_stores"] != "" || img["os_glance_failed_import"] != "" {
			t.Fatalf("imported image: %v", img)
		}
		if _, held := img["os_glance_import_task"]; held {
			t.Fatalf("lock kept: %v", img)
		}
		got := owner.Do("GET", "/image/v2/images/"+id+"/file", nil).Expect(t, http.StatusOK)
		if string(got.Body) != "staged" {
			t.Fatalf("data %q", got.Body)
		}
		expectMsg(t, owner.Do("POST", "/image/v2/images/"+id+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}).Expect(t, http.StatusConflict), "Image with status active cannot be target for import")

		// The image's tasks, and the tasks API (admin only by default).
		tasks := owner.Do("GET", "/image/v2/images/"+id+"/tasks", nil).Expect(t, http.StatusOK).JSON(t)["tasks"].([]any)
		task := tasks[0].(map[string]any)
		if len(tasks) != 1 || task["status"] != "success" || task["type"] != "api_image_import" || task["image_id"] != id ||
			task["result"].(map[string]any)["image_id"] != id || task["user_id"] != "u1" {
			t.Fatalf("image tasks: %v", tasks)
		}
		other.Do("GET", "/image/v2/images/"+id+"/tasks", nil).Expect(t, http.StatusNotFound)
		expectMsg(t, owner.Do("GET", "/image/v2/tasks", nil).Expect(t, http.StatusForbidden), "You are not authorized to complete tasks_api_access action.")
		list := admin.Do("GET", "/image/v2/tasks?status=success", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, glanceV2+"tasks-list-response.json", list.Body, apisamples.Options{Extra: []string{"tasks[].expires_at"}})
		shown := admin.Do("GET", "/image/v2/tasks/"+task["id"].(string), nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, glanceV2+"task-show-success-response.json", shown.Body,
			apisamples.Options{Extra: []string{"image_id", "user_id", "request_id", "input.image_id", "input.import_req", "input.backend"},
				Optional: []string{"input.image_properties", "input.import_from", "input.import_from_format"}})
		admin.Do("GET", "/image/v2/tasks/00000000-0000-0000-0000-000000000000", nil).Expect(t, http.StatusNotFound)
		admin.Do("DELETE", "/image/v2/tasks/"+task["id"].(string), nil).Expect(t, http.StatusMethodNotAllowed)
		expectMsg(t, admin.Do("GET", "/image/v2/tasks?limit=x", nil).Expect(t, http.StatusBadRequest), "limit param must be an integer")
		expectMsg(t, admin.Do("GET", "/image/v2/tasks?marker=x", nil).Expect(t, http.StatusBadRequest), "Invalid marker format")

		// web-download.
		wd := createImage(t, owner, formats)
		expectMsg(t, owner.Do("POST", "/image/v2/images/"+wd+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": "http://example.com:1/x"}}).Expect(t, http.StatusBadRequest), "URI for web-download does not pass filtering: http://example.com:1/x")
		owner.Do("POST", "/image/v2/images/"+wd+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": srv.URL}}).Expect(t, http.StatusAccepted)
		waitStatus(t, owner, wd, "active")
		if got := owner.Do("GET", "/image/v2/images/"+wd+"/file", nil).Expect(t, http.StatusOK); string(got.Body) != string(data) {
			t.Fatalf("downloaded %q", got.Body)
		}

		// The legacy tasks API import.
		created := admin.Do("POST", "/image/v2/tasks", map[string]any{"type": "import", "input": map[string]any{
			"import_from": srv.URL, "import_from_format": "raw", "image_properties": formats}}).Expect(t, http.StatusCreated)
		apisamples.Assert(t, glanceV2+"task-create-response.json", created.Body,
			apisamples.Options{Extra: []string{"image_id", "user_id", "request_id"}})
		expectMsg(t, admin.Do("POST", "/image/v2/tasks", map[string]any{"type": "import"}).Expect(t, http.StatusBadRequest), "Task 'input' is required")
		admin.Do("POST", "/image/v2/tasks", map[string]any{"type": "other", "input": nil}).Expect(t, http.StatusBadRequest)
	})
}

func TestTaskSchemas(t *testing.T) {
	t.Parallel()
	owner, _, _ := clients(t, storetest.SQLite(t))
	// The samples predate the task types and the fields Glance added
	// with interoperable import.
	added := []string{"properties.image_id", "properties.request_id", "properties.user_id", "additionalProperties"}
	var inList []string
	for _, k := range added {
		inList = append(inList, "properties.tasks.items."+k)
	}
	r := owner.Do("GET", "/image/v2/schemas/task", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, glanceV2+"schemas-task-show-response.json", r.Body, apisamples.Options{Extra: added})
	// The list sample's links are older than Glance's CollectionSchema
	// (first, next, describedby), which kumo serves.
	r = owner.Do("GET", "/image/v2/schemas/tasks", nil).Expect(t, http.StatusOK)
	got := r.JSON(t)
	if links := got["links"].([]any); len(links) != 3 {
		t.Fatalf("links %v", links)
	}
	want := apisamples.Load(t, glanceV2+"schemas-tasks-list-response.json").(map[string]any)
	delete(want, "links")
	delete(got, "links")
	if diffs := apisamples.Compare(want, got, apisamples.Options{Extra: append(inList, "properties.first", "properties.next")}); len(diffs) > 0 {
		t.Errorf("tasks schema differs: %v", diffs)
	}
}

// expectMsg checks a Glance error body carries msg.
func expectMsg(t *testing.T, r *apitest.Response, msg string) {
	t.Helper()
	if !strings.Contains(string(r.Body), msg) {
		t.Fatalf("body %q lacks %q", r.Body, msg)
	}
}
