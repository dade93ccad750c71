package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/ratelimit"
	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// env is an identity API on a fresh bootstrapped database, with an
// admin token and a member user ("alice", password "pw") on project p1.
type env struct {
	t          *testing.T
	svc        *identity.Service
	c          *apitest.Client
	admin      *apitest.Client
	adminToken string
	adminID    string
	adminPrj   string
	alice      *identity.User
	aliceToken string
	p1         *identity.Project
}

// envOptions tune newEnv: the identity service's options and the limit
// of failed logins per client address (nil: none).
type envOptions struct {
	identity     identity.Options
	failedLogins *ratelimit.Limiter
}

func newEnv(t *testing.T, db *store.DB, tweaks ...func(*envOptions)) *env {
	t.Helper()
	ctx := context.Background()
	box, err := secret.LoadOrCreate(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	// bcrypt's lowest cost keeps the many logins of these tests quick.
	o := envOptions{identity: identity.Options{TokenTTL: time.Hour, Secrets: box, PasswordHashCost: identity.MinPasswordHashCost}}
	for _, tw := range tweaks {
		tw(&o)
	}
	svc := identity.New(db, o.identity)
	adminPrj, _, err := svc.Bootstrap(ctx, "secret")
	if err != nil {
		t.Fatal(err)
	}
	h := NewService(svc, api.Options{Auth: svc, AuthURL: func(r *http.Request) string {
		return api.RequestOrigin(r) + Mount + "/v3"
	}}, o.failedLogins)
	e := &env{t: t, svc: svc, c: apitest.New(t, withRemoteAddr(h)), adminPrj: adminPrj}
	e.adminToken = e.login("admin", "secret", obj{"project": obj{"name": "admin", "domain": obj{"id": "default"}}})
	e.admin = e.c.As(e.adminToken, "")
	users, err := svc.ListUsers(ctx, identity.UserFilter{Name: "admin"})
	if err != nil || len(users) != 1 {
		t.Fatalf("admin user: %v %v", users, err)
	}
	e.adminID = users[0].ID
	pw := "pw"
	if e.alice, err = svc.CreateUser(ctx, identity.User{Name: "alice", Enabled: true, Email: "alice@example.com"}, &pw); err != nil {
		t.Fatal(err)
	}
	if e.p1, err = svc.CreateProject(ctx, identity.Project{Name: "p1", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	member, err := svc.ListRoles(ctx, "member", "")
	if err != nil || len(member) != 1 {
		t.Fatalf("member role: %v %v", member, err)
	}
	if err := svc.Grant(ctx, identity.Target{Project: e.p1.ID}, e.alice.ID, member[0].ID); err != nil {
		t.Fatal(err)
	}
	e.aliceToken = e.login("alice", "pw", obj{"project": obj{"id": e.p1.ID}})
	return e
}

// withRemoteAddr lets a test pick the client address with the header
// X-Test-Remote-Addr (httptest's requests all come from 192.0.2.1).
func withRemoteAddr(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("X-Test-Remote-Addr"); a != "" {
			r.RemoteAddr = a
		}
		h.ServeHTTP(w, r)
	})
}

// sqliteEnv is the usual environment: the API tests exercise HTTP, and
// the domain tests cover both database engines.
func sqliteEnv(t *testing.T) *env { return newEnv(t, storetest.SQLite(t)) }

func passwordAuth(name, pw string, scope any) obj {
	a := obj{"identity": obj{"methods": []string{"password"}, "password": obj{"user": obj{
		"name": name, "password": pw, "domain": obj{"id": "default"}}}}}
	if scope != nil {
		a["scope"] = scope
	}
	return obj{"auth": a}
}

// login issues a token and returns its id.
func (e *env) login(name, pw string, scope any) string {
	e.t.Helper()
	r := e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth(name, pw, scope)).Expect(e.t, http.StatusCreated)
	tok := r.Header.Get("X-Subject-Token")
	if tok == "" {
		e.t.Fatal("no X-Subject-Token")
	}
	return tok
}

// wantError checks Keystone's error body.
func wantError(t *testing.T, r *apitest.Response, status int, message string) {
	t.Helper()
	r.Expect(t, status)
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Title   string `json:"title"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("error body: %v: %s", err, r.Body)
	}
	if body.Error.Code != status || body.Error.Title != http.StatusText(status) {
		t.Errorf("error code %d title %q, want %d %q", body.Error.Code, body.Error.Title, status, http.StatusText(status))
	}
	if message != "" && body.Error.Message != message {
		t.Errorf("error message %q, want %q", body.Error.Message, message)
	}
}

// field digs into a decoded JSON body: field(t, body, "token", "user", "id").
func field(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object at %q", v, k)
		}
		v = m[k]
	}
	return v
}

// roleID finds a role's id by name through the API.
func roleID(t *testing.T, e *env, name string) string {
	t.Helper()
	r := e.admin.Do("GET", "/identity/v3/roles?name="+name, nil).Expect(t, http.StatusOK)
	roles := r.JSON(t)["roles"].([]any)
	if len(roles) != 1 {
		t.Fatalf("roles named %s: %v", name, roles)
	}
	return field(t, roles[0], "id").(string)
}

func apiOptionsWithPublicURL(e *env, publicURL string) api.Options {
	return api.Options{Auth: e.svc, PublicURL: publicURL}
}

func apiClient(t *testing.T, h http.Handler) *apitest.Client { return apitest.New(t, h) }

type responseAlias = apitest.Response

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
