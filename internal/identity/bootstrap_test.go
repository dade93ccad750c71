package identity

import (
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestBootstrapIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pid, created, err := f.svc.Bootstrap(f.ctx, "another")
		if err != nil || created || pid != f.adminProject {
			t.Fatalf("second bootstrap: pid %q created %v err %v; want %q false nil", pid, created, err, f.adminProject)
		}
		// The first password still works: nothing was changed.
		tok := f.passwordToken(t, "admin", "secret", f.adminProject)
		// Keystone's bootstrap: admin implies manager, member, reader.
		if got := roleNames(tok.Roles); !slices.Equal(got, []string{"admin", "manager", "member", "reader"}) {
			t.Errorf("admin roles %v, want admin and the roles it implies", got)
		}
		// And the admin holds admin on the system.
		sys, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"},
			Password: &PasswordAuth{UserName: "admin", DomainID: DefaultDomainID, Password: "secret"}, Scope: ScopeRequest{System: true}})
		if err != nil || !sys.System || sys.ProjectID != "" || !slices.Contains(roleNames(sys.Roles), "admin") {
			t.Errorf("system token %+v %v", sys, err)
		}
		d, err := f.svc.GetDomain(f.ctx, DefaultDomainID)
		if err != nil || d.Name != "Default" || !d.Enabled {
			t.Errorf("default domain %+v %v", d, err)
		}
		for _, name := range []string{"admin", "service"} {
			ps, err := f.svc.ListProjects(f.ctx, ProjectFilter{Name: name})
			if err != nil || len(ps) != 1 {
				t.Errorf("project %s: %v %v", name, ps, err)
			}
		}
		for _, name := range []string{"admin", "manager", "member", "reader", "service"} {
			f.roleID(t, name)
		}
		users, err := f.svc.ListUsers(f.ctx, UserFilter{})
		if err != nil || len(users) != 1 || users[0].Name != "admin" {
			t.Errorf("users %v %v, want only admin", users, err)
		}
	})
}
