package identity

import (
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestAuthenticateCache: a token Authenticate validated is trusted from
// memory, but every change that takes it away through the service is
// seen by the very next request, a change made behind the service's back
// (another kumo process) within the cache TTL, and expiry exactly.
func TestAuthenticateCache(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// change takes the token's access away; seenAfter is how
		// long until Authenticate notices (0: at once).
		change    func(f *fixture, u *User, p *Project, tok *Token)
		seenAfter time.Duration
	}{
		{"token revoked", func(f *fixture, u *User, p *Project, tok *Token) {
			must(t, f.svc.RevokeToken(f.ctx, tok.ID))
		}, 0},
		{"user disabled", func(f *fixture, u *User, p *Project, tok *Token) {
			_, err := f.svc.UpdateUser(f.ctx, u.ID, UserPatch{Enabled: ptr(false)})
			must(t, err)
		}, 0},
		{"project disabled", func(f *fixture, u *User, p *Project, tok *Token) {
			_, err := f.svc.UpdateProject(f.ctx, p.ID, ProjectPatch{Enabled: ptr(false)})
			must(t, err)
		}, 0},
		{"role revoked", func(f *fixture, u *User, p *Project, tok *Token) {
			must(t, f.svc.RevokeGrant(f.ctx, Target{Project: p.ID}, u.ID, f.roleID(t, "member")))
		}, 0},
		{"user deleted", func(f *fixture, u *User, p *Project, tok *Token) {
			must(t, f.svc.DeleteUser(f.ctx, u.ID))
		}, 0},
		{"token deleted by another process", func(f *fixture, u *User, p *Project, tok *Token) {
			_, err := f.svc.db.ExecContext(f.ctx, `UPDATE tokens SET revoked = TRUE WHERE hash = ?`, tokenHash(tok.ID))
			must(t, err)
		}, defaultTokenCacheTTL},
		{"token expired", func(f *fixture, u *User, p *Project, tok *Token) {
			f.now = tok.ExpiresAt.Add(-time.Second)
		}, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db)
				u := f.user(t, "carol", "pw")
				p := f.project(t, "cached")
				f.grant(t, p.ID, u.ID, "member")
				tok := f.passwordToken(t, "carol", "pw", p.ID)
				if _, err := f.svc.Authenticate(f.ctx, tok.ID); err != nil {
					t.Fatal(err)
				}
				// Cached now: the database is not asked again.
				if got, err := f.svc.Authenticate(f.ctx, tok.ID); err != nil || got.ProjectID != p.ID || !got.HasRole("member") {
					t.Fatalf("second authenticate: %+v, %v", got, err)
				}
				tc.change(f, u, p, tok)
				if tc.seenAfter > 0 {
					if _, err := f.svc.Authenticate(f.ctx, tok.ID); err != nil {
						t.Fatalf("before the cache TTL: %v", err)
					}
					f.now = f.now.Add(tc.seenAfter)
				}
				_, err := f.svc.Authenticate(f.ctx, tok.ID)
				wantKind(t, err, errs.KindUnauthorized)
			})
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
