package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

// ErrorStyle renders an error body in one API's format.
type ErrorStyle func(status int, message string) (contentType string, body []byte)

// Service serves one API (compute, identity or image) from its routes.
type Service struct {
	// Name labels the API in logs and metrics.
	Name string
	// Mount is the path prefix the service is served under ("/v2.1").
	Mount  string
	Router *Router
	Auth   auth.Authenticator
	// AuthURL is put in WWW-Authenticate on 401s.
	AuthURL func(r *http.Request) string
	Errors  ErrorStyle
	// ErrorBody, when set, renders error bodies instead of Errors, from
	// the error itself: Neutron's bodies name the exception's type.
	ErrorBody func(status int, err error) (contentType string, body []byte)
	// ErrorHeaders, when set, adds headers to an error reply (Cinder's
	// Retry-After on quota errors).
	ErrorHeaders func(status int, err error) http.Header
	// StatusOf overrides the default status for some error kinds.
	StatusOf func(errs.Kind) (int, bool)
	// Versions, when set, negotiates microversions in this range, the way
	// Scheme says (Nova's when Scheme is nil).
	Versions *mv.Range
	Scheme   mv.Scheme
	// FixedVersion serves every request at this microversion without
	// negotiation or version headers (the legacy /v2 endpoint).
	FixedVersion *mv.Version
	// ProjectInPath accepts an optional /{project_id} segment after Mount.
	ProjectInPath bool
	// ProjectMismatch, when set, is the error for a project id segment
	// that is not the token's (Nova's message otherwise).
	ProjectMismatch func(inURL, token string) error
	// PublicURL, when set, replaces the request's scheme and host in links.
	PublicURL string
	// NoTrailingSlash answers 404 for a path ending in a slash below the
	// mount (/v2.1/servers/), as Nova's router has no route for one:
	// DELETE /os-security-groups/ is a missing group, not a 405 on the
	// collection.
	NoTrailingSlash bool
	// BodyTypes, when set, are the request Content-Types the API takes
	// (besides none and text/plain); any other is a 415, as Nova's
	// wsgi.Request.get_content_type refuses it.
	BodyTypes []string
	// Text is how the API answers request text no database can hold.
	Text TextRules
	Log  *slog.Logger

	// Policy is the API's rule set; every route's Rule names one of its
	// rules.
	Policy *policy.Set
	// Denied is the API's 403 for a failed rule (its message names the
	// rule as the real service's does).
	Denied func(rule string) error
	// Target is the default target rules are evaluated against (Nova and
	// Glance: the caller's own project and user; Keystone: the objects
	// the path names). Nil means an empty target.
	Target func(c *Call) policy.Target
	// Conceal, when set, is asked after a rule fails: it returns the
	// NotFound error the caller gets instead of a 403 when the path names
	// an object the caller may not even see, so a refusal never tells
	// that a foreign object exists.
	Conceal func(c *Call) error
	// Faults, when set, is asked whether the request gets an injected
	// fault (internal/faults) once its route matched and its token was
	// validated.
	Faults FaultInjector
	// RateLimits, when set, is asked the same way whether the request is
	// over a rate limit (internal/apirate): its fault is a 413 overLimit.
	RateLimits FaultInjector
}

// ServeHTTP implements http.Handler. The request's path must still carry
// the Mount prefix.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &Call{Ctx: r.Context(), Req: r, RequestID: RequestIDFrom(r.Context())}
	ri := infoOf(r.Context())
	ri.service = s.Name
	rest := strings.TrimPrefix(r.URL.Path, s.Mount)
	c.BaseURL = s.baseURL(r) + s.Mount
	if s.FixedVersion != nil {
		c.Version = *s.FixedVersion
	} else if s.Versions != nil {
		v, err := s.scheme().Negotiate(r.Header)
		if err != nil {
			// An unsupported version is answered in its own headers
			// (Nova's 406), an unreadable one in the oldest.
			c.Version = s.Versions.Min
			if errors.Is(err, mv.ErrUnsupported) && v != (mv.Version{}) {
				c.Version = v
			}
			s.writeError(w, c, versionError(err))
			return
		}
		c.Version = v
	}
	ri.microversion = s.microversion(c)
	if declaredTooLarge(r) {
		s.writeError(w, c, errs.TooLarge("Request is too large."))
		return
	}
	if s.ProjectInPath {
		rest = s.stripProject(c, rest)
	}
	route, params, wrongMethod := s.Router.match(r.Method, rest, c.Version, s.Versions != nil)
	if s.NoTrailingSlash && strings.HasSuffix(rest, "/") && strings.Trim(rest, "/") != "" {
		route, wrongMethod = nil, false
	}
	if route == nil {
		if wrongMethod {
			s.writeError(w, c, errs.MethodNotAllowed("The method is not allowed for the requested URL."))
			return
		}
		s.writeError(w, c, errs.NotFound("The resource could not be found."))
		return
	}
	SetRouteName(r.Context(), s.Name+" "+route.Method+" "+route.Name)
	c.params = params
	c.svc = s
	ri.serverID = params["server_id"] // compute's: /servers/{server_id}/...
	if !route.Anonymous {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, c, err)
			return
		}
		if err := s.checkAccessRules(r, p); err != nil {
			s.writeError(w, c, err)
			return
		}
		c.Principal = p
		c.Ctx = auth.WithPrincipal(c.Ctx, p)
		ri.projectID, ri.userID = p.ProjectID, p.UserID
		if c.ProjectInURL != "" && c.ProjectInURL != p.ProjectID {
			err := errs.Invalid("Malformed request URL: URL's project_id '%s' doesn't match Context's project_id '%s'", c.ProjectInURL, p.ProjectID)
			if s.ProjectMismatch != nil {
				err = s.ProjectMismatch(c.ProjectInURL, p.ProjectID)
			}
			s.writeError(w, c, err)
			return
		}
	}
	if !s.takesBody(r) {
		s.writeError(w, c, errs.UnsupportedMedia("Unsupported Content-Type"))
		return
	}
	// Before the policy, which may look the target up (upstream loads
	// it, and validates the query, before checking the policy).
	c.text = &s.Text
	if err := s.Text.checkRequest(c); err != nil {
		s.writeError(w, c, err)
		return
	}
	// After authentication, so a rule can name the token's project;
	// before the policy and the handler, so a fault writes nothing.
	if s.Faults != nil && s.injectFault(w, c, s.Faults, rest) {
		return
	}
	// After the faults, so a request a fault answers counts against no
	// limit; before the policy and the handler, so a refused request
	// writes nothing.
	if s.RateLimits != nil && !route.Anonymous && s.injectFault(w, c, s.RateLimits, rest) {
		return
	}
	if !route.Anonymous && !route.Deferred {
		if err := s.authorizeRoute(c, &route.Route); err != nil {
			s.writeError(w, c, err)
			return
		}
	}
	reply, err := route.Handler(c)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	s.writeReply(w, c, reply)
}

// microversion is c's negotiated microversion as a string, "" for an
// API without microversions.
func (s *Service) microversion(c *Call) string {
	if s.Versions != nil || s.FixedVersion != nil {
		return c.Version.String()
	}
	return ""
}

// takesBody reports whether the request's Content-Type is one the API
// takes: none, an empty one and text/plain (webob's defaults) always.
func (s *Service) takesBody(r *http.Request) bool {
	if s.BodyTypes == nil {
		return true
	}
	h, ok := r.Header["Content-Type"]
	if !ok {
		return true
	}
	t, _, _ := strings.Cut(strings.Join(h, ","), ";")
	t = strings.ToLower(strings.TrimSpace(t))
	return t == "" || t == "text/plain" || slices.Contains(s.BodyTypes, t)
}

// stripProject removes an optional project id segment from rest.
func (s *Service) stripProject(c *Call, rest string) string {
	trimmed := strings.TrimPrefix(rest, "/")
	first, tail, hasTail := strings.Cut(trimmed, "/")
	// A lone unknown segment ("/v2.1/os-networks") is an unknown
	// collection, not a project id followed by nothing.
	if first == "" || !hasTail || s.Router.isFirstSegment(first) {
		return rest
	}
	c.ProjectInURL = first
	return "/" + tail
}

func (s *Service) authenticate(r *http.Request) (*auth.Principal, error) {
	token := r.Header.Get("X-Auth-Token")
	if token == "" {
		return nil, errs.Unauthorized("The request you have made requires authentication.")
	}
	p, err := s.Auth.Authenticate(r.Context(), token)
	if err != nil {
		if errs.Is(err, errs.KindUnauthorized) {
			return nil, err
		}
		return nil, err
	}
	return p, nil
}

func (s *Service) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	return RequestOrigin(r)
}

// RequestOrigin is scheme://host of the request as the client addressed it.
func RequestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func versionError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if errors.Is(err, mv.ErrMalformed) {
		return errs.Invalid("%s", msg)
	}
	return errs.NotAcceptable("%s", msg)
}

// StatusOf maps an error kind to its default HTTP status.
func StatusOf(k errs.Kind) int {
	switch k {
	case errs.KindInvalid:
		return http.StatusBadRequest
	case errs.KindUnauthorized:
		return http.StatusUnauthorized
	case errs.KindForbidden, errs.KindOverQuota:
		return http.StatusForbidden
	case errs.KindNotFound:
		return http.StatusNotFound
	case errs.KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case errs.KindNotAcceptable:
		return http.StatusNotAcceptable
	case errs.KindConflict:
		return http.StatusConflict
	case errs.KindGone:
		return http.StatusGone
	case errs.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.KindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case errs.KindNotImplemented:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

func (s *Service) commonHeaders(w http.ResponseWriter, c *Call) {
	h := w.Header()
	if s.Versions != nil && s.FixedVersion == nil {
		s.scheme().SetResponseHeaders(h, c.Version)
	}
}

// scheme is how the service negotiates microversions.
func (s *Service) scheme() mv.Scheme {
	if s.Scheme != nil {
		return s.Scheme
	}
	return mv.Compute(*s.Versions)
}

func (s *Service) writeError(w http.ResponseWriter, c *Call, err error) {
	kind := errs.KindOf(err)
	status := StatusOf(kind)
	if s.StatusOf != nil {
		if st, ok := s.StatusOf(kind); ok {
			status = st
		}
	}
	if status >= 500 {
		s.logger().ErrorContext(c.Ctx, "request failed", "service", s.Name, "request_id", c.RequestID, "error", err)
	}
	s.writeErrorStatus(w, c, status, err, "")
}

// writeErrorStatus writes err as the API's error body with status. A
// retryAfter is sent as Retry-After, and in an overLimit body as its
// retryAfter, as Nova's and Cinder's wsgi Fault add it.
func (s *Service) writeErrorStatus(w http.ResponseWriter, c *Call, status int, err error, retryAfter string) {
	if status == http.StatusUnauthorized && s.AuthURL != nil {
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.AuthURL(c.Req)+`"`)
	}
	if status == http.StatusUnauthorized {
		// Like keystonemiddleware, 401s look the same on every API.
		ct, body := KeystoneError(status, errs.Message(err))
		s.commonHeaders(w, c)
		writeBytes(w, status, ct, body)
		return
	}
	if s.ErrorHeaders != nil {
		for k, vs := range s.ErrorHeaders(status, err) {
			w.Header()[k] = vs
		}
	}
	var ct string
	var body []byte
	if s.ErrorBody != nil {
		ct, body = s.ErrorBody(status, err)
	} else {
		ct, body = s.Errors(status, errs.Message(err))
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
		body = withRetryAfter(body, retryAfter, err)
	}
	s.commonHeaders(w, c)
	writeBytes(w, status, ct, body)
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) writeReply(w http.ResponseWriter, c *Call, r *Reply) {
	s.commonHeaders(w, c)
	h := w.Header()
	for k, vs := range r.Header {
		h[k] = vs
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case r.Stream != nil:
		if r.ContentType != "" {
			h.Set("Content-Type", r.ContentType)
		}
		w.WriteHeader(status)
		if c.Req.Method != http.MethodHead {
			_, _ = io.Copy(w, r.Stream)
		}
		if cl, ok := r.Stream.(io.Closer); ok {
			cl.Close()
		}
	case r.Raw != nil:
		writeBytes(w, status, r.ContentType, r.Raw)
	case r.Body != nil:
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		s.writeJSONBody(w, c, status, ct, r.Body)
	default:
		if status != http.StatusNoContent && status != http.StatusNotModified {
			h.Set("Content-Length", "0")
		}
		if r.ContentType != "" {
			h.Set("Content-Type", r.ContentType)
		}
		w.WriteHeader(status)
	}
}

// streamChunk is the size from which a JSON reply is streamed to the
// client as it is encoded (without Content-Length) instead of built whole:
// a listing of a thousand servers would otherwise allocate megabytes per
// request.
const streamChunk = 64 << 10

// writeJSONBody encodes body as the reply. A body that encodes within
// streamChunk is sent with its Content-Length; a larger one is sent in
// chunks as it is encoded.
func (s *Service) writeJSONBody(w http.ResponseWriter, c *Call, status int, contentType string, body any) {
	streamed := false
	e := jsonEncoder{limit: streamChunk, flush: func(b []byte) error {
		if !streamed {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			streamed = true
		}
		_, err := w.Write(b)
		return err
	}}
	b, err := e.append(nil, body)
	switch {
	case err != nil && streamed:
		// The status is sent: all that is left is to break the reply off
		// so the client cannot take a truncated body for a whole one.
		s.logger().ErrorContext(c.Req.Context(), "reply cut off", "error", err)
		panic(http.ErrAbortHandler)
	case err != nil:
		s.writeError(w, c, err)
	case streamed:
		if len(b) > 0 {
			_, _ = w.Write(b)
		}
	default:
		writeBytes(w, status, contentType, b)
	}
}

func writeBytes(w http.ResponseWriter, status int, contentType string, body []byte) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.Header().Set("Content-Length", itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Options are what every API service is built with.
type Options struct {
	Auth auth.Authenticator
	// AuthURL is the identity endpoint clients are sent to on a 401.
	AuthURL   func(r *http.Request) string
	PublicURL string
	Log       *slog.Logger
}
