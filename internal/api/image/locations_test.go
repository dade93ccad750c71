package image

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// serviceAuth is NoAuth with one more user: "service" has the service
// role only (Nova's and Cinder's service users).
type serviceAuth struct{ auth.NoAuth }

func (a serviceAuth) Authenticate(ctx context.Context, token string) (*auth.Principal, error) {
	p, err := a.NoAuth.Authenticate(ctx, token)
	if err == nil && p.UserID == "service" {
		p.Roles = []string{"service"}
	}
	return p, err
}

func TestLocationsAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := filepath.Join(t.TempDir(), "images")
		svc := image.New(db, dir)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { svc.RunImports(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		c := apitest.New(t, NewService(svc, api.Options{Auth: serviceAuth{}}))
		owner, other, admin := c.As("u1:p1", ""), c.As("u2:p2", ""), c.As("admin:admin", "")
		service, reader, foreignService := c.As("service:p1", ""), c.As("reader:p1", ""), c.As("service:p3", "")

		queued := createImage(t, owner, map[string]any{"disk_format": "raw", "container_format": "bare"})
		active := createImage(t, owner, map[string]any{"disk_format": "raw", "container_format": "bare"})
		upload(owner, active, []byte("data")).Expect(t, http.StatusNoContent)
		publicQueued := createImage(t, admin, map[string]any{"visibility": "public"})
		publicActive := createImage(t, admin, map[string]any{"visibility": "public", "disk_format": "raw", "container_format": "bare"})
		upload(admin, publicActive, []byte("data")).Expect(t, http.StatusNoContent)
		const missing = "6d1c4f3e-0000-4000-8000-000000000000"
		loc := func(id string) string { return "/image/v2/images/" + id + "/locations" }
		fileURL := func(id string) string { return "file://" + filepath.Join(dir, id) }

		t.Run("get", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				c      *apitest.Client
				id     string
				status int
				want   string // the list, or a message
			}{
				{"queued", service, queued, http.StatusOK, `[]`},
				{"with data", service, active, http.StatusOK, `[{"metadata": {}, "url": "` + fileURL(active) + `"}]`},
				{"admin", admin, active, http.StatusOK, `[{"metadata": {}, "url": "` + fileURL(active) + `"}]`},
				{"public image, service of another project", foreignService, publicActive, http.StatusOK,
					`[{"metadata": {}, "url": "` + fileURL(publicActive) + `"}]`},
				{"private image, service of another project", foreignService, active, http.StatusNotFound, "No image found with ID " + active},
				{"missing", service, missing, http.StatusNotFound, "No image found with ID " + missing},
				{"member", owner, active, http.StatusForbidden, "You are not authorized to complete fetch_image_location action."},
				{"reader", reader, active, http.StatusForbidden, "You are not authorized to complete fetch_image_location action."},
				{"member of another project, public image", other, publicActive, http.StatusForbidden, "You are not authorized to complete fetch_image_location action."},
				{"member of another project, private image", other, active, http.StatusNotFound, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.c.Do("GET", loc(tc.id), nil).Expect(t, tc.status)
					if tc.status != http.StatusOK {
						expectMsg(t, r, tc.want)
						return
					}
					var got, want any
					if err := json.Unmarshal(r.Body, &got); err != nil {
						t.Fatalf("body %s: %v", r.Body, err)
					}
					json.Unmarshal([]byte(tc.want), &want)
					if g, w := mustJSON(got), mustJSON(want); g != w {
						t.Errorf("locations %s, want %s", g, w)
					}
				})
			}
		})

		t.Run("add checks", func(t *testing.T) {
			url := map[string]any{"url": "http://example.com/image"}
			for _, tc := range []struct {
				name   string
				c      *apitest.Client
				id     string
				body   any
				status int
				msg    string
			}{
				{"no body", service, queued, nil, http.StatusBadRequest, "Body expected in request."},
				{"malformed", service, queued, "{", http.StatusBadRequest, "Malformed JSON in request body."},
				{"whitespace", service, queued, " ", http.StatusBadRequest, "Malformed JSON in request body."},
				{"null", service, queued, "null", http.StatusBadRequest, "Unexpected body type. Expected list/dict."},
				{"not an object", service, queued, "[]", http.StatusBadRequest, "Provided object does not match schema 'location': [] is not of type 'object'"},
				{"no url", service, queued, map[string]any{}, http.StatusBadRequest, "Provided object does not match schema 'location': 'url' is a required property"},
				{"url not a string", service, queued, map[string]any{"url": 1}, http.StatusBadRequest, "Provided object does not match schema 'location': 1 is not of type 'string'"},
				{"validation_data not an object", service, queued, map[string]any{"url": "x", "validation_data": nil}, http.StatusBadRequest,
					"Provided object does not match schema 'location': None is not of type 'object'"},
				{"validation_data with other keys", service, queued, map[string]any{"url": "x", "validation_data": map[string]any{"checksum": "x"}}, http.StatusBadRequest,
					"Provided object does not match schema 'location': Additional properties are not allowed ('checksum' was unexpected)"},
				{"unknown algorithm", service, queued, map[string]any{"url": "x", "validation_data": map[string]any{"os_hash_algo": "sha3", "os_hash_value": "ab"}}, http.StatusBadRequest,
					"Provided object does not match schema 'location': 'sha3' is not one of ['sha1', 'sha256', 'sha512', 'md5']"},
				{"value without algorithm", service, queued, map[string]any{"url": "x", "validation_data": map[string]any{"os_hash_value": "ab"}}, http.StatusBadRequest,
					"Provided object does not match schema 'location': 'os_hash_algo' is a dependency of 'os_hash_value'"},
				{"algorithm without value", service, queued, map[string]any{"url": "x", "validation_data": map[string]any{"os_hash_algo": "md5"}}, http.StatusBadRequest,
					"Provided object does not match schema 'location': 'os_hash_value' is a dependency of 'os_hash_algo'"},
				{"bad body before the image", other, queued, map[string]any{}, http.StatusBadRequest, "'url' is a required property"},
				{"invisible image", other, queued, url, http.StatusNotFound, "No image found with ID " + queued},
				{"missing image", service, missing, url, http.StatusNotFound, "No image found with ID " + missing},
				{"status before the policy", reader, active, url, http.StatusConflict, "It's not allowed to add locations if image status is active."},
				{"reader", reader, queued, url, http.StatusForbidden, "You are not authorized to complete add_image_location action."},
				{"member of another project", other, publicQueued, url, http.StatusForbidden, "You are not authorized to complete add_image_location action."},
				{"owner", owner, queued, url, http.StatusForbidden, "http store must be enabled to use location API by normal user."},
				{"admin", admin, queued, url, http.StatusForbidden, "http store must be enabled to use location API by normal user."},
				{"hash not hexadecimal", service, queued, map[string]any{"url": "x", "validation_data": map[string]any{"os_hash_algo": "md5", "os_hash_value": "zz"}},
					http.StatusBadRequest, "os_hash_value (zz) is not a valid hexadecimal value"},
				{"hash of the wrong size", service, queued, map[string]any{"url": "x", "validation_data": map[string]any{"os_hash_algo": "sha1", "os_hash_value": "ab"}},
					http.StatusBadRequest, "os_hash_value: (ab) is not the correct size for (sha1) (should be (20) bytes)"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					expectMsg(t, tc.c.Do("POST", loc(tc.id), tc.body).Expect(t, tc.status), tc.msg)
				})
			}
		})

		t.Run("add", func(t *testing.T) {
			r := service.Do("POST", loc(queued), map[string]any{"url": "https://example.com/image.raw", "do_secure_hash": true}).Expect(t, http.StatusAccepted)
			if len(r.Body) != 0 {
				t.Errorf("body %q", r.Body)
			}
			var task map[string]any
			deadline := time.Now().Add(10 * time.Second)
			for {
				tasks := owner.Do("GET", "/image/v2/images/"+queued+"/tasks", nil).Expect(t, http.StatusOK).JSON(t)["tasks"].([]any)
				if len(tasks) != 1 {
					t.Fatalf("tasks %v", tasks)
				}
				task = tasks[0].(map[string]any)
				if task["status"] == "failure" || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if task["type"] != "location_import" || task["status"] != "failure" || task["message"] != "Task failed due to Internal Error" || task["user_id"] != "service" {
				t.Errorf("task %v", task)
			}
			img := owner.Do("GET", "/image/v2/images/"+queued, nil).Expect(t, http.StatusOK).JSON(t)
			if img["status"] != "queued" || img["os_glance_import_task"] != nil {
				t.Errorf("image after the task: %v", img)
			}
		})

		t.Run("image bodies show no locations", func(t *testing.T) {
			for _, img := range []map[string]any{
				owner.Do("GET", "/image/v2/images/"+active, nil).Expect(t, http.StatusOK).JSON(t),
				admin.Do("GET", "/image/v2/images?id="+active, nil).Expect(t, http.StatusOK).JSON(t)["images"].([]any)[0].(map[string]any),
			} {
				for _, k := range []string{"locations", "direct_url"} {
					if _, ok := img[k]; ok {
						t.Errorf("image shows %s: %v", k, img)
					}
				}
			}
		})

		t.Run("patch", func(t *testing.T) {
			loc := `{"url": "http://example.com/x", "metadata": {}}`
			for _, tc := range []struct {
				name   string
				c      *apitest.Client
				body   string
				status int
				msg    string
			}{
				{"replace with none", owner, `[{"op": "replace", "path": "/locations", "value": []}]`, http.StatusForbidden, "Cannot set locations to empty list."},
				{"replace", owner, `[{"op": "replace", "path": "/locations", "value": [` + loc + `]}]`, http.StatusForbidden,
					"It's not allowed to update locations if locations are invisible."},
				{"add", owner, `[{"op": "add", "path": "/locations/-", "value": ` + loc + `}]`, http.StatusForbidden,
					"It's not allowed to add locations if locations are invisible."},
				{"add at a position", owner, `[{"op": "add", "path": "/locations/0", "value": ` + loc + `}]`, http.StatusForbidden,
					"It's not allowed to add locations if locations are invisible."},
				{"remove", owner, `[{"op": "remove", "path": "/locations/0"}]`, http.StatusForbidden, "You are not authorized to complete delete_image_location action."},
				{"remove as admin", admin, `[{"op": "remove", "path": "/locations/0"}]`, http.StatusForbidden,
					"It's not allowed to remove locations if locations are invisible."},
				{"add the list", owner, `[{"op": "add", "path": "/locations", "value": [` + loc + `]}]`, http.StatusBadRequest,
					"Invalid JSON pointer for this resource: '/locations'"},
				{"remove the list", owner, `[{"op": "remove", "path": "/locations"}]`, http.StatusBadRequest, "Invalid JSON pointer for this resource: '/locations'"},
				{"replace one", owner, `[{"op": "replace", "path": "/locations/0", "value": ` + loc + `}]`, http.StatusBadRequest,
					"Invalid JSON pointer for this resource: '/locations/0'"},
				{"not a list", owner, `[{"op": "replace", "path": "/locations", "value": "x"}]`, http.StatusBadRequest,
					"Provided object does not match schema 'image': 'x' is not of type 'array'"},
				{"no metadata", owner, `[{"op": "add", "path": "/locations/-", "value": {"url": "x"}}]`, http.StatusBadRequest,
					"Provided object does not match schema 'image': 'metadata' is a required property"},
				{"another project's image", other, `[{"op": "add", "path": "/locations/-", "value": ` + loc + `}]`, http.StatusNotFound, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					expectMsg(t, patch(tc.c, queued, tc.body).Expect(t, tc.status), tc.msg)
				})
			}
		})

		t.Run("other methods", func(t *testing.T) {
			for _, m := range []string{"PUT", "PATCH", "DELETE"} {
				r := owner.Do(m, loc(active), nil).Expect(t, http.StatusMethodNotAllowed)
				if got := r.Header.Get("Allow"); got != "POST" {
					t.Errorf("%s: Allow %q", m, got)
				}
			}
			c.As("", "").Do("PUT", loc(active), nil).Expect(t, http.StatusUnauthorized)
		})
	})
}

// mustJSON renders v with sorted keys, for comparisons.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
