package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// computeVersion is the compute microversion the dashboard speaks: new
// enough for locked (2.9), remote consoles (2.6), embedded flavors (2.47),
// instance action events for members (2.51) and generated key pairs
// (gone at 2.92); requests that need another name it themselves.
const computeVersion = "compute 2.79"

// reply is what kumo's API answered to one in-process request.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r *reply) OK() bool { return r.Status >= 200 && r.Status < 300 }

// decode unmarshals the body into v.
func (r *reply) decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d reply: %w", r.Status, err)
	}
	return nil
}

// apiError is an API's refusal, worded as the API worded it.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Message }

// err is the reply's error as the API worded it; nil for a 2xx.
func (r *reply) err() error {
	if r.OK() {
		return nil
	}
	return &apiError{Status: r.Status, Message: errorMessage(r.Status, r.Body)}
}

// errorMessage finds the message in an error body of any of kumo's APIs:
// Nova's {"itemNotFound": {"message"}}, Keystone's {"error": {"message"}},
// Neutron's {"NeutronError": {"message"}}, Glance's plain text.
func errorMessage(status int, body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		if m, ok := top["message"]; ok {
			var s string
			if json.Unmarshal(m, &s) == nil && s != "" {
				return s
			}
		}
		for _, v := range top {
			var inner struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(v, &inner) == nil && inner.Message != "" {
				return inner.Message
			}
		}
	}
	// Glance: "404 Not Found\n\nmessage\n\n   ".
	text := strings.TrimSpace(string(body))
	if parts := strings.SplitN(text, "\n\n", 2); len(parts) == 2 && strings.HasPrefix(parts[0], fmt.Sprint(status)) {
		text = strings.TrimSpace(parts[1])
	}
	if text == "" {
		text = fmt.Sprintf("%d %s", status, http.StatusText(status))
	}
	return text
}

// recorder is the http.ResponseWriter an in-process call writes into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// call is one request to kumo's own API handler, made as any client makes
// it: the public path, the token in X-Auth-Token, the microversion
// header; the routing, validation and policy are the API's. from is the
// browser's request, whose origin (host, TLS, forwarded scheme) and
// address the API sees so the URLs it builds and its per-address limits
// are the browser's.
type call struct {
	method, path string
	token        string
	body         io.Reader
	json         any   // marshalled into the body when set
	length       int64 // the body's length when known (a streamed upload)
	header       http.Header
}

func (d *Dashboard) do(ctx context.Context, from *http.Request, c call) (*reply, error) {
	body := c.body
	if c.json != nil {
		b, err := json.Marshal(c.json)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", c.method, c.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.path, body)
	if err != nil {
		return nil, fmt.Errorf("request %s %s: %w", c.method, c.path, err)
	}
	if c.length > 0 {
		req.ContentLength = c.length
	}
	req.Host, req.TLS, req.RemoteAddr = from.Host, from.TLS, from.RemoteAddr
	if p := from.Header.Get("X-Forwarded-Proto"); p != "" {
		req.Header.Set("X-Forwarded-Proto", p)
	}
	if c.json != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if strings.HasPrefix(c.path, "/v2.1/") {
		req.Header.Set("OpenStack-API-Version", computeVersion)
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	rec := &recorder{header: http.Header{}}
	d.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &reply{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}, nil
}

// get reads path as the session's user into v; the API's error otherwise.
func (s *session) get(path string, v any) error {
	r, err := s.d.do(s.ctx, s.req, call{method: http.MethodGet, path: path, token: s.token})
	if err != nil {
		return err
	}
	if err := r.err(); err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	return r.decode(v)
}

// send makes a state-changing call with a JSON body (nil: none) and
// decodes the answer into out when given.
func (s *session) send(method, path string, body, out any) error {
	r, err := s.d.do(s.ctx, s.req, call{method: method, path: path, token: s.token, json: body})
	if err != nil {
		return err
	}
	if err := r.err(); err != nil {
		return err
	}
	if out != nil && len(r.Body) > 0 {
		return r.decode(out)
	}
	return nil
}
