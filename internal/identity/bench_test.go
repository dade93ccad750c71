package identity

import (
	"fmt"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// BenchmarkAuthenticate measures the per-request token check compute
// and image calls pay, on SQLite and PostgreSQL.
func BenchmarkAuthenticate(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		b.Run(name, func(b *testing.B) {
			svc := New(open(b), Options{})
			ctx := b.Context()
			pid, _, err := svc.Bootstrap(ctx, "secret")
			if err != nil {
				b.Fatal(err)
			}
			tok, err := svc.IssueToken(ctx, AuthRequest{Methods: []string{"password"},
				Password: &PasswordAuth{UserName: "admin", DomainID: DefaultDomainID, Password: "secret"},
				Scope:    ScopeRequest{ProjectID: pid}})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.Authenticate(ctx, tok.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPasswordLogin measures password logins on SQLite at several
// bcrypt costs: the right password (a token is issued), a wrong one for
// a known user, and an unknown user, which must take as long.
func BenchmarkPasswordLogin(b *testing.B) {
	for _, cost := range []int{MinPasswordHashCost, 9, 10, DefaultPasswordHashCost} {
		svc := New(storetest.SQLite(b), Options{PasswordHashCost: cost})
		ctx := b.Context()
		if _, _, err := svc.Bootstrap(ctx, "secret"); err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct{ name, user, password string }{
			{"right", "admin", "secret"}, {"wrong", "admin", "x"}, {"unknown", "nobody", "x"},
		} {
			b.Run(fmt.Sprintf("cost=%d/%s", cost, tc.name), func(b *testing.B) {
				req := AuthRequest{Methods: []string{"password"},
					Password: &PasswordAuth{UserName: tc.user, DomainID: DefaultDomainID, Password: tc.password}}
				for b.Loop() {
					if _, err := svc.IssueToken(ctx, req); (err == nil) != (tc.name == "right") {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
