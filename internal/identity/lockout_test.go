package identity

import (
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestPasswordChecksDoEqualWork: whatever is wrong with a password
// login (no such user, a user of another domain, a disabled or locked
// user, a wrong password), exactly one bcrypt comparison is made,
// against a hash of the configured cost, so the time of the answer does
// not tell which. Timing-free: the comparisons are counted.
func TestPasswordChecksDoEqualWork(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *Options) {
			o.PasswordHashCost = 5
			o.LockoutFailureAttempts = 2
		})
		u := f.user(t, "frank", "pw")
		off, err := f.svc.CreateUser(f.ctx, User{Name: "off", Enabled: false}, ptr("pw"))
		if err != nil {
			t.Fatal(err)
		}
		nopw, err := f.svc.CreateUser(f.ctx, User{Name: "nopw", Enabled: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		locked := f.user(t, "locked", "pw")
		other, err := f.svc.CreateDomain(f.ctx, Domain{Name: "other", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		dark, err := f.svc.CreateDomain(f.ctx, Domain{Name: "dark", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		inDark, err := f.svc.CreateUser(f.ctx, User{Name: "grace", DomainID: dark.ID, Enabled: true}, ptr("pw"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateDomain(f.ctx, dark.ID, DomainPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			_, _ = f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"}, Password: &PasswordAuth{UserID: locked.ID, Password: "bad"}})
		}
		f.comparisons()

		byName := func(name, pw string) *PasswordAuth {
			return &PasswordAuth{UserName: name, DomainID: DefaultDomainID, Password: pw}
		}
		tests := []struct {
			name string
			auth *PasswordAuth
			ok   bool
		}{
			{"right password", byName("frank", "pw"), true},
			{"wrong password", byName("frank", "bad"), false},
			{"unknown name", byName("nobody", "pw"), false},
			{"unknown id", &PasswordAuth{UserID: "0123456789abcdef", Password: "pw"}, false},
			{"user of another domain by domain id", &PasswordAuth{UserName: "frank", DomainID: other.ID, Password: "pw"}, false},
			{"user of another domain by domain name", &PasswordAuth{UserName: "frank", DomainName: "other", Password: "pw"}, false},
			{"unknown domain name", &PasswordAuth{UserName: "frank", DomainName: "nowhere", Password: "pw"}, false},
			{"disabled user, right password", byName("off", "pw"), false},
			{"disabled user, wrong password", byName("off", "bad"), false},
			{"user without a password", byName("nopw", ""), false},
			{"user without a password, by id", &PasswordAuth{UserID: nopw.ID, Password: "x"}, false},
			{"locked user, right password", byName("locked", "pw"), false},
			{"locked user, wrong password", byName("locked", "bad"), false},
			{"user of a disabled domain", &PasswordAuth{UserID: inDark.ID, Password: "pw"}, false},
			{"disabled user by id", &PasswordAuth{UserID: off.ID, Password: "pw"}, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"}, Password: tc.auth})
				if tc.ok && err != nil {
					t.Fatalf("IssueToken: %v", err)
				}
				if !tc.ok {
					wantKind(t, err, errs.KindUnauthorized)
					if err.Error() != unauthorizedMessage {
						t.Errorf("message %q, want Keystone's generic %q", err.Error(), unauthorizedMessage)
					}
				}
				if got := f.comparisons(); !slices.Equal(got, []int{5}) {
					t.Errorf("bcrypt comparisons at costs %v, want exactly one at cost 5", got)
				}
			})
		}
		// The self-service password change checks the same way.
		for _, id := range []string{u.ID, "0123456789abcdef", locked.ID, off.ID} {
			wantKind(t, f.svc.ChangePassword(f.ctx, id, "bad", "new"), errs.KindUnauthorized)
			if got := f.comparisons(); !slices.Equal(got, []int{5}) {
				t.Errorf("password change of %s: comparisons at costs %v, want exactly one at cost 5", id, got)
			}
		}
	})
}

// failures reads a user's count of failed logins and whether the time
// of the last one is set.
func failures(t *testing.T, f *fixture, userID string) (int, bool) {
	t.Helper()
	var n int
	var at *int64
	if err := f.svc.db.QueryRowContext(f.ctx, `SELECT failed_auth_count, failed_auth_at FROM users WHERE id = ?`, userID).Scan(&n, &at); err != nil {
		t.Fatal(err)
	}
	return n, at != nil
}

// TestLockout follows Keystone's lockout (identity/backends/sql.py): N
// consecutive failures lock the user for the duration, during which even
// the right password fails and attempts are not counted; success resets
// the count; an expired lock starts the count again; an admin's update
// of the user, or the ignore_lockout_failure_attempts option, unlocks.
func TestLockout(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		do      string // "login", "change" (self-service password change), "update" (admin PATCH), "disable", "exempt"
		pw      string
		ok      bool
		count   int // failed_auth_count after the step
	}
	login := func(advance time.Duration, pw string, ok bool, count int) step {
		return step{advance: advance, do: "login", pw: pw, ok: ok, count: count}
	}
	const attempts, duration = 3, 10 * time.Minute
	tests := []struct {
		name     string
		attempts int // lockout_failure_attempts (0: off)
		steps    []step
	}{
		{"failures count, success resets", attempts, []step{
			login(0, "bad", false, 1), login(time.Second, "bad", false, 2), login(time.Second, "pw", true, 0),
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "pw", true, 0),
		}},
		{"locked after N failures, even with the right password", attempts, []step{
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "bad", false, 3),
			login(time.Second, "pw", false, 3), login(time.Second, "bad", false, 3),
		}},
		{"lock lasts the duration from the last failure", attempts, []step{
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(time.Minute, "bad", false, 3),
			login(duration-time.Second, "pw", false, 3), login(time.Second, "pw", true, 0),
		}},
		{"an expired lock starts the count again", attempts, []step{
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "bad", false, 3),
			login(duration, "bad", false, 1), login(0, "bad", false, 2), login(0, "pw", true, 0),
		}},
		{"admin update unlocks", attempts, []step{
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "bad", false, 3),
			{do: "update", ok: true, count: 0}, login(0, "pw", true, 0),
		}},
		{"disabling keeps the count, enabling again clears it", attempts, []step{
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "bad", false, 3),
			{do: "disable", ok: true, count: 3}, login(0, "pw", false, 3),
			{do: "update", ok: true, count: 0}, login(0, "pw", true, 0),
		}},
		{"exempt user is never locked", attempts, []step{
			{do: "exempt", ok: true, count: 0},
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "bad", false, 3), login(0, "bad", false, 4),
			login(0, "pw", true, 0),
		}},
		{"password change counts and is locked too", attempts, []step{
			{do: "change", pw: "bad", count: 1}, login(0, "bad", false, 2), {do: "change", pw: "bad", count: 3},
			{do: "change", pw: "pw", count: 3}, login(duration, "pw", true, 0), {do: "change", pw: "pw", ok: true, count: 0},
		}},
		{"lockout off: counted, never locked", 0, []step{
			login(0, "bad", false, 1), login(0, "bad", false, 2), login(0, "bad", false, 3), login(0, "bad", false, 4),
			login(0, "pw", true, 0),
		}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *Options) { o.LockoutDuration = duration })
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f.svc.opts.LockoutFailureAttempts = tc.attempts
				name := "u" + string(rune('a'+i))
				u := f.user(t, name, "pw")
				pw := "pw" // the user's password; a change sets it again
				for j, s := range tc.steps {
					f.now = f.now.Add(s.advance)
					var err error
					switch s.do {
					case "login":
						_, err = f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"},
							Password: &PasswordAuth{UserName: name, DomainID: DefaultDomainID, Password: s.pw}})
					case "change":
						err = f.svc.ChangePassword(f.ctx, u.ID, s.pw, pw)
					case "update":
						_, err = f.svc.UpdateUser(f.ctx, u.ID, UserPatch{Enabled: ptr(true)})
					case "disable":
						_, err = f.svc.UpdateUser(f.ctx, u.ID, UserPatch{Enabled: ptr(false)})
					case "exempt":
						_, err = f.svc.UpdateUser(f.ctx, u.ID, UserPatch{Options: map[string]any{"ignore_lockout_failure_attempts": true}})
					}
					if s.ok && err != nil {
						t.Fatalf("step %d (%s %q): %v", j, s.do, s.pw, err)
					}
					if !s.ok {
						if !errs.Is(err, errs.KindUnauthorized) {
							t.Fatalf("step %d (%s %q): %v, want a 401", j, s.do, s.pw, err)
						}
						if err.Error() != unauthorizedMessage {
							t.Errorf("step %d: message %q, want %q", j, err.Error(), unauthorizedMessage)
						}
					}
					if n, at := failures(t, f, u.ID); n != s.count || at != (n > 0) {
						t.Fatalf("step %d (%s %q): failed_auth_count %d (time set %v), want %d", j, s.do, s.pw, n, at, s.count)
					}
				}
			})
		}
	})
}
