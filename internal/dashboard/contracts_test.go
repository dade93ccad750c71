package dashboard

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// stubAPI answers as kumo's APIs will once the consoles and fault
// injection land (their contracts), and as Keystone for the session.
type stubAPI struct {
	mu      sync.Mutex
	calls   []string
	answers map[string]func(w http.ResponseWriter, r *http.Request)
}

func (s *stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if r.URL.Path == "/identity/v3/auth/tokens" && r.Method == http.MethodGet {
		_, _ = io.WriteString(w, `{"token": {"user": {"id": "u1", "name": "ann", "domain": {"name": "Default"}},
			"project": {"id": "p1", "name": "demo"}, "roles": [{"name": "admin"}], "catalog": []}}`)
		return
	}
	if h, ok := s.answers[r.Method+" "+r.URL.Path]; ok {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"itemNotFound": {"code": 404, "message": "The resource could not be found."}}`)
}

func (s *stubAPI) called(call string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c == call {
			return true
		}
	}
	return false
}

func jsonAnswer(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// request runs one browser request against a dashboard over api.
func request(t *testing.T, api http.Handler, method, p string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	d, err := New(api, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var body io.Reader
	if form != nil {
		form.Set("csrf", csrfFor("tok"))
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, p, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.AddCookie(&http.Cookie{Name: tokenCookie, Value: "tok"})
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	return w
}

func TestFaultsContract(t *testing.T) {
	tests := []struct {
		name    string
		answers map[string]func(http.ResponseWriter, *http.Request)
		want    []string
	}{
		{name: "not there yet", want: []string{"Fault injection is not available"}},
		{name: "rules and events", answers: map[string]func(http.ResponseWriter, *http.Request){
			"GET /kumo/v1/faults": jsonAnswer(200, `{"faults": [{"id": "f1", "name": "<b>slow</b>", "service": "compute",
				"method": "POST", "path": "/servers", "probability": 0.5, "count": 3,
				"action": {"type": "delay", "delay_ms": 250}, "hits": 2, "created_at": "2026-12-07T19:00:00Z"}]}`),
			"GET /kumo/v1/faults/events": jsonAnswer(200, `{"events": [{"fault_id": "f1", "fault_name": "slow",
				"request_id": "req-9", "service": "compute", "method": "POST", "path": "/servers", "action": "delay", "at": "2026-12-07T19:01:00Z"}]}`),
		}, want: []string{"&lt;b&gt;slow&lt;/b&gt;", "250 ms", "req-9", "<td>0.5</td><td>3</td><td>2</td>", `action="/dashboard/admin/faults/f1/delete"`}},
		{name: "refused", answers: map[string]func(http.ResponseWriter, *http.Request){
			"GET /kumo/v1/faults": jsonAnswer(403, `{"forbidden": {"code": 403, "message": "Policy doesn't allow kumo:faults:list to be performed."}}`),
		}, want: []string{"Policy doesn&#39;t allow kumo:faults:list to be performed."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := request(t, &stubAPI{answers: tt.answers}, http.MethodGet, "/dashboard/admin/faults", nil)
			for _, want := range tt.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("page lacks %q:\n%s", want, w.Body)
				}
			}
		})
	}
	api := &stubAPI{answers: map[string]func(http.ResponseWriter, *http.Request){
		"DELETE /kumo/v1/faults/f1": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
	}}
	if w := request(t, api, http.MethodPost, "/dashboard/admin/faults/f1/delete", url.Values{}); w.Code != http.StatusSeeOther || !api.called("DELETE /kumo/v1/faults/f1") {
		t.Errorf("delete rule: %d, calls %v", w.Code, api.calls)
	}
}

func TestConsoleContract(t *testing.T) {
	tests := []struct {
		typ, answer string
		status      int
		want        []string
		policy      string
	}{
		{typ: "serial", status: 200, answer: `{"remote_console": {"protocol": "serial", "type": "serial", "url": "ws://127.0.0.1:6083/?token=a&b"}}`,
			want: []string{`id="terminal"`, `data-url="ws://127.0.0.1:6083/?token=a&amp;b"`}, policy: "connect-src 'self' ws://127.0.0.1:6083"},
		{typ: "novnc", status: 200, answer: `{"remote_console": {"protocol": "vnc", "type": "novnc", "url": "http://127.0.0.1:6080/vnc_auto.html?token=x"}}`,
			want: []string{`<iframe id="vnc" src="http://127.0.0.1:6080/vnc_auto.html?token=x"`}, policy: "frame-src 'self' http://127.0.0.1:6080"},
		{typ: "serial", status: 400, answer: `{"badRequest": {"code": 400, "message": "Unavailable console type serial."}}`,
			want: []string{`id="console-error"`, "Unavailable console type serial."}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"-"+http.StatusText(tt.status), func(t *testing.T) {
			var asked map[string]map[string]string
			api := &stubAPI{answers: map[string]func(http.ResponseWriter, *http.Request){
				"POST /v2.1/servers/s1/remote-consoles": func(w http.ResponseWriter, r *http.Request) {
					_ = json.NewDecoder(r.Body).Decode(&asked)
					jsonAnswer(tt.status, tt.answer)(w, r)
				},
			}}
			w := request(t, api, http.MethodPost, "/dashboard/servers/s1/console", url.Values{"type": {tt.typ}})
			for _, want := range tt.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("page lacks %q:\n%s", want, w.Body)
				}
			}
			if got := asked["remote_console"]["type"]; got != tt.typ {
				t.Errorf("asked for console type %q, want %q", got, tt.typ)
			}
			if csp := w.Header().Get("Content-Security-Policy"); tt.policy != "" && !strings.Contains(csp, tt.policy) {
				t.Errorf("CSP %q lacks %q", csp, tt.policy)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{404, `{"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}`, "Instance x could not be found."},
		{401, `{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`, "The request you have made requires authentication."},
		{409, `{"NeutronError": {"type": "NetworkInUse", "message": "Unable to complete operation on network n.", "detail": ""}}`, "Unable to complete operation on network n."},
		{409, "409 Conflict\n\nImage status transition from active to saving is not allowed\n\n   ", "Image status transition from active to saving is not allowed"},
		{502, "", "502 Bad Gateway"},
	}
	for _, tt := range tests {
		if got := errorMessage(tt.status, []byte(tt.body)); got != tt.want {
			t.Errorf("errorMessage(%d, %q) = %q, want %q", tt.status, tt.body, got, tt.want)
		}
	}
}

func TestLoginCookie(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		forwarded  string
		wantSecure bool
	}{
		{name: "plain", target: "http://kumo.test/dashboard/login"},
		{name: "tls", target: "https://kumo.test/dashboard/login", wantSecure: true},
		{name: "behind a TLS proxy", target: "http://kumo.test/dashboard/login", forwarded: "https", wantSecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent map[string]any
			api := &stubAPI{answers: map[string]func(http.ResponseWriter, *http.Request){
				"POST /identity/v3/auth/tokens": func(w http.ResponseWriter, r *http.Request) {
					_ = json.NewDecoder(r.Body).Decode(&sent)
					w.Header().Set("X-Subject-Token", "tok-1")
					jsonAnswer(201, `{"token": {"user": {"id": "u1", "name": "ann"}}}`)(w, r)
				},
			}}
			d, err := New(api, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{"csrf": {"pair"}, "method": {"password"}, "user": {"ann"}, "password": {"pw"}, "domain": {"Default"}}
			r := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			r.AddCookie(&http.Cookie{Name: loginCookie, Value: "pair"})
			w := httptest.NewRecorder()
			d.ServeHTTP(w, r)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != Prefix+"projects" {
				t.Fatalf("login: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
			}
			var tok *http.Cookie
			for _, c := range w.Result().Cookies() {
				if c.Name == tokenCookie {
					tok = c
				}
			}
			if tok == nil || tok.Value != "tok-1" || !tok.HttpOnly || tok.SameSite != http.SameSiteStrictMode ||
				tok.Secure != tt.wantSecure || tok.Path != Prefix {
				t.Errorf("token cookie %+v, want tok-1, HttpOnly, SameSite=Strict, Secure=%v, path %s", tok, tt.wantSecure, Prefix)
			}
			user := sent["auth"].(map[string]any)["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)
			if user["name"] != "ann" || user["password"] != "pw" || user["domain"].(map[string]any)["name"] != "Default" {
				t.Errorf("Keystone was sent %v", sent)
			}
		})
	}
}

// TestRequestsContract: the inspector page over the API's answers: its
// entries (links to the instance action a server's POST caused), its 400
// shown beside the form, its 404 as not available, its 403 as worded.
func TestRequestsContract(t *testing.T) {
	tests := []struct {
		name, page string
		answers    map[string]func(http.ResponseWriter, *http.Request)
		status     int
		want       []string
	}{
		{name: "listed", page: "/dashboard/admin/requests?method=POST&status=&junk=1", answers: map[string]func(http.ResponseWriter, *http.Request){
			"GET /kumo/v1/requests": func(w http.ResponseWriter, r *http.Request) {
				if r.URL.RawQuery != "method=POST" {
					w.WriteHeader(http.StatusTeapot)
					return
				}
				jsonAnswer(200, `{"requests": [{"time": "2026-12-07T20:00:00Z", "method": "POST", "path": "/v2.1/servers/s1/action",
					"service": "compute", "microversion": "2.79", "status": 202, "duration_ms": 3.25, "request_id": "req-1",
					"project_id": "p1", "user_id": "u1", "server_id": "s1"}]}`)(w, r)
			},
		}, status: 200, want: []string{`href="/dashboard/servers/s1/actions/req-1"`, "POST /v2.1/servers/s1/action", "compute 2.79",
			"3.2", `name="method" value="POST"`}},
		{name: "invalid", page: "/dashboard/admin/requests?status=abc", answers: map[string]func(http.ResponseWriter, *http.Request){
			"GET /kumo/v1/requests": jsonAnswer(400, `{"error": {"code": 400, "message": "Invalid status \"abc\".", "title": "Bad Request"}}`),
		}, status: 200, want: []string{`id="requests-invalid"`, "Invalid status &#34;abc&#34;.", `name="status" value="abc"`}},
		{name: "unavailable", page: "/dashboard/admin/requests", status: 200, want: []string{`id="requests-unavailable"`}},
		{name: "refused", page: "/dashboard/admin/requests", answers: map[string]func(http.ResponseWriter, *http.Request){
			"GET /kumo/v1/requests": jsonAnswer(403, `{"error": {"code": 403, "message": "You are not authorized to perform the requested action: kumo:requests:list.", "title": "Forbidden"}}`),
		}, status: 403, want: []string{"kumo:requests:list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := request(t, &stubAPI{answers: tt.answers}, http.MethodGet, tt.page, nil)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			for _, want := range tt.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("page lacks %q:\n%s", want, w.Body)
				}
			}
		})
	}
}

func TestShortIDAndTime(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"req-c739db04-8a2b-4c1e-9f00-0123456789ab", "req-c739db04…"},
		{"1302dc63-b2e8-4d23-a760-23d8f9994900", "1302dc63…"},
		{"803158145e2d4b5c9e8f0a1b2c3d4e5f", "80315814…"},
		{"short", "short"}, {"123456789", "123456789"}, {"", ""},
	} {
		if got := shortID(tt.in); got != tt.want {
			t.Errorf("shortID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := shortTime("2026-12-07T20:44:06.810123456Z"); got != "2026-12-07 20:44:06.810" {
		t.Errorf("shortTime: %q", got)
	}
	if got := shortTime("yesterday"); got != "yesterday" {
		t.Errorf("shortTime of a non-time: %q", got)
	}
}
