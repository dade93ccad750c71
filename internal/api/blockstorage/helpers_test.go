package blockstorage_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// cloud is a test kumo with block storage clients: the admin and a
// member of MemberProject.
type cloud struct {
	*apptest.Cloud
	admin, member *client
}

// client speaks to /volume/v3 at a microversion, in the project-id URL
// shape unless bare.
type client struct {
	c       *apitest.Client
	project string
	version string
	bare    bool
}

func newCloud(t *testing.T, database string) *cloud {
	t.Helper()
	return newCloudWith(t, database, nil)
}

// newCloudWith is newCloud with configure changing the configuration.
func newCloudWith(t *testing.T, database string, configure func(*app.Config)) *cloud {
	t.Helper()
	c := apptest.New(t, apptest.Options{Database: database, Configure: configure})
	return &cloud{Cloud: c,
		admin:  &client{c: c.Admin, project: adminProject(t, c)},
		member: &client{c: c.Member, project: c.MemberProject}}
}

// adminProject is the admin token's project.
func adminProject(t *testing.T, c *apptest.Cloud) string {
	t.Helper()
	r := c.Admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", c.Admin.Token).Expect(t, 200)
	return r.JSON(t)["token"].(map[string]any)["project"].(map[string]any)["id"].(string)
}

// at returns the client at microversion v.
func (cl *client) at(v string) *client {
	cp := *cl
	cp.version = v
	return &cp
}

func (cl *client) do(method, path string, body any, headers ...string) *apitest.Response {
	url := "/volume/v3/" + cl.project + path
	if cl.bare {
		url = "/volume/v3" + path
	}
	if cl.version != "" {
		headers = append(headers, "OpenStack-API-Version", "volume "+cl.version)
	}
	return cl.c.Do(method, url, body, headers...)
}

// fault checks a Cinder fault body.
func fault(t *testing.T, r *apitest.Response, status int, name, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("fault body: %v: %s", err, r.Body)
	}
	f, ok := body[name]
	if !ok || f["code"] != float64(status) {
		t.Fatalf("fault %s, want %s %d", r.Body, name, status)
	}
	if msg, _ := f["message"].(string); message != "" && msg != message && !(strings.HasSuffix(message, "*") && strings.HasPrefix(msg, strings.TrimSuffix(message, "*"))) {
		t.Errorf("message %q, want %q", msg, message)
	}
}

func obj(t *testing.T, r *apitest.Response, key string) map[string]any {
	t.Helper()
	v, ok := r.JSON(t)[key].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %s", key, r.Body)
	}
	return v
}

func list(t *testing.T, r *apitest.Response, key string) []map[string]any {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	var out []map[string]any
	if err := json.Unmarshal(body[key], &out); err != nil {
		t.Fatalf("list %s: %v: %s", key, err, r.Body)
	}
	return out
}
