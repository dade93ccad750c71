package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

var requestID = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func testPolicy() *policy.Set {
	return policy.NewSet("test", []policy.Rule{
		{Name: "test:any", Check: "@"},
		{Name: "test:admin", Check: "role:admin"},
	})
}

// testService is a small compute-style service exercising the plumbing.
func testService(t *testing.T) *apitest.Client {
	t.Helper()
	echo := func(c *api.Call) (*api.Reply, error) {
		return api.JSON(http.StatusOK, map[string]any{
			"version": c.Version.String(), "project": c.ProjectID(), "param": c.Param("id"),
			"self": c.Link("/things"),
		}), nil
	}
	routes := []api.Route{
		{Method: "GET", Path: "/things", Rule: "test:any", Handler: echo},
		{Method: "GET", Path: "/things/special", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			return api.JSON(http.StatusOK, map[string]any{"special": true}), nil
		}},
		{Method: "GET", Path: "/things/{id}", Rule: "test:any", Handler: echo},
		{Method: "POST", Path: "/things", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			var body map[string]any
			if err := c.DecodeJSON(&body); err != nil {
				return nil, err
			}
			return api.JSON(http.StatusCreated, body), nil
		}},
		{Method: "PUT", Path: "/things/{id}/file", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			if _, err := c.Body(); err != nil {
				return nil, err
			}
			return api.NoContent(http.StatusNoContent), nil
		}},
		{Method: "GET", Path: "/many/{n}", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			return api.JSON(http.StatusOK, manyThings(c.Param("n"))), nil
		}},
		{Method: "GET", Path: "/admin", Rule: "test:admin", Handler: echo},
		{Method: "GET", Path: "/open", Anonymous: true, Handler: echo},
		{Method: "GET", Path: "/new", Rule: "test:any", Handler: echo, MinVer: mv.V2_50},
		{Method: "GET", Path: "/old", Rule: "test:any", Handler: echo, MaxVer: mv.V2_10},
		{Method: "GET", Path: "/missing", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			return nil, errs.NotFound("Thing x could not be found.")
		}},
		{Method: "GET", Path: "/internal", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			return nil, http.ErrBodyNotAllowed // an untyped error must not leak
		}},
		{Method: "GET", Path: "/boom", Rule: "test:any", Handler: func(c *api.Call) (*api.Reply, error) {
			panic("handler bug")
		}},
	}
	versions := mv.Range{Min: mv.V2_1, Max: mv.V2_90}
	svc := &api.Service{
		Name: "compute", Mount: "/v2.1", Router: api.NewRouter(routes), Auth: auth.NoAuth{},
		AuthURL: func(r *http.Request) string { return "http://keystone.example/identity/v3" },
		Errors:  api.NovaFault, ProjectInPath: true, Versions: &versions, NoTrailingSlash: true,
		Policy: testPolicy(), Target: api.CallerTarget,
	}
	mux := http.NewServeMux()
	mux.Handle("/v2.1/", svc)
	return apitest.New(t, mux)
}

// fault decodes a Nova fault body and returns its name, code and message.
func fault(t *testing.T, r *apitest.Response) (string, float64, string) {
	t.Helper()
	body := r.JSON(t)
	if len(body) != 1 {
		t.Fatalf("fault body should have one key: %s", r.Body)
	}
	for name, v := range body {
		m := v.(map[string]any)
		code, _ := m["code"].(float64)
		msg, _ := m["message"].(string)
		return name, code, msg
	}
	return "", 0, ""
}

func TestMicroversionNegotiation(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	cases := []struct {
		name    string
		headers []string
		status  int
		version string
		fault   string
		msg     string
	}{
		{"no header is 2.1", nil, 200, "2.1", "", ""},
		{"latest", []string{"OpenStack-API-Version", "compute latest"}, 200, "2.90", "", ""},
		{"new style", []string{"OpenStack-API-Version", "compute 2.42"}, 200, "2.42", "", ""},
		{"legacy style", []string{"X-OpenStack-Nova-API-Version", "2.43"}, 200, "2.43", "", ""},
		{"new style wins", []string{"OpenStack-API-Version", "compute 2.44", "X-OpenStack-Nova-API-Version", "2.45"}, 200, "2.44", "", ""},
		{"too new", []string{"OpenStack-API-Version", "compute 2.91"}, 406, "2.91", "computeFault", "Version 2.91 is not supported by the API. Minimum is 2.1 and maximum is 2.90."},
		{"too old", []string{"X-OpenStack-Nova-API-Version", "2.0"}, 406, "2.0", "computeFault", "Version 2.0 is not supported by the API. Minimum is 2.1 and maximum is 2.90."},
		{"malformed", []string{"OpenStack-API-Version", "compute two"}, 400, "2.1", "badRequest", "API Version String two is of invalid format. Must be of format MajorNum.MinorNum."},
	}
	for _, tc := range cases {
		r := c.Do("GET", "/v2.1/things", nil, tc.headers...)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status == 200 {
			if got := r.JSON(t)["version"]; got != tc.version {
				t.Errorf("%s: handler saw %v, want %s", tc.name, got, tc.version)
			}
			if r.Header.Get("OpenStack-API-Version") != "compute "+tc.version || r.Header.Get("X-OpenStack-Nova-API-Version") != tc.version {
				t.Errorf("%s: version headers %v", tc.name, r.Header)
			}
			vary := strings.Join(r.Header.Values("Vary"), ",")
			if !strings.Contains(vary, "OpenStack-API-Version") || !strings.Contains(vary, "X-OpenStack-Nova-API-Version") {
				t.Errorf("%s: Vary %q", tc.name, vary)
			}
			continue
		}
		// Nova answers an unsupported version in that version's headers.
		if r.Header.Get("OpenStack-API-Version") != "compute "+tc.version || r.Header.Get("X-OpenStack-Nova-API-Version") != tc.version {
			t.Errorf("%s: version headers %v, want %s", tc.name, r.Header, tc.version)
		}
		name, code, msg := fault(t, r)
		if name != tc.fault || int(code) != tc.status || msg != tc.msg {
			t.Errorf("%s: fault %s %v %q, want %s %d %q", tc.name, name, code, msg, tc.fault, tc.status, tc.msg)
		}
	}
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	seen := map[string]bool{}
	for _, path := range []string{"/v2.1/things", "/v2.1/nowhere", "/v2.1/boom"} {
		r := c.Do("GET", path, nil)
		id := r.Header.Get("X-Compute-Request-Id")
		if !requestID.MatchString(id) || r.Header.Get("X-Openstack-Request-Id") != id {
			t.Errorf("%s: request ids %q / %q", path, id, r.Header.Get("X-Openstack-Request-Id"))
		}
		if seen[id] {
			t.Errorf("%s: request id %s reused", path, id)
		}
		seen[id] = true
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	c := testService(t)
	user := c.As("u:p", "")
	cases := []struct {
		name   string
		client *apitest.Client
		method string
		path   string
		status int
		fault  string
	}{
		{"unknown route", user, "GET", "/v2.1/nowhere", 404, "itemNotFound"},
		{"unknown nested route", user, "GET", "/v2.1/things/1/nope", 404, "itemNotFound"},
		{"wrong method", user, "DELETE", "/v2.1/things", 405, "badMethod"},
		{"trailing slash (empty id)", user, "DELETE", "/v2.1/things/", 404, "itemNotFound"},
		{"trailing slash on a collection", user, "GET", "/v2.1/things/", 404, "itemNotFound"},
		{"domain not found", user, "GET", "/v2.1/missing", 404, "itemNotFound"},
		{"admin only", user, "GET", "/v2.1/admin", 403, "forbidden"},
		{"route too new", user, "GET", "/v2.1/new", 404, "itemNotFound"},
		{"route new enough", c.As("u:p", "2.50"), "GET", "/v2.1/new", 200, ""},
		{"route too old", c.As("u:p", "2.11"), "GET", "/v2.1/old", 404, "itemNotFound"},
		{"route old enough", c.As("u:p", "2.10"), "GET", "/v2.1/old", 200, ""},
		{"admin allowed", c.As("admin:admin", ""), "GET", "/v2.1/admin", 200, ""},
		{"internal error hidden", user, "GET", "/v2.1/internal", 500, "computeFault"},
	}
	for _, tc := range cases {
		r := tc.client.Do(tc.method, tc.path, nil)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if tc.fault == "" {
			continue
		}
		name, code, msg := fault(t, r)
		if name != tc.fault || int(code) != tc.status || msg == "" {
			t.Errorf("%s: fault %s %v %q", tc.name, name, code, msg)
		}
		if strings.Contains(msg, "body not allowed") {
			t.Errorf("%s: internal error text leaked: %q", tc.name, msg)
		}
	}
}

func TestLiteralSegmentsWinOverParameters(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	if r := c.Do("GET", "/v2.1/things/special", nil).Expect(t, 200); r.JSON(t)["special"] != true {
		t.Errorf("literal route not chosen: %s", r.Body)
	}
	if r := c.Do("GET", "/v2.1/things/42", nil).Expect(t, 200); r.JSON(t)["param"] != "42" {
		t.Errorf("parameter not captured: %s", r.Body)
	}
}

func TestProjectInPath(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	r := c.Do("GET", "/v2.1/p/things", nil).Expect(t, 200)
	body := r.JSON(t)
	if body["project"] != "p" || body["self"] != "http://example.com/v2.1/p/things" {
		t.Errorf("project path: %s", r.Body)
	}
	if self := c.Do("GET", "/v2.1/things", nil).Expect(t, 200).JSON(t)["self"]; self != "http://example.com/v2.1/things" {
		t.Errorf("link without project: %v", self)
	}
	r = c.Do("GET", "/v2.1/other/things", nil).Expect(t, 400)
	if _, _, msg := fault(t, r); msg != "Malformed request URL: URL's project_id 'other' doesn't match Context's project_id 'p'" {
		t.Errorf("mismatch message %q", msg)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	c := testService(t)
	for _, token := range []string{"", "not-a-valid-token"} {
		r := c.As(token, "").Do("GET", "/v2.1/things", nil).Expect(t, 401)
		if got := r.Header.Get("WWW-Authenticate"); got != `Keystone uri="http://keystone.example/identity/v3"` {
			t.Errorf("token %q: WWW-Authenticate %q", token, got)
		}
		if e, ok := r.JSON(t)["error"].(map[string]any); !ok || e["code"] != float64(401) {
			t.Errorf("token %q: 401 body %s", token, r.Body)
		}
	}
	c.As("", "").Do("GET", "/v2.1/open", nil).Expect(t, 200)
}

// manyThings is a listing body of n (a decimal) generic items.
func manyThings(n string) map[string]any {
	count, _ := strconv.Atoi(n)
	items := make([]map[string]any, count)
	for i := range items {
		items[i] = map[string]any{"id": strconv.Itoa(i), "name": "thing <" + n + ">", "tags": []string{"a", "b"}}
	}
	return map[string]any{"things": items}
}

// TestLargeRepliesAreStreamed: a small reply carries its Content-Length,
// a large one is sent as it is encoded; both are the JSON encoding/json
// would write.
func TestLargeRepliesAreStreamed(t *testing.T) {
	t.Parallel()
	c := testService(t)
	for _, tc := range []struct {
		n        string
		streamed bool
	}{{"3", false}, {"20000", true}} {
		r := c.As("u:p", "").Do("GET", "/v2.1/many/"+tc.n, nil).Expect(t, 200)
		want, err := json.Marshal(manyThings(tc.n))
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Body) != string(want) {
			t.Errorf("%s things: body of %d bytes differs from encoding/json's %d", tc.n, len(r.Body), len(want))
		}
		if cl := r.Header.Get("Content-Length"); (cl == "") != tc.streamed || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s things (%d bytes): Content-Length %q, Content-Type %q", tc.n, len(want), cl, r.Header.Get("Content-Type"))
		}
	}
}

func TestRequestBodies(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	r := c.Do("POST", "/v2.1/things", map[string]any{"a": 1}).Expect(t, 201)
	if r.JSON(t)["a"] != float64(1) {
		t.Errorf("echo %s", r.Body)
	}
	cases := []struct {
		name   string
		body   any
		status int
		fault  string
		msg    string
	}{
		{"malformed", "{not json", 400, "badRequest", "Malformed request body"},
		{"trailing data", `{"a": 1} {"b": 2}`, 400, "badRequest", "Malformed request body"},
		{"empty", "", 400, "badRequest", "The request body is empty or malformed."},
		{"too large", `{"a": "` + strings.Repeat("x", 2<<20) + `"}`, 413, "overLimit", "Request is too large."},
	}
	for _, tc := range cases {
		var body any = tc.body
		if tc.body == "" {
			body = []byte{}
		}
		r := c.Do("POST", "/v2.1/things", body)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.Status, tc.status)
			continue
		}
		if name, _, msg := fault(t, r); name != tc.fault || msg != tc.msg {
			t.Errorf("%s: fault %s %q", tc.name, name, msg)
		}
	}
}

// TestOnlyImageUploadsSkipTheBodyLimit: a compute PUT of octet-stream
// data is limited like any body; only /image/.../file streams freely.
func TestOnlyImageUploadsSkipTheBodyLimit(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	big := strings.Repeat("x", 2<<20)
	c.Do("PUT", "/v2.1/things/1/file", big, "Content-Type", "application/octet-stream").Expect(t, 413)
	c.Do("PUT", "/v2.1/things/1/file", "small", "Content-Type", "application/octet-stream").Expect(t, 204)
}

func TestPanicIsAnswered(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	r := c.Do("GET", "/v2.1/boom", nil).Expect(t, 500)
	name, code, msg := fault(t, r)
	if name != "computeFault" || code != 500 || !strings.Contains(msg, "Unexpected API Error") {
		t.Errorf("panic fault %s %v %q", name, code, msg)
	}
	if !requestID.MatchString(r.Header.Get("X-Compute-Request-Id")) {
		t.Errorf("panic answer lacks a request id: %v", r.Header)
	}
	// The server keeps serving after a panic.
	c.Do("GET", "/v2.1/things", nil).Expect(t, 200)
}

func TestUnknownCollectionIsNotAProjectID(t *testing.T) {
	t.Parallel()
	router := api.NewRouter([]api.Route{{Method: "GET", Path: "/", Anonymous: true, Handler: func(c *api.Call) (*api.Reply, error) {
		return api.JSON(200, map[string]string{"doc": "version"}), nil
	}}})
	svc := &api.Service{Name: "compute", Mount: "/v2.1", Router: router, Auth: auth.NoAuth{}, Errors: api.NovaFault, ProjectInPath: true}
	client := apitest.New(t, svc).As("u1:p1", "")
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v2.1/", http.StatusOK},
		{"/v2.1/os-networks", http.StatusNotFound},
		{"/v2.1/p1/", http.StatusOK},
	} {
		if got := client.Do("GET", tc.path, nil); got.Status != tc.want {
			t.Errorf("GET %s = %d, want %d: %s", tc.path, got.Status, tc.want, got.Body)
		}
	}
}

// TestBrokenStreamIsCutOff: a reply that fails to encode after it began
// streaming reaches the client as a broken connection, never as a body
// that ends cleanly and looks whole.
func TestBrokenStreamIsCutOff(t *testing.T) {
	t.Parallel()
	routes := []api.Route{{Method: "GET", Path: "/broken", Anonymous: true, Handler: func(c *api.Call) (*api.Reply, error) {
		items := []any{}
		for i := range 20000 {
			items = append(items, map[string]any{"id": strconv.Itoa(i)})
		}
		return api.JSON(http.StatusOK, map[string]any{"things": append(items, make(chan int))}), nil
	}}}
	svc := &api.Service{Name: "compute", Mount: "/v2.1", Router: api.NewRouter(routes), Auth: auth.NoAuth{}, Errors: api.NovaFault}
	mux := http.NewServeMux()
	mux.Handle("/v2.1/", svc)
	srv := httptest.NewServer(api.Middleware(mux, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, 1<<20))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v2.1/broken")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("a broken reply of %d bytes read without error", len(body))
	}
}

func TestActionExists(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action api.Action
		at     mv.Version
		want   bool
	}{
		{"open range", api.Action{}, mv.V2_1, true},
		{"before its first version", api.Action{MinVer: mv.V2_17}, mv.V2_16, false},
		{"at its first version", api.Action{MinVer: mv.V2_17}, mv.V2_17, true},
		{"at its last version", api.Action{MaxVer: mv.V2_43}, mv.V2_43, true},
		{"after its last version", api.Action{MaxVer: mv.V2_43}, mv.V2_45, false},
	} {
		if got := tc.action.Exists(tc.at); got != tc.want {
			t.Errorf("%s: Exists(%v) = %v, want %v", tc.name, tc.at, got, tc.want)
		}
	}
}

// TestActionRoutesNeedTheirRows: an action route is one with Rule
// policy.Action and rows, each naming its rule; anything else is a
// programming error caught when the router is built.
func TestActionRoutesNeedTheirRows(t *testing.T) {
	h := func(c *api.Call) (*api.Reply, error) { return nil, nil }
	for _, tc := range []struct {
		name  string
		route api.Route
		ok    bool
	}{
		{"action route", api.Route{Method: "POST", Path: "/x/action", Rule: policy.Action, Handler: h,
			Actions: []api.Action{{Name: "go", Rule: "r"}}}, true},
		{"action route without rows", api.Route{Method: "POST", Path: "/x/action", Rule: policy.Action, Handler: h}, false},
		{"rows on a plain route", api.Route{Method: "POST", Path: "/x", Rule: "r", Handler: h,
			Actions: []api.Action{{Name: "go", Rule: "r"}}}, false},
		{"row without a rule", api.Route{Method: "POST", Path: "/x/action", Rule: policy.Action, Handler: h,
			Actions: []api.Action{{Name: "go"}}}, false},
	} {
		func() {
			defer func() {
				if r := recover(); (r == nil) != tc.ok {
					t.Errorf("%s: panic %v, want ok=%v", tc.name, r, tc.ok)
				}
			}()
			api.NewRouter([]api.Route{tc.route})
		}()
	}
}
