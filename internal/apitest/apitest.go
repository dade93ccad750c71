// Package apitest drives an http.Handler in tests: requests with tokens,
// microversions and JSON bodies, and decoded answers.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
)

// Client sends requests to a handler wrapped in kumo's middleware.
type Client struct {
	t       testing.TB
	h       http.Handler
	Token   string // X-Auth-Token, when not empty
	Version string // compute microversion header, when not empty
}

// New wraps h in the standard middleware (request ids, body limit of
// 1 MiB, panic guard) and returns a client for it.
func New(t testing.TB, h http.Handler) *Client {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Client{t: t, h: api.Middleware(h, log, nil, nil, 1<<20)}
}

// Over returns a client for h as it is: a whole app's handler, which
// has kumo's middleware already.
func Over(t testing.TB, h http.Handler) *Client { return &Client{t: t, h: h} }

// Response is a recorded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return v
}

// Do sends a request. body may be nil, a []byte, a string, or a value to
// marshal as JSON.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("X-Auth-Token", c.Token)
	}
	if c.Version != "" {
		req.Header.Set("OpenStack-API-Version", "compute "+c.Version)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// As returns a copy of the client using token and microversion.
func (c *Client) As(token, version string) *Client {
	cp := *c
	cp.Token, cp.Version = token, version
	return &cp
}

// Expect fails the test unless the response has the given status.
func (r *Response) Expect(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}
