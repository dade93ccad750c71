package identity

import (
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestTrustCreateChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		trustor, trustee := f.user(t, "trustor", "pw"), f.user(t, "trustee", "pw")
		p := f.project(t, "p")
		f.grant(t, p.ID, trustor.ID, "member")
		// member implies reader: the trustor holds reader, not manager.
		member, manager := f.roleID(t, "member"), f.roleID(t, "manager")
		base := func() NewTrust {
			return NewTrust{TrustorUserID: trustor.ID, TrusteeUserID: trustee.ID, ProjectID: p.ID, Roles: []TrustRoleRef{{ID: member}}}
		}
		cases := []struct {
			name string
			edit func(*NewTrust)
			kind errs.Kind
		}{
			{"no roles on a project", func(n *NewTrust) { n.Roles = nil }, errs.KindForbidden},
			{"a role the trustor lacks", func(n *NewTrust) { n.Roles = []TrustRoleRef{{ID: manager}} }, errs.KindNotFound},
			{"unknown role name", func(n *NewTrust) { n.Roles = []TrustRoleRef{{Name: "nope"}} }, errs.KindNotFound},
			{"unknown trustee", func(n *NewTrust) { n.TrusteeUserID = "nobody" }, errs.KindNotFound},
			{"unknown project", func(n *NewTrust) { n.ProjectID = "nowhere" }, errs.KindNotFound},
			{"no uses", func(n *NewTrust) { n.RemainingUses = ptr(0) }, errs.KindInvalid},
			{"uses with redelegation", func(n *NewTrust) { n.AllowRedelegation, n.RemainingUses = true, ptr(2) }, errs.KindInvalid},
			{"redelegation too deep", func(n *NewTrust) { n.AllowRedelegation, n.RedelegationCount = true, ptr(MaxRedelegationCount+1) }, errs.KindForbidden},
		}
		for _, c := range cases {
			n := base()
			c.edit(&n)
			_, err := f.svc.CreateTrust(f.ctx, n)
			if !errs.Is(err, c.kind) {
				t.Errorf("%s: %v, want kind %d", c.name, err, c.kind)
			}
		}
		// By name, repeated: one role. Redelegation gets Keystone's depth.
		n := base()
		n.Roles = []TrustRoleRef{{Name: "member"}, {ID: member}}
		n.AllowRedelegation = true
		tr, err := f.svc.CreateTrust(f.ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.RoleIDs) != 1 || tr.RoleIDs[0] != member || tr.RedelegationCount != MaxRedelegationCount {
			t.Errorf("created %+v", tr)
		}
		got, err := f.svc.GetTrust(f.ctx, tr.ID)
		if err != nil || got.TrustorUserID != trustor.ID || len(got.RoleIDs) != 1 || got.RemainingUses != nil || got.ExpiresAt != nil {
			t.Errorf("GetTrust = %+v, %v", got, err)
		}
	})
}

func TestTrustTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		trustor, trustee := f.user(t, "trustor", "pw"), f.user(t, "trustee", "pw")
		other := f.user(t, "other", "pw")
		p := f.project(t, "p")
		f.grant(t, p.ID, trustor.ID, "member")
		f.grant(t, p.ID, trustor.ID, "reader")
		member := f.roleID(t, "member")
		expires := f.now.Add(30 * time.Minute)
		trust := func(impersonate bool, uses *int) *Trust {
			tr, err := f.svc.CreateTrust(f.ctx, NewTrust{TrustorUserID: trustor.ID, TrusteeUserID: trustee.ID, ProjectID: p.ID,
				Impersonation: impersonate, RemainingUses: uses, ExpiresAt: &expires, Roles: []TrustRoleRef{{ID: member}}})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		issue := func(user string, trustID string) (*Token, error) {
			return f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"},
				Password: &PasswordAuth{UserName: user, DomainID: DefaultDomainID, Password: "pw"}, Scope: ScopeRequest{TrustID: trustID}})
		}

		for _, impersonate := range []bool{false, true} {
			tr := trust(impersonate, ptr(2))
			tok, err := issue("trustee", tr.ID)
			if err != nil {
				t.Fatalf("impersonation %v: %v", impersonate, err)
			}
			wantUser := trustee.ID
			if impersonate {
				wantUser = trustor.ID
			}
			// The trust's roles only (not the trustor's reader role); the
			// token ends with the trust.
			if tok.UserID != wantUser || tok.ProjectID != p.ID || len(tok.Roles) != 1 || tok.Roles[0].ID != member ||
				tok.Trust == nil || tok.Trust.ID != tr.ID || tok.Trust.Impersonation != impersonate || !tok.ExpiresAt.Equal(expires) {
				t.Errorf("impersonation %v: token %+v (trust %+v)", impersonate, tok, tok.Trust)
			}
			v, err := f.svc.ValidateToken(f.ctx, tok.ID)
			if err != nil || v.UserID != wantUser || v.Trust == nil || len(v.Roles) != 1 || v.Roles[0].ID != member {
				t.Errorf("impersonation %v: validated %+v, %v", impersonate, v, err)
			}
			pr, err := f.svc.Authenticate(f.ctx, tok.ID)
			if err != nil || pr.UserID != wantUser || pr.ProjectID != p.ID || len(pr.Roles) != 1 || pr.Roles[0] != "member" {
				t.Errorf("impersonation %v: principal %+v, %v", impersonate, pr, err)
			}
			// A trust token cannot be re-scoped.
			_, err = f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"token"}, Token: tok.ID, Scope: ScopeRequest{ProjectID: p.ID}})
			wantKind(t, err, errs.KindForbidden)
			// Two uses: the second works, the third finds no trust.
			if _, err := issue("trustee", tr.ID); err != nil {
				t.Fatal(err)
			}
			_, err = issue("trustee", tr.ID)
			wantKind(t, err, errs.KindNotFound)
		}

		tr := trust(false, nil)
		_, err := issue("other", tr.ID)
		wantKind(t, err, errs.KindForbidden) // not the trustee
		_ = other
		tok, err := issue("trustee", tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The trustor losing the delegated role ends the token.
		if err := f.svc.RevokeGrant(f.ctx, Target{Project: p.ID}, trustor.ID, member); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ValidateToken(f.ctx, tok.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("token after the trustor lost the role: %v, want 404", err)
		}
		_, err = issue("trustee", tr.ID)
		wantKind(t, err, errs.KindForbidden) // no delegated roles left
		f.grant(t, p.ID, trustor.ID, "member")
		if _, err := f.svc.ValidateToken(f.ctx, tok.ID); err != nil {
			t.Errorf("token after the role came back: %v", err)
		}
		// Deleting the trust ends its tokens and hides it.
		if err := f.svc.DeleteTrust(f.ctx, tr.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ValidateToken(f.ctx, tok.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("token after the trust went: %v, want 404", err)
		}
		wantKind(t, f.svc.DeleteTrust(f.ctx, tr.ID), errs.KindNotFound)
		_, err = f.svc.GetTrust(f.ctx, tr.ID)
		wantKind(t, err, errs.KindNotFound)
		// An expired trust is gone too.
		old := trust(false, nil)
		f.now = expires.Add(time.Second)
		_, err = f.svc.GetTrust(f.ctx, old.ID)
		wantKind(t, err, errs.KindNotFound)
	})
}

func TestListTrusts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b, c := f.user(t, "a", "pw"), f.user(t, "b", "pw"), f.user(t, "c", "pw")
		p := f.project(t, "p")
		for _, u := range []*User{a, b} {
			f.grant(t, p.ID, u.ID, "member")
		}
		mk := func(from, to *User) string {
			tr, err := f.svc.CreateTrust(f.ctx, NewTrust{TrustorUserID: from.ID, TrusteeUserID: to.ID, ProjectID: p.ID,
				Roles: []TrustRoleRef{{Name: "member"}}})
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Second)
			return tr.ID
		}
		ab, ac, bc := mk(a, b), mk(a, c), mk(b, c)
		cases := []struct {
			f    TrustFilter
			want []string
		}{
			{TrustFilter{}, []string{ab, ac, bc}},
			{TrustFilter{TrustorUserID: a.ID}, []string{ab, ac}},
			{TrustFilter{TrusteeUserID: c.ID}, []string{ac, bc}},
			{TrustFilter{TrustorUserID: b.ID, TrusteeUserID: b.ID}, nil},
		}
		for _, tc := range cases {
			got, err := f.svc.ListTrusts(f.ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tr := range got {
				ids = append(ids, tr.ID)
			}
			if len(ids) != len(tc.want) {
				t.Errorf("%+v: %v, want %v", tc.f, ids, tc.want)
				continue
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Errorf("%+v: %v, want %v", tc.f, ids, tc.want)
				}
			}
		}
	})
}
