package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// FaultRequest is what a fault rule matches a request by.
type FaultRequest struct {
	Service, Method string
	// Path is the request's path after the service's mount and its
	// optional project id segment ("/servers/detail").
	Path string
	// Query is the request's raw query string (rate limits match it).
	Query     string
	ProjectID string
	// Microversion is the negotiated compute or volume microversion
	// ("2.79"), "" for the other APIs.
	Microversion string
	RequestID    string
}

// Fault types a FaultInjector answers with.
const (
	FaultStatus  = "status"
	FaultLatency = "latency"
	FaultReset   = "reset"
)

// Fault is an injected fault: a status answered with the API's own error
// body (and Retry-After when set), a delay before the request is served,
// or a reset connection.
type Fault struct {
	Type       string
	Status     int
	Message    string
	RetryAfter string
	// Details, when set, is the overLimit body's details (a rate limit's).
	Details string
	Delay   time.Duration
}

// FaultInjector decides whether a request gets a fault (nil for none);
// it has counted and recorded the fault it returns.
type FaultInjector interface {
	InjectFault(ctx context.Context, q FaultRequest) (*Fault, error)
}

// injectFault asks inj (s.Faults or s.RateLimits) about c and carries
// out the fault; it reports whether the request was answered (or cut
// off). A fault store that fails never fails the request: it is logged
// and the request served.
func (s *Service) injectFault(w http.ResponseWriter, c *Call, inj FaultInjector, path string) bool {
	q := FaultRequest{Service: s.Name, Method: c.Req.Method, Path: path, Query: c.Req.URL.RawQuery,
		ProjectID: c.ProjectID(), RequestID: c.RequestID, Microversion: s.microversion(c)}
	f, err := inj.InjectFault(c.Ctx, q)
	if err != nil {
		s.logger().ErrorContext(c.Ctx, "fault rules unavailable", "request_id", c.RequestID, "error", err)
		return false
	}
	if f == nil {
		return false
	}
	switch f.Type {
	case FaultLatency:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-c.Ctx.Done():
			return true // the client went away while it waited
		}
	case FaultReset:
		resetConnection(w)
		return true
	}
	s.writeErrorStatus(w, c, f.Status, overLimit{errs.Conflict("%s", f.Message), f.Details}, f.RetryAfter)
	return true
}

// lingerer is a connection whose close can reset it (net.TCPConn, and
// the app's admitted connections that wrap one).
type lingerer interface{ SetLinger(sec int) error }

// resetConnection closes the request's connection with SO_LINGER 0, so
// the kernel sends a RST: the client sees ECONNRESET, not a clean end.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): break the reply off instead.
		panic(http.ErrAbortHandler)
	}
	if l, ok := conn.(lingerer); ok {
		_ = l.SetLinger(0)
	} else if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		if l, ok := nc.NetConn().(lingerer); ok {
			_ = l.SetLinger(0)
		}
	}
	_ = conn.Close()
}

// overLimit is an injected fault's error with the details an overLimit
// body carries (a rate limit's, as Nova's RateLimitFault).
type overLimit struct {
	error
	details string
}

func (e overLimit) Unwrap() error { return e.error }

// withRetryAfter adds retryAfter, and err's details when it has some, to
// an overLimit fault body (Nova's and Cinder's); other bodies are
// returned as they are.
func withRetryAfter(body []byte, retryAfter string, err error) []byte {
	var doc map[string]map[string]any
	if json.Unmarshal(body, &doc) != nil || doc["overLimit"] == nil {
		return body
	}
	doc["overLimit"]["retryAfter"] = retryAfter
	if ol, ok := err.(overLimit); ok && ol.details != "" {
		doc["overLimit"]["details"] = ol.details
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return b
}
