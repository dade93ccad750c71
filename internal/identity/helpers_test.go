package identity

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/store"
)

// fixture is a bootstrapped service with a fake clock, hashing passwords
// at bcrypt's lowest cost and recording the cost of each comparison.
type fixture struct {
	svc          *Service
	ctx          context.Context
	now          time.Time
	adminProject string

	mu       sync.Mutex
	compared []int // bcrypt cost of each hash a password was compared with
}

func newFixture(t *testing.T, db *store.DB, opts ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	o := Options{TokenTTL: time.Hour, Secrets: testBox(t), PasswordHashCost: MinPasswordHashCost,
		now: func() time.Time { return f.now }, compare: f.compare}
	for _, fn := range opts {
		fn(&o)
	}
	f.svc = New(db, o)
	pid, created, err := f.svc.Bootstrap(f.ctx, "secret")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v created=%v", err, created)
	}
	f.adminProject = pid
	return f
}

// compare is bcrypt's comparison, recording the hash's cost.
func (f *fixture) compare(hash, password []byte) error {
	cost, err := bcrypt.Cost(hash)
	if err != nil {
		cost = -1
	}
	f.mu.Lock()
	f.compared = append(f.compared, cost)
	f.mu.Unlock()
	return bcrypt.CompareHashAndPassword(hash, password)
}

// comparisons returns and forgets the costs compared since the last call.
func (f *fixture) comparisons() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compared
	f.compared = nil
	return c
}

func (f *fixture) roleID(t *testing.T, name string) string {
	t.Helper()
	roles, err := f.svc.ListRoles(f.ctx, name, "")
	if err != nil || len(roles) != 1 {
		t.Fatalf("role %s: %v %v", name, roles, err)
	}
	return roles[0].ID
}

// user creates an enabled user in the Default domain with password pw.
func (f *fixture) user(t *testing.T, name, pw string) *User {
	t.Helper()
	u, err := f.svc.CreateUser(f.ctx, User{Name: name, Enabled: true}, &pw)
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func (f *fixture) project(t *testing.T, name string) *Project {
	t.Helper()
	p, err := f.svc.CreateProject(f.ctx, Project{Name: name, DomainID: DefaultDomainID, Enabled: true})
	if err != nil {
		t.Fatalf("create project %s: %v", name, err)
	}
	return p
}

func (f *fixture) grant(t *testing.T, projectID, userID, role string) {
	t.Helper()
	if err := f.svc.Grant(f.ctx, Target{Project: projectID}, userID, f.roleID(t, role)); err != nil {
		t.Fatalf("grant %s: %v", role, err)
	}
}

// passwordToken issues a token for name/pw scoped to project (by id).
func (f *fixture) passwordToken(t *testing.T, name, pw, projectID string) *Token {
	t.Helper()
	tok, err := f.svc.IssueToken(f.ctx, AuthRequest{
		Methods:  []string{"password"},
		Password: &PasswordAuth{UserName: name, DomainID: DefaultDomainID, Password: pw},
		Scope:    ScopeRequest{ProjectID: projectID},
	})
	if err != nil {
		t.Fatalf("issue token for %s: %v", name, err)
	}
	return tok
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("error %v (kind %d), want kind %d", err, errs.KindOf(err), k)
	}
}

func ptr[T any](v T) *T { return &v }

// testBox is a secret box with a key of the test's own.
func testBox(t *testing.T) *secret.Box {
	t.Helper()
	b, err := secret.LoadOrCreate(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
