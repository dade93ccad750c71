package identity

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/ratelimit"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestLoginSource(t *testing.T) {
	t.Parallel()
	tests := []struct{ remote, want string }{
		{"192.0.2.7:4242", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4242", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:4242", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::9]:1", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::9]:1", "2001:db8:1:3::/64"},
		{"not an address", "not an address"},
	}
	for _, tc := range tests {
		r := &http.Request{RemoteAddr: tc.remote}
		if got := loginSource(r); got != tc.want {
			t.Errorf("loginSource(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

// TestTokenLockoutAndLoginLimit drives POST /v3/auth/tokens and the
// self-service password change: a user locked after 3 failures (the
// right password then fails with Keystone's plain 401 until an admin
// updates the user), and a client address that fails 5 logins is
// answered 429 with Retry-After whoever it names, while other addresses
// and successful logins are not held back.
func TestTokenLockoutAndLoginLimit(t *testing.T) {
	t.Parallel()
	const burst, window = 5, 5 * time.Minute
	e := newEnv(t, storetest.SQLite(t), func(o *envOptions) {
		o.identity.LockoutFailureAttempts = 3
		o.failedLogins = ratelimit.New(ratelimit.Options{Burst: burst, Window: window})
	})
	from := func(addr string) []string { return []string{"X-Test-Remote-Addr", addr} }
	login := func(addr, name, pw string) *responseAlias {
		t.Helper()
		return e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth(name, pw, nil), from(addr)...)
	}

	// Lockout: three failures from three addresses lock alice.
	for i, addr := range []string{"192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1"} {
		t.Logf("failure %d", i+1)
		wantError(t, login(addr, "alice", "wrong"), http.StatusUnauthorized, unauthorizedMsg)
	}
	wantError(t, login("192.0.2.4:1", "alice", "pw"), http.StatusUnauthorized, unauthorizedMsg)
	e.admin.Do("PATCH", "/identity/v3/users/"+e.alice.ID, obj{"user": obj{"enabled": true}}).Expect(t, http.StatusOK)
	login("192.0.2.4:1", "alice", "pw").Expect(t, http.StatusCreated)

	// Per-source limit: 5 failures (whoever they name), then 429.
	const blocked = "198.51.100.9:5000"
	for range burst {
		wantError(t, login(blocked, "nobody", "x"), http.StatusUnauthorized, unauthorizedMsg)
	}
	for _, name := range []string{"nobody", "admin"} { // the right password too
		r := login(blocked, name, "secret")
		wantError(t, r, http.StatusTooManyRequests, "Too many failed authentication attempts from this address. Retry in 60 seconds.")
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra != int(window/burst/time.Second) {
			t.Errorf("Retry-After %q, want %d", r.Header.Get("Retry-After"), int(window/burst/time.Second))
		}
	}
	r := e.c.Do("POST", "/identity/v3/users/"+e.alice.ID+"/password",
		obj{"user": obj{"original_password": "pw", "password": "new"}}, from(blocked)...)
	wantError(t, r, http.StatusTooManyRequests, "")
	// The token method is no password guess: not held back.
	e.c.Do("POST", "/identity/v3/auth/tokens", obj{"auth": obj{"identity": obj{"methods": []string{"token"},
		"token": obj{"id": e.adminToken}}}}, from(blocked)...).Expect(t, http.StatusCreated)
	// Another address is not held back.
	login("198.51.100.10:5000", "admin", "secret").Expect(t, http.StatusCreated)

	// Successful logins spend nothing.
	for range 2 * burst {
		login("203.0.113.5:1", "admin", "secret").Expect(t, http.StatusCreated)
	}
	// IPv6 sources count by /64.
	for i := range burst {
		login("[2001:db8::"+strconv.Itoa(i+1)+"]:1", "nobody", "x").Expect(t, http.StatusUnauthorized)
	}
	login("[2001:db8::99]:1", "admin", "secret").Expect(t, http.StatusTooManyRequests)
	login("[2001:db8:0:1::1]:1", "admin", "secret").Expect(t, http.StatusCreated)

	// The self-service password change counts its 401s too, and answers
	// an unknown user with Keystone's 401, not a 404.
	const changer = "192.0.2.200:1"
	for range burst {
		r := e.c.Do("POST", "/identity/v3/users/no-such-user/password",
			obj{"user": obj{"original_password": "x", "password": "new"}}, from(changer)...)
		wantError(t, r, http.StatusUnauthorized, unauthorizedMsg)
	}
	r = e.c.Do("POST", "/identity/v3/users/"+e.alice.ID+"/password",
		obj{"user": obj{"original_password": "pw", "password": "new"}}, from(changer)...)
	wantError(t, r, http.StatusTooManyRequests, "")
}
