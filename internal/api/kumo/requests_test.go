package kumo_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/reqlog"
)

func listRequests(t *testing.T, c *apptest.Cloud, query string) []reqlog.Entry {
	t.Helper()
	r := c.Admin.Do("GET", "/kumo/v1/requests"+query, nil).Expect(t, http.StatusOK)
	var got struct {
		Requests []reqlog.Entry `json:"requests"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || got.Requests == nil {
		t.Fatalf("GET /kumo/v1/requests%s: %v: %s", query, err, r.Body)
	}
	return got.Requests
}

// TestRequestsAPI: the process's recent API requests, newest first, with
// who made them, their microversion and the server they concern, and
// no secret of their query; admins only; filters and their 400s.
func TestRequestsAPI(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	r := c.Member.Do("GET", "/kumo/v1/requests", nil)
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "kumo:requests:list") {
		t.Fatalf("member: %d %s, want 403 naming the rule", r.Status, r.Body)
	}
	id := c.CreateServer(c.Member, "inspected", nil)
	show := c.Member.As(c.Member.Token, "2.79").Do("GET", "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK)
	c.Member.Do("GET", "/v2.1/servers/detail?limit=5&token=hunter2&admin_password=x", nil).Expect(t, http.StatusOK)
	c.Member.Do("GET", "/v2.1/servers/no-such-server", nil).Expect(t, http.StatusNotFound)
	c.Member.Do("GET", "/healthz", nil).Expect(t, http.StatusOK)
	c.Member.Do("GET", "/image/v2/images", nil).Expect(t, http.StatusOK)

	all := listRequests(t, c, "?project_id="+c.MemberProject)
	var paths []string
	for _, e := range all {
		paths = append(paths, e.Method+" "+e.Path)
	}
	want := []string{"GET /image/v2/images", "GET /v2.1/servers/no-such-server",
		"GET /v2.1/servers/detail?limit=5&token=***&admin_password=***", "GET /v2.1/servers/" + id, "POST /v2.1/servers", "GET /kumo/v1/requests"}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Fatalf("member's requests, newest first:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
	byPath := map[string]reqlog.Entry{}
	for _, e := range all {
		byPath[e.Method+" "+e.Path] = e
		if e.UserID == "" || e.ProjectID != c.MemberProject || e.RequestID == "" || e.Time.IsZero() || e.DurationMS < 0 {
			t.Errorf("entry lacks its caller, id or time: %+v", e)
		}
	}
	get := byPath["GET /v2.1/servers/"+id]
	if get.Service != "compute" || get.Microversion != "2.79" || get.Status != 200 || get.ServerID != id ||
		get.RequestID != show.Header.Get("X-Openstack-Request-Id") {
		t.Errorf("show: %+v, want compute 2.79 200 naming the server and the reply's request id", get)
	}
	if create := byPath["POST /v2.1/servers"]; create.ServerID != id || create.Status != 202 || create.Microversion != "2.1" {
		t.Errorf("create: %+v, want the created server's id (from Location)", create)
	}
	if img := byPath["GET /image/v2/images"]; img.Service != "image" || img.Microversion != "" || img.ServerID != "" {
		t.Errorf("image listing: %+v", img)
	}
	c.Admin.Do("GET", "/volume/v3/volumes", nil, "OpenStack-API-Version", "volume 3.59").Expect(t, http.StatusOK)
	if vol := listRequests(t, c, "?path=/volume/v3/volumes&limit=1"); len(vol) != 1 || vol[0].Service != "volume" || vol[0].Microversion != "3.59" {
		t.Errorf("volume listing: %+v, want the volume service at 3.59", vol)
	}
	for _, e := range listRequests(t, c, "?limit=1000") {
		if e.Path == "/healthz" {
			t.Errorf("/healthz is recorded: %+v", e)
		}
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"?server_id=" + id, []string{"GET /v2.1/servers/" + id, "POST /v2.1/servers"}},
		{"?status=4xx&project_id=" + c.MemberProject, []string{"GET /v2.1/servers/no-such-server", "GET /kumo/v1/requests"}},
		{"?status=202&project_id=" + c.MemberProject, []string{"POST /v2.1/servers"}},
		{"?status=403&project_id=" + c.MemberProject, []string{"GET /kumo/v1/requests"}},
		{"?method=post&project_id=" + c.MemberProject, []string{"POST /v2.1/servers"}},
		{"?path=token%3D&project_id=" + c.MemberProject, []string{"GET /v2.1/servers/detail?limit=5&token=***&admin_password=***"}},
		{"?request_id=" + get.RequestID, []string{"GET /v2.1/servers/" + id}},
		{"?limit=2&project_id=" + c.MemberProject, []string{"GET /image/v2/images", "GET /v2.1/servers/no-such-server"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range listRequests(t, c, tt.query) {
			got = append(got, e.Method+" "+e.Path)
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: %q, want %q", tt.query, got, tt.want)
		}
	}
	// The listing itself is a request like any other: the admin's own.
	if own := listRequests(t, c, "?path=/kumo/v1/requests&limit=1"); len(own) != 1 || own[0].Service != "kumo" || own[0].ProjectID == c.MemberProject {
		t.Errorf("the listing's own entry: %+v", own)
	}

	for _, bad := range []struct{ query, want string }{
		{"?status=abc", "Invalid status"},
		{"?status=7xx", "Invalid status"},
		{"?limit=0", "Invalid limit"},
		{"?limit=ten", "Invalid limit"},
		{"?method=G%20T", "Invalid method"},
		{"?project=x", `Unknown filter \"project\"`},
	} {
		r := c.Admin.Do("GET", "/kumo/v1/requests"+bad.query, nil)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), bad.want) {
			t.Errorf("%s: %d %s, want 400 about %s", bad.query, r.Status, r.Body, bad.want)
		}
	}
}
