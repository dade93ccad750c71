package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
)

// TestRequestTextNoDatabaseHolds: path parameters, queries and JSON
// bodies with NUL or invalid UTF-8 are answered before any handler
// passes them to a database.
func TestRequestTextNoDatabaseHolds(t *testing.T) {
	t.Parallel()
	c := testService(t).As("u:p", "")
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     string // in the body
	}{
		{"invalid UTF-8 id reads as U+FFFD", "GET", "/v2.1/things/%FF", "", 200, "\"param\":\"\ufffd\""},
		{"NUL id is not found", "GET", "/v2.1/things/a%00b", "", 404, `{"itemNotFound":{"code":404,"message":"The resource could not be found."}}`},
		{"escaped NUL in a body", "POST", "/v2.1/things", `{"k": "v\u0000"}`, 400, `"Malformed request body"`},
		{"lone surrogate in a body", "POST", "/v2.1/things", `{"k": "\udfff"}`, 400, `"Malformed request body"`},
		{"invalid UTF-8 body", "POST", "/v2.1/things", "{\"k\": \"\xff\"}", 400, `"Malformed request body"`},
		{"surrogate pair", "POST", "/v2.1/things", `{"k": "\ud83d\ude00"}`, 201, "\"k\":\"\U0001F600\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := c.Do(tc.method, tc.path, body)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.want) {
				t.Errorf("%s %s: %d %s, want %d with %s", tc.method, tc.path, r.Status, r.Body, tc.status, tc.want)
			}
		})
	}
}

// unreadBody fails the test if it is read.
type unreadBody struct{ t *testing.T }

func (b unreadBody) Read([]byte) (int, error) {
	b.t.Error("the body of a request declared too large was read")
	return 0, io.EOF
}

// TestDeclaredTooLargeIsNotRead: a Content-Length over the limit is a 413
// in the API's format before a byte of the body is read.
func TestDeclaredTooLargeIsNotRead(t *testing.T) {
	t.Parallel()
	svc := &api.Service{Name: "identity", Mount: "/identity", Router: api.NewRouter([]api.Route{{
		Method: "POST", Path: "/v3/auth/tokens", Anonymous: true, Handler: func(c *api.Call) (*api.Reply, error) {
			_, err := c.Body()
			return api.NoContent(http.StatusNoContent), err
		},
	}}), Errors: api.KeystoneError}
	h := api.Middleware(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, 1<<20)
	req := httptest.NewRequest("POST", "/identity/v3/auth/tokens", io.NopCloser(unreadBody{t}))
	req.ContentLength = 10 << 20
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	want := `{"error":{"code":413,"message":"Request is too large.","title":"Request Entity Too Large"}}`
	if rec.Code != 413 || rec.Body.String() != want {
		t.Errorf("answer %d %s, want 413 %s", rec.Code, rec.Body, want)
	}
}
