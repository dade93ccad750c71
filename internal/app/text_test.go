package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store/storetest"
)

// rawExchange sends the request exactly as written (method, target and
// body bytes untouched) through h and returns the status and body.
func rawExchange(t *testing.T, h http.Handler, method, target, body string, token bool) (int, string) {
	t.Helper()
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: kumo.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, target, len(body))
	if method == "PATCH" {
		head = strings.Replace(head, "application/json", "application/openstack-images-v2.1-json-patch", 1)
	}
	if token {
		head += "X-Auth-Token: admin:admin\r\n"
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head + "\r\n" + body)))
	if err != nil {
		t.Fatalf("%s %q: %v", method, target, err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestTextNoDatabaseHolds: NUL and invalid UTF-8 in paths, queries and
// JSON bodies, and regular expressions beyond what both engines take, get
// the same answers from the three APIs on SQLite and on PostgreSQL (which
// refuses such text in any value, so they were 500s there).
func TestTextNoDatabaseHolds(t *testing.T) {
	t.Parallel()
	tooLong := strings.Repeat("a", 2000)
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // in the body
		noToken                  bool
		differs                  bool // the bodies hold ids that differ by engine
	}{
		{name: "server id %FF", method: "GET", path: "/v2.1/servers/%FF", status: 404, want: `"Instance ` + "\ufffd" + ` could not be found."`},
		{name: "server id %00", method: "GET", path: "/v2.1/servers/%00", status: 404, want: `{"itemNotFound":{"code":404,"message":"The resource could not be found."}}`},
		{name: "flavor id %00", method: "GET", path: "/v2.1/flavors/%00", status: 404, want: `"The resource could not be found."`},
		{name: "flavor id %FF", method: "GET", path: "/v2.1/flavors/%FF", status: 404, want: `"Flavor ` + "\ufffd" + ` could not be found."`},
		{name: "keypair %FF", method: "GET", path: "/v2.1/os-keypairs/ab%FF", status: 404, want: `"itemNotFound"`},
		{name: "metadata key %FF", method: "GET", path: "/v2.1/servers/{server}/metadata/%FF", status: 404, want: `"itemNotFound"`},
		{name: "server query value %FF", method: "GET", path: "/v2.1/servers?name=%FF", status: 400, want: `{"badRequest":{"code":400,"message":"Query string is not UTF-8 encoded"}}`},
		{name: "server query key %FF", method: "GET", path: "/v2.1/servers/{server}?%FF=1", status: 400, want: `"Query string is not UTF-8 encoded"`},
		{name: "server query NUL", method: "GET", path: "/v2.1/servers?name=%00", status: 400, want: `"Invalid input for query parameters name. Value: \u0000. NUL characters are not allowed"`},
		{name: "metadata value NUL", method: "PUT", path: "/v2.1/servers/{server}/metadata", body: `{"metadata": {"k": "v\u0000"}}`, status: 400, want: `{"badRequest":{"code":400,"message":"Malformed request body"}}`},
		{name: "metadata key invalid UTF-8", method: "POST", path: "/v2.1/servers/{server}/metadata", body: "{\"metadata\": {\"k\xff\": \"v\"}}", status: 400, want: `"Malformed request body"`},
		{name: "flavor name lone surrogate", method: "POST", path: "/v2.1/flavors", body: `{"flavor": {"name": "x\ud800", "ram": 64, "vcpus": 1, "disk": 1}}`, status: 400, want: `"Malformed request body"`},
		{name: "regex too long", method: "GET", path: "/v2.1/servers?name=" + tooLong, status: 400, want: `"Invalid input for query parameters name. Value: ` + tooLong + `. '` + tooLong + `' is too long"`},
		{name: "regex too complex", method: "GET", path: "/v2.1/servers?name=" + url.QueryEscape("("+strings.Repeat("x", 250)+"){255}"), status: 400, want: `is not a 'regex'`},
		{name: "regex repeat over 255", method: "GET", path: "/v2.1/servers?name=" + url.QueryEscape(".{1,1000}"), status: 400, want: `is not a 'regex'`},
		{name: "regex only Go knows", method: "GET", path: "/v2.1/servers?name=" + url.QueryEscape(`\pL`), status: 400, want: `is not a 'regex'`},
		{name: "regex", method: "GET", path: "/v2.1/servers?name=" + url.QueryEscape("^w[a-z]{1,255}$"), status: 200, want: `"name":"web"`, differs: true},
		{name: "image query key %BA", method: "GET", path: "/image/v2/images?%BA=0", status: 400, want: "400 Bad Request\n\nError decoding your request. Either the URL or the request body contained characters that could not be decoded by Glance\n\n   "},
		{name: "image query NUL", method: "GET", path: "/image/v2/images?name=%00", status: 400, want: "Error decoding your request."},
		{name: "image id %FF", method: "GET", path: "/image/v2/images/%FF", status: 404, want: "No image found with ID \ufffd"},
		{name: "image id %00", method: "GET", path: "/image/v2/images/%00", status: 404, want: "404 Not Found\n\nThe resource could not be found."},
		{name: "image name NUL", method: "POST", path: "/image/v2/images", body: `{"name": "a\u0000"}`, status: 400, want: "Error decoding your request."},
		{name: "image patch NUL", method: "PATCH", path: "/image/v2/images/{image}", body: `[{"op": "add", "path": "/k", "value": "\u0000"}]`, status: 400, want: "Error decoding your request."},
		{name: "user id %FF", method: "GET", path: "/identity/v3/users/%FF", status: 404, want: `"Could not find user: ` + "\ufffd" + `."`},
		{name: "project id %00", method: "GET", path: "/identity/v3/projects/%00", status: 404, want: `{"error":{"code":404,"message":"The resource could not be found.","title":"Not Found"}}`},
		{name: "user query %FF reads as U+FFFD", method: "GET", path: "/identity/v3/users?name=%FF", status: 200, want: `"users":[]`},
		{name: "user query NUL", method: "GET", path: "/identity/v3/users?name=%00", status: 400, want: `"Expecting to find text without NUL characters in query parameter name.`},
		{name: "token user name NUL", method: "POST", path: "/identity/v3/auth/tokens", noToken: true, status: 400, want: `"Expecting to find valid JSON in request body.`,
			body: `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "ad\u0000min", "domain": {"id": "default"}, "password": "x"}}}}}`},
		{name: "token user name invalid UTF-8", method: "POST", path: "/identity/v3/auth/tokens", noToken: true, status: 400, want: `"Expecting to find valid JSON in request body.`,
			body: "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"ad\xffmin\", \"domain\": {\"id\": \"default\"}, \"password\": \"x\"}}}}}"},
	}
	type answer struct {
		status int
		body   string
	}
	answers := map[string][]answer{}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			cfg := Config{DataDir: t.TempDir(), Auth: "noauth"}
			if engine == "postgres" {
				cfg.Database = storetest.PostgresDSN(t)
			}
			a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			image, server := seedServer(t, a.Handler)
			for _, tc := range cases {
				path := strings.NewReplacer("{server}", server, "{image}", image).Replace(tc.path)
				status, body := rawExchange(t, a.Handler, tc.method, path, tc.body, !tc.noToken)
				if status != tc.status || !strings.Contains(body, tc.want) {
					t.Errorf("%s: %s %.80s: %d %.300q, want %d with %.300q", tc.name, tc.method, tc.path, status, body, tc.status, tc.want)
				}
				answers[tc.name] = append(answers[tc.name], answer{status, body})
			}
		})
	}
	for _, tc := range cases {
		if a := answers[tc.name]; len(a) == 2 && (a[0].status != a[1].status || !tc.differs && a[0].body != a[1].body) {
			t.Errorf("%s: SQLite answers %d %.200q, PostgreSQL %d %.200q", tc.name, a[0].status, a[0].body, a[1].status, a[1].body)
		}
	}
}

// seedServer creates a server named web from kumo-tiny and returns the
// image's and the server's ids.
func seedServer(t *testing.T, h http.Handler) (image, server string) {
	t.Helper()
	status, body := rawExchange(t, h, "GET", "/image/v2/images?name=kumo-tiny", "", true)
	var images struct{ Images []struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &images); status != 200 || err != nil || len(images.Images) != 1 {
		t.Fatalf("find kumo-tiny: %d %s", status, body)
	}
	image = images.Images[0].ID
	status, body = rawExchange(t, h, "POST", "/v2.1/servers", `{"server": {"name": "web", "imageRef": "`+image+`", "flavorRef": "1"}}`, true)
	var created struct{ Server struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &created); status != 202 || err != nil {
		t.Fatalf("create server: %d %s", status, body)
	}
	return image, created.Server.ID
}
