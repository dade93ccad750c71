// Package apifuzz is the harness of the API fuzz targets (the FuzzXxx
// functions next to the handlers they exercise): one in-process kumo per
// fuzz process, on the engine KUMO_FUZZ_ENGINE names, with an admin and a
// member caller and a few fixtures, requests built as net/http's server
// would build them from the wire, and the invariants every answer must
// hold: no 5xx, and a 4xx in the error body of the API that gave it.
package apifuzz

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// EngineEnv names the database engine the handler-level targets run on:
// "sqlite" (the default) or "postgres" (storetest's server).
const EngineEnv = "KUMO_FUZZ_ENGINE"

// requestLimit is how long one request may take before the harness
// crashes the fuzz worker with every goroutine's stack. An input (its
// request, then the clean-up's waits of at most 2 s each) must stay
// inside the 10 s after which the fuzzer kills a worker without saying
// why; a request takes milliseconds.
const requestLimit = 4 * time.Second

// Password is the fuzz member's password (tokens seeds may name it).
const Password = "fuzz-member-password"

// Cloud is a kumo for one fuzz process.
type Cloud struct {
	App    *app.App
	Engine string
	// Admin and Member are tokens: the cloud's admin (admin project) and
	// a member of the project Project, user User.
	Admin, Member string
	Project       string
	User          string
	AdminProject  string
	Image         string // kumo-tiny's id
	Host          string // the compute host's name
	// Version is the newest compute microversion served.
	Version mv.Version

	log    *logBuffer
	server string // fixture server of the member, made on first need
	spare  string // the next fixture server, asked for ahead
}

// Open starts the cloud for f's target, closed when f ends. Every fuzz
// worker process opens its own. The process that coordinates the fuzzing
// of f (go test -fuzz) hands every input, seeds included, to its
// workers, so there Open opens nothing (a PostgreSQL cloud costs seconds
// and a schema): use the cloud only inside the fuzz function.
func Open(f *testing.F) *Cloud {
	f.Helper()
	engine := os.Getenv(EngineEnv)
	if engine == "" {
		engine = "sqlite"
	}
	if coordinating(f) {
		return &Cloud{Engine: engine}
	}
	cfg := app.Config{
		DataDir: f.TempDir(), PasswordHashCost: 4,
		FloatingRange: "203.0.113.0/24", FloatingPool: "public",
		// Room for every server the inputs may create at once, so
		// placement never decides an answer.
		HostVCPUs: 4096, HostMemoryMB: 1 << 24, HostDiskGB: 1 << 20,
		// LoginFailures 0: no limit of failed logins per address, or
		// FuzzAuthTokens would meet nothing but 429s after 20 inputs.
	}
	switch engine {
	case "sqlite":
	case "postgres":
		cfg.Database = storetest.PostgresDSN(f)
	default:
		f.Fatalf("%s=%q: want sqlite or postgres", EngineEnv, engine)
	}
	// The host endpoint on a listener, as kumo serve has it: remote
	// consoles reach the guests through it.
	var handler atomic.Pointer[http.Handler]
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "kumo is not open yet", http.StatusServiceUnavailable)
	}))
	f.Cleanup(endpoint.Close)
	cfg.HostURL = endpoint.URL
	logs := &logBuffer{}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		f.Fatalf("open kumo on %s: %v", engine, err)
	}
	handler.Store(&a.Handler)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Agent.Run(ctx); close(done) }()
	f.Cleanup(func() { stop(); <-done; a.Close() })

	c := &Cloud{App: a, Engine: engine, log: logs, Version: mv.Supported().Max, Host: a.Agent.Host()}
	creds, err := app.ReadClouds(a.Config.CloudsFile())
	if err != nil {
		f.Fatal(err)
	}
	c.Admin, c.AdminProject = c.login(f, creds.Username, creds.Password, "admin")
	c.Project = c.mustID(f, "POST", "/identity/v3/projects", c.Admin, `{"project":{"name":"fuzz","domain_id":"default"}}`, "project")
	c.User = c.mustID(f, "POST", "/identity/v3/users", c.Admin,
		fmt.Sprintf(`{"user":{"name":"fuzz-member","domain_id":"default","password":%q}}`, Password), "user")
	var roles struct {
		Roles []struct{ ID string } `json:"roles"`
	}
	c.mustJSON(f, c.do(f, "GET", "/identity/v3/roles?name=member", c.Admin, ""), &roles)
	if len(roles.Roles) != 1 {
		f.Fatalf("member role: %+v", roles)
	}
	c.must(f, c.do(f, "PUT", "/identity/v3/projects/"+c.Project+"/users/"+c.User+"/roles/"+roles.Roles[0].ID, c.Admin, ""), http.StatusNoContent)
	c.Member, _ = c.login(f, "fuzz-member", Password, "fuzz")
	var imgs struct {
		Images []struct{ ID string } `json:"images"`
	}
	c.mustJSON(f, c.do(f, "GET", "/image/v2/images?name=kumo-tiny", c.Member, ""), &imgs)
	if len(imgs.Images) != 1 {
		f.Fatalf("kumo-tiny: %+v", imgs)
	}
	c.Image = imgs.Images[0].ID
	return c
}

// coordinating reports whether this process coordinates the fuzzing of
// f rather than running its inputs: -test.fuzz (set by go test -fuzz)
// names f and -test.fuzzworker (set on the workers) is off.
func coordinating(f *testing.F) bool {
	fuzz, worker := flag.Lookup("test.fuzz"), flag.Lookup("test.fuzzworker")
	if fuzz == nil || worker == nil || fuzz.Value.String() == "" || worker.Value.String() == "true" {
		return false
	}
	matched, err := regexp.MatchString(fuzz.Value.String(), f.Name())
	return err == nil && matched
}

// login issues a project-scoped token and returns it with its project.
func (c *Cloud) login(tb testing.TB, user, password, project string) (token, projectID string) {
	tb.Helper()
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"domain":{"id":"default"},"password":%q}}},
		"scope":{"project":{"name":%q,"domain":{"id":"default"}}}}}`, user, password, project)
	r := c.must(tb, c.do(tb, "POST", "/identity/v3/auth/tokens", "", body), http.StatusCreated)
	var tok struct {
		Token struct {
			Project struct{ ID string } `json:"project"`
		} `json:"token"`
	}
	c.mustJSON(tb, r, &tok)
	return r.Header.Get("X-Subject-Token"), tok.Token.Project.ID
}

// Request is one request as a client sends it.
type Request struct {
	Method string
	// Target is the request-target: path and query as on the wire.
	Target string
	Token  string
	// Version is the compute microversion header's value ("" for none).
	Version string
	Body    []byte
	// Header holds more headers (name, value pairs); a Content-Type here
	// replaces the default application/json of a request with a body.
	Header []string
}

// Do sends r through kumo's whole handler (middleware, routing,
// authentication, policy, decoding, the services, the database). ok is
// false when net/http's server would have refused the request before
// kumo saw it (a malformed request line or header).
func (c *Cloud) Do(r Request) (resp *apitest.Response, ok bool) {
	var wire bytes.Buffer
	fmt.Fprintf(&wire, "%s %s HTTP/1.1\r\nHost: kumo.test\r\n", r.Method, r.Target)
	contentType := ""
	if r.Body != nil {
		contentType = "application/json"
	}
	hdr := [][2]string{}
	if r.Token != "" {
		hdr = append(hdr, [2]string{"X-Auth-Token", r.Token})
	}
	if r.Version != "" {
		hdr = append(hdr, [2]string{"OpenStack-API-Version", "compute " + r.Version})
	}
	for i := 0; i+1 < len(r.Header); i += 2 {
		if http.CanonicalHeaderKey(r.Header[i]) == "Content-Type" {
			contentType = r.Header[i+1]
			continue
		}
		hdr = append(hdr, [2]string{r.Header[i], r.Header[i+1]})
	}
	if contentType != "" {
		hdr = append(hdr, [2]string{"Content-Type", contentType})
	}
	for _, h := range hdr {
		if !validHeaderValue(h[1]) {
			return nil, false
		}
		fmt.Fprintf(&wire, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&wire, "Content-Length: %d\r\n\r\n", len(r.Body))
	wire.Write(r.Body)
	req, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		return nil, false
	}
	req.RemoteAddr = "192.0.2.1:40000"
	rec := httptest.NewRecorder()
	c.log.reset()
	// A request that hangs is a finding too: the fuzzer would only see
	// a worker that stopped answering, so crash it with every stack.
	watchdog := time.AfterFunc(requestLimit, func() {
		stacks := make([]byte, 1<<22)
		stacks = stacks[:runtime.Stack(stacks, true)]
		panic(fmt.Sprintf("%s %q (version %q) took over %v; body %q\n%s", r.Method, r.Target, r.Version, requestLimit, r.Body, stacks))
	})
	c.App.Handler.ServeHTTP(rec, req)
	watchdog.Stop()
	return &apitest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}, true
}

// Send does req and checks the invariants of its answer (Check); nil
// when net/http's server would have refused the request itself.
func (c *Cloud) Send(t *testing.T, req Request) *apitest.Response {
	t.Helper()
	r, ok := c.Do(req)
	if !ok {
		return nil
	}
	c.Check(t, req, r)
	return r
}

// Expect sends a follow-up request (a clean-up after an input), which
// must answer status.
func (c *Cloud) Expect(t *testing.T, req Request, status int) *apitest.Response {
	t.Helper()
	r, ok := c.Do(req)
	if !ok {
		t.Fatalf("%s %q: not a valid request", req.Method, req.Target)
	}
	if r.Status != status {
		t.Fatalf("%s %q: %d, want %d: %s\nlog:\n%s", req.Method, req.Target, r.Status, status, r.Body, c.log.String())
	}
	return r
}

// Token is the admin's token when admin is set, else the member's.
func (c *Cloud) Token(admin bool) string {
	if admin {
		return c.Admin
	}
	return c.Member
}

// validHeaderValue is net/http's server check of a header value: no
// control characters but tab (the server answers 400 itself otherwise).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// Check asserts the invariants of an answer to req: no 5xx; a 4xx has
// its API's error body (Nova's fault, Keystone's {"error": ...},
// Glance's plain text; a 401 is Keystone's everywhere); a JSON 2xx body
// is JSON.
func (c *Cloud) Check(t *testing.T, req Request, r *apitest.Response) {
	t.Helper()
	if testing.Verbose() {
		t.Logf("%s %s (version %q): %d %.300s", req.Method, req.Target, req.Version, r.Status, r.Body)
	}
	if r.Status >= 500 {
		t.Fatalf("%s %q (version %q) on %s: %d, want no 5xx\nbody: %s\nrequest body: %q\nlog:\n%s",
			req.Method, req.Target, req.Version, c.Engine, r.Status, r.Body, req.Body, c.log.String())
	}
	if r.Status < 200 {
		t.Fatalf("%s %q: status %d", req.Method, req.Target, r.Status)
	}
	if r.Header.Get("X-Openstack-Request-Id") == "" {
		t.Errorf("%s %q: no X-Openstack-Request-Id", req.Method, req.Target)
	}
	if r.Status >= 400 {
		if msg := ErrorShape(apiOf(req.Target), r); msg != "" {
			t.Fatalf("%s %q (version %q): %d %s\nbody: %q\nrequest body: %q", req.Method, req.Target, req.Version, r.Status, msg, r.Body, req.Body)
		}
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && len(r.Body) > 0 && !json.Valid(r.Body) {
		t.Fatalf("%s %q: %d with a JSON content type and a body that is not JSON: %q", req.Method, req.Target, r.Status, r.Body)
	}
}

// API is one of kumo's three APIs.
type API int

// The APIs, by their error bodies.
const (
	Compute API = iota
	Identity
	Image
)

func apiOf(target string) API {
	switch {
	case strings.HasPrefix(target, "/identity"):
		return Identity
	case strings.HasPrefix(target, "/image"):
		return Image
	}
	return Compute
}

// ErrorShape returns what is wrong with the error answer r of api, or ""
// when it is the API's error body for its status.
func ErrorShape(api API, r *apitest.Response) string {
	ct := r.Header.Get("Content-Type")
	if r.Status == http.StatusUnauthorized {
		api = Identity // keystonemiddleware's 401 on every API
	}
	switch api {
	case Identity:
		var body map[string]map[string]any
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(r.Body, &body) != nil || len(body) != 1 || body["error"] == nil {
			return fmt.Sprintf("is not Keystone's error body (Content-Type %q)", ct)
		}
		e := body["error"]
		if code, _ := e["code"].(float64); int(code) != r.Status {
			return fmt.Sprintf("error code %v is not the status", e["code"])
		}
		if msg, ok := e["message"].(string); !ok || msg == "" {
			return "has no error message"
		}
		if e["title"] != http.StatusText(r.Status) {
			return fmt.Sprintf("error title %v, want %q", e["title"], http.StatusText(r.Status))
		}
	case Image:
		prefix := strconv.Itoa(r.Status) + " " + http.StatusText(r.Status) + "\n\n"
		if !strings.HasPrefix(ct, "text/plain") || !bytes.HasPrefix(r.Body, []byte(prefix)) {
			return fmt.Sprintf("is not Glance's plain-text error (Content-Type %q)", ct)
		}
	case Compute:
		var body map[string]map[string]any
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(r.Body, &body) != nil || len(body) != 1 {
			return fmt.Sprintf("is not a Nova fault (Content-Type %q)", ct)
		}
		for name, fault := range body {
			if want := faultName(r.Status); name != want {
				return fmt.Sprintf("fault %q, want %q", name, want)
			}
			if code, _ := fault["code"].(float64); int(code) != r.Status {
				return fmt.Sprintf("fault code %v is not the status", fault["code"])
			}
			if msg, ok := fault["message"].(string); !ok || msg == "" {
				return "has no fault message"
			}
		}
	}
	return ""
}

// faultName is Nova's fault key for status: the one api.NovaFault
// writes, read back from a rendered fault.
func faultName(status int) string {
	_, b := api.NovaFault(status, "x")
	var fault map[string]any
	_ = json.Unmarshal(b, &fault)
	for name := range fault {
		return name
	}
	return ""
}

// Fill replaces the placeholders seeds use for the cloud's objects:
// $IMAGE (kumo-tiny), $PROJECT and $USER (the member's), $ADMIN_PROJECT,
// $SERVER (the fixture server, made on first use), $PASSWORD and $TOKEN
// (the member's), $HOST (the compute host).
func (c *Cloud) Fill(t testing.TB, s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	pairs := []string{"$IMAGE", c.Image, "$PROJECT", c.Project, "$USER", c.User,
		"$ADMIN_PROJECT", c.AdminProject, "$PASSWORD", Password, "$TOKEN", c.Member, "$OS_TOKEN", c.Member, "$HOST", c.Host}
	if strings.Contains(s, "$SERVER") {
		pairs = append(pairs, "$SERVER", c.Server(t))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// FillBytes is Fill of a body.
func (c *Cloud) FillBytes(t testing.TB, b []byte) []byte {
	if !bytes.Contains(b, []byte("$")) {
		return b
	}
	return []byte(c.Fill(t, string(b)))
}

// Minor maps any byte onto a served compute microversion: n itself
// ("2.n") when kumo serves it, else one it does.
func (c *Cloud) Minor(n uint8) string {
	m := int(n)
	if m < 1 || m > c.Version.Minor {
		m = 1 + m%c.Version.Minor
	}
	return "2." + strconv.Itoa(m)
}

// do sends a setup request.
func (c *Cloud) do(tb testing.TB, method, target, token, body string) *apitest.Response {
	tb.Helper()
	req := Request{Method: method, Target: target, Token: token}
	if body != "" {
		req.Body = []byte(body)
	}
	r, ok := c.Do(req)
	if !ok {
		tb.Fatalf("%s %s: not a valid request", method, target)
	}
	return r
}

func (c *Cloud) must(tb testing.TB, r *apitest.Response, status int) *apitest.Response {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("fuzz cloud setup: status %d, want %d: %s\nlog:\n%s", r.Status, status, r.Body, c.log.String())
	}
	return r
}

func (c *Cloud) mustJSON(tb testing.TB, r *apitest.Response, v any) {
	tb.Helper()
	if r.Status >= 300 {
		tb.Fatalf("fuzz cloud setup: status %d: %s\nlog:\n%s", r.Status, r.Body, c.log.String())
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("fuzz cloud setup: %v: %s", err, r.Body)
	}
}

// mustID creates an object and returns its id (body[key].id).
func (c *Cloud) mustID(tb testing.TB, method, target, token, body, key string) string {
	tb.Helper()
	var v map[string]struct{ ID string }
	c.mustJSON(tb, c.do(tb, method, target, token, body), &v)
	if v[key].ID == "" {
		tb.Fatalf("fuzz cloud setup: %s %s: no %s.id", method, target, key)
	}
	return v[key].ID
}

// logBuffer keeps what kumo logged (warnings and errors) since the last
// request, to tell a finding's cause.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 1<<20 {
		l.buf.Reset()
	}
	return l.buf.Write(p)
}

func (l *logBuffer) reset() {
	l.mu.Lock()
	l.buf.Reset()
	l.mu.Unlock()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// wait polls cond every few milliseconds for up to 2 s (see
// requestLimit).
func wait(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
