package identity

import (
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
