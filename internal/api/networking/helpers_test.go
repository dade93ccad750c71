package networking_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/identity"
)

// cloud is a kumo with a floating range (so an external network) under
// noauth, and callers of two projects besides the admin.
type cloud struct {
	*apptest.Cloud
	member, reader, other *apitest.Client
	otherProject          string
}

func newCloud(t *testing.T, database string) *cloud {
	t.Helper()
	c := apptest.New(t, apptest.Options{Database: database, Configure: func(cfg *app.Config) {
		cfg.FloatingRange, cfg.FloatingPool = "203.0.113.0/24", "public"
	}})
	other, err := c.App.Identity.CreateProject(context.Background(), identity.Project{Name: "other", DomainID: "default", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{Cloud: c, member: c.Member, otherProject: other.ID,
		reader: signIn(t, c, "reader", c.MemberProject, "reader"),
		other:  signIn(t, c, "other", other.ID, "member")}
}

// signIn makes a user with role in project and returns its client.
func signIn(t *testing.T, c *apptest.Cloud, name, project, role string) *apitest.Client {
	t.Helper()
	ctx, ids := context.Background(), c.App.Identity
	roles, err := ids.ListRoles(ctx, role, "")
	if err != nil || len(roles) != 1 {
		t.Fatalf("role %s: %v %v", role, roles, err)
	}
	pw := "password-" + name
	u, err := ids.CreateUser(ctx, identity.User{Name: name, DomainID: "default", Enabled: true}, &pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.Grant(ctx, identity.Target{Project: project}, u.ID, roles[0].ID); err != nil {
		t.Fatal(err)
	}
	tok, err := ids.IssueToken(ctx, identity.AuthRequest{Methods: []string{"password"},
		Password: &identity.PasswordAuth{UserID: u.ID, Password: pw}, Scope: identity.ScopeRequest{ProjectID: project}})
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Over(t, c.App.Handler).As(tok.ID, "")
}

// obj decodes the answer's object under key.
func obj(t *testing.T, r *apitest.Response, key string) map[string]any {
	t.Helper()
	v, ok := r.JSON(t)[key].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %s", key, r.Body)
	}
	return v
}

// list decodes the answer's list under key.
func list(t *testing.T, r *apitest.Response, key string) []map[string]any {
	t.Helper()
	var body map[string][]map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("list %s: %v: %s", key, err, r.Body)
	}
	return body[key]
}

func names(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["name"].(string))
	}
	return out
}

// wantKeys checks that v has exactly the keys want.
func wantKeys(t *testing.T, what string, v map[string]any, want []string) {
	t.Helper()
	got := make([]string, 0, len(v))
	for k := range v {
		got = append(got, k)
	}
	sort.Strings(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s keys\n got %v\nwant %v", what, got, want)
	}
}

// create posts {key: body} to path and returns the object made.
func create(t *testing.T, client *apitest.Client, path, key string, body map[string]any) map[string]any {
	t.Helper()
	return obj(t, client.Do(http.MethodPost, path, map[string]any{key: body}).Expect(t, http.StatusCreated), key)
}
