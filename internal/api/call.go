// Package api is the HTTP plumbing the three APIs share: a route table
// with policies and microversion ranges, handlers that return values, one
// writer for replies and errors, and the middleware every request passes
// (request ids, logging, metrics, panics, body limits).
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// Call is one request as a handler sees it.
type Call struct {
	Ctx       context.Context
	Req       *http.Request
	Principal *auth.Principal // nil on public routes
	Version   mv.Version      // compute microversion; zero for other APIs
	RequestID string
	// BaseURL is the scheme://host/prefix the API is served under as the
	// client sees it (e.g. http://127.0.0.1:8774/v2.1), for links.
	BaseURL string
	// ProjectInURL is the project id segment the client used, if any, so
	// links can be built in the same shape.
	ProjectInURL string
	params       map[string]string
	svc          *Service // the service serving the call, for policy checks
	// decided remembers rules checked against the default target: views
	// ask the same question for every server of a listing.
	decided map[string]bool
	text    *TextRules // the API's rules for request text; nil: defaults
}

// Param returns the path parameter name.
func (c *Call) Param(name string) string { return c.params[name] }

// Query returns the parsed query string.
func (c *Call) Query() url.Values { return c.Req.URL.Query() }

// AtLeast reports whether the request's microversion is at least major.minor.
func (c *Call) AtLeast(v mv.Version) bool { return c.Version.AtLeast(v) }

// ProjectID is the caller's project, "" when unscoped.
func (c *Call) ProjectID() string {
	if c.Principal == nil {
		return ""
	}
	return c.Principal.ProjectID
}

// IsAdmin reports whether the caller passes the API's context_is_admin
// rule (role:admin on Nova, Glance and Keystone alike): what the services'
// request contexts call is_admin, which decides whose objects a caller
// sees at all. What a caller may do is for the policy rules (Authorize).
func (c *Call) IsAdmin() bool { return c.Principal.IsAdmin() }

// Body reads the whole request body; bodies over the server's limit fail
// with a 413, bodies that are not UTF-8 or hold text no database can
// store (NUL, lone surrogates) with a 400 (see TextRules).
func (c *Call) Body() ([]byte, error) {
	b, err := io.ReadAll(c.Req.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errs.TooLarge("Request is too large.")
		}
		return nil, errs.Invalid("could not read request body: %v", err)
	}
	text := c.text
	if text == nil {
		text = &TextRules{}
	}
	if err := text.checkBody(b); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeJSON decodes the body into dst. Malformed JSON and type mismatches
// are 400s whose message names the field, as Nova's do.
func (c *Call) DecodeJSON(dst any) error {
	b, err := c.Body()
	if err != nil {
		return err
	}
	return DecodeJSON(b, dst)
}

// DecodeJSON decodes b into dst with the error messages of DecodeJSON.
func DecodeJSON(b []byte, dst any) error {
	if err := CheckJSON(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s is not of type '%s'",
				lastField(field), typeErr.Value, typeErr.Value, jsonTypeName(typeErr.Type.Kind().String()))
		}
		return errs.Invalid("Malformed request body")
	}
	return nil
}

// CheckJSON refuses, with DecodeJSON's messages, a body that is not one
// JSON value, for callers that decode it themselves.
func CheckJSON(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errs.Invalid("The request body is empty or malformed.")
	}
	// One JSON value and nothing after it, as Python's json.loads wants:
	// the decoder alone would stop at the value's end and take a stray
	// "]" or "}" after it for the end of an enclosing value.
	if !json.Valid(b) {
		return errs.Invalid("Malformed request body")
	}
	return nil
}

func lastField(f string) string {
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return f[i+1:]
	}
	return f
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "int32", "uint", "uint64":
		return "integer"
	case "float64", "float32":
		return "number"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return goKind
}

// Reply is what a handler returns: a status, headers and a body.
type Reply struct {
	Status      int
	Header      http.Header
	Body        any       // marshalled as JSON unless Raw or Stream is set
	Raw         []byte    // sent as is
	Stream      io.Reader // copied to the client; closed if it is an io.Closer
	ContentType string
}

// JSON is a reply with a JSON body.
func JSON(status int, body any) *Reply { return &Reply{Status: status, Body: body} }

// NoContent is an empty reply, e.g. 204 or 202 without a body.
func NoContent(status int) *Reply { return &Reply{Status: status} }

// WithHeader sets a response header and returns r.
func (r *Reply) WithHeader(key, value string) *Reply {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(key, value)
	return r
}

// Handler answers a Call.
type Handler func(c *Call) (*Reply, error)

// Link builds an absolute URL under the API's base, in the project-id
// shape the client used.
func (c *Call) Link(path string) string {
	if c.ProjectInURL != "" {
		return fmt.Sprintf("%s/%s%s", c.BaseURL, c.ProjectInURL, path)
	}
	return c.BaseURL + path
}

// Link is an OpenStack link object.
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
	Type string `json:"type,omitempty"`
}

// WriteJSON writes a JSON body outside the route machinery (version
// lists, health checks).
func WriteJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBytes(w, status, "application/json", b)
}
