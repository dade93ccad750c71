package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// issueToken logs in with a password over plain HTTP, as any client
// does, and returns the X-Subject-Token.
func issueToken(t *testing.T, s *Server, user, password, project string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "password": password, "domain": map[string]string{"name": "Default"}}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]string{"name": "Default"}}},
	}})
	resp, err := http.Post(s.URL+"/identity/v3/auth/tokens", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /identity/v3/auth/tokens: %v", err)
	}
	defer resp.Body.Close()
	tok := resp.Header.Get("X-Subject-Token")
	if resp.StatusCode != http.StatusCreated || tok == "" {
		t.Fatalf("POST /identity/v3/auth/tokens: status %d, X-Subject-Token %q", resp.StatusCode, tok)
	}
	return tok
}

// getWithToken calls GET url with X-Auth-Token and returns the response
// (body closed).
func getWithToken(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	s := Start(t, kumoBin, Options{Args: []string{"--token-ttl", ttl.String()}})
	c := NewClients(t, s.CloudsFile(), "kumo")
	token := issueToken(t, s, c.Auth.Username, c.Auth.Password, c.Auth.TenantName)
	issued := time.Now()

	if resp := getWithToken(t, s.URL+"/v2.1/flavors", token); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2.1/flavors with a fresh token: status %d, want 200", resp.StatusCode)
	}
	time.Sleep(time.Until(issued.Add(ttl + time.Second)))
	resp := getWithToken(t, s.URL+"/v2.1/flavors", token)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2.1/flavors with an expired token: status %d, want 401", resp.StatusCode)
	}
	if www := resp.Header.Get("WWW-Authenticate"); !strings.Contains(www, s.URL+"/identity/v3") {
		t.Errorf("401 WWW-Authenticate = %q, want it to name %s/identity/v3", www, s.URL)
	}
}

// TestNoAuth runs kumo with --auth noauth: a token is "user:project", the
// user "admin" is an administrator, anyone else is a member.
func TestNoAuth(t *testing.T) {
	t.Parallel()
	s := Start(t, kumoBin, Options{Args: []string{"--auth", "noauth"}})
	create := func(token string) int {
		t.Helper()
		body := strings.NewReader(`{"flavor": {"name": "noauth-` + strings.ReplaceAll(token, ":", "-") + `", "ram": 64, "vcpus": 1, "disk": 0}}`)
		req, err := http.NewRequest(http.MethodPost, s.URL+"/v2.1/flavors", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /v2.1/flavors: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if resp := getWithToken(t, s.URL+"/v2.1/flavors", "bob:p1"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2.1/flavors as bob:p1: status %d, want 200", resp.StatusCode)
	}
	if got := create("admin:admin"); got != http.StatusOK {
		t.Errorf("create a flavor as admin:admin: status %d, want 200", got)
	}
	if got := create("bob:p1"); got != http.StatusForbidden {
		t.Errorf("create a flavor as bob:p1: status %d, want 403", got)
	}
	if resp := getWithToken(t, s.URL+"/v2.1/flavors", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v2.1/flavors without a token: status %d, want 401", resp.StatusCode)
	}
}

// TestLoginLockoutAndLimit runs kumo with Keystone's lockout and the
// per-address limit of failed logins set by flags, and logs in over
// HTTP: two failures lock the admin (the right password fails too)
// until the lock runs out; the fourth failed login from this address
// makes the next answer a 429 with Retry-After.
func TestLoginLockoutAndLimit(t *testing.T) {
	t.Parallel()
	const lockout = 2 * time.Second
	s := Start(t, kumoBin, Options{Args: []string{"--lockout-failure-attempts", "2", "--lockout-duration", lockout.String(),
		"--login-failures-per-source", "4", "--login-failure-window", "1h"}})
	c := NewClients(t, s.CloudsFile(), "kumo")
	login := func(password string, want int) *http.Response {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
				"user": map[string]any{"name": c.Auth.Username, "password": password, "domain": map[string]string{"name": "Default"}}}},
		}})
		resp, err := http.Post(s.URL+"/identity/v3/auth/tokens", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST /identity/v3/auth/tokens: %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("login with password %q: status %d, want %d", password, resp.StatusCode, want)
		}
		var e struct {
			Error struct {
				Code  int    `json:"code"`
				Title string `json:"title"`
			} `json:"error"`
		}
		if want >= 400 && (json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error.Code != want || e.Error.Title != http.StatusText(want)) {
			t.Errorf("%d body: %+v, want Keystone's error body", want, e)
		}
		return resp
	}
	login("wrong", http.StatusUnauthorized)
	login("wrong", http.StatusUnauthorized)
	lastFailure := time.Now()
	login(c.Auth.Password, http.StatusUnauthorized) // locked
	time.Sleep(time.Until(lastFailure.Add(lockout + 500*time.Millisecond)))
	login(c.Auth.Password, http.StatusCreated)

	// Three failures so far from here; a fourth spends the allowance.
	login("wrong", http.StatusUnauthorized)
	resp := login(c.Auth.Password, http.StatusTooManyRequests)
	// A failure comes back every 1h/4, less the seconds since the first.
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 800 || ra > 900 {
		t.Errorf("Retry-After %q, want a little under 900", resp.Header.Get("Retry-After"))
	}
}
