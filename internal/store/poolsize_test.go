package store

import "testing"

// TestPoolSize: pool_max_conns sets the pool's size and leaves the URL
// pgx reads; without it the pool is postgresMaxConns.
func TestPoolSize(t *testing.T) {
	for _, tc := range []struct {
		dsn, want string
		n         int
		bad       bool
	}{
		{"postgres://u@h:5432/db", "postgres://u@h:5432/db", postgresMaxConns, false},
		{"postgres://u@h/db?sslmode=disable&pool_max_conns=4", "postgres://u@h/db?sslmode=disable", 4, false},
		{"postgres://u@h/db?pool_max_conns=2", "postgres://u@h/db", 2, false},
		{"postgres://u@h/db?options=-c%20synchronous_commit%3Doff&pool_max_conns=4&sslmode=disable",
			"postgres://u@h/db?options=-c%20synchronous_commit%3Doff&sslmode=disable", 4, false},
		{"postgres://u@h/db?pool_max_conns=0", "", 0, true},
		{"postgres://u@h/db?pool_max_conns=many", "", 0, true},
	} {
		got, n, err := poolSize(tc.dsn)
		if tc.bad {
			if err == nil {
				t.Errorf("poolSize(%q): no error, want one", tc.dsn)
			}
			continue
		}
		if err != nil || got != tc.want || n != tc.n {
			t.Errorf("poolSize(%q) = %q, %d, %v; want %q, %d", tc.dsn, got, n, err, tc.want, tc.n)
		}
	}
}
