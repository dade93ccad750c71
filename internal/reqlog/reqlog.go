// Package reqlog keeps the API requests one kumo process served lately,
// in memory, for the request inspector (GET /kumo/v1/requests and the
// dashboard's page): a bounded ring of what the access log line says of
// each request, plus who made it and which server it concerned. Nothing
// is stored: each process shows what it served since it started.
package reqlog

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// DefaultSize is how many requests a process keeps by default.
const DefaultSize = 1000

// DefaultLimit is how many requests a listing returns by default.
const DefaultLimit = 100

// Entry is one served request. It never holds a body or a header: Path
// keeps the query string, with the values of parameters that may carry
// secrets redacted (see Redact).
type Entry struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Service is the API that served it ("compute", "identity", ...; ""
	// when none did: the version document, an unknown prefix).
	Service string `json:"service"`
	// Microversion is the negotiated compute or volume microversion.
	Microversion string  `json:"microversion"`
	Status       int     `json:"status"`
	DurationMS   float64 `json:"duration_ms"`
	RequestID    string  `json:"request_id"`
	// ProjectID and UserID are the caller's, when its token was valid.
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	// ServerID is the server the path names, or the one a create made.
	ServerID string `json:"server_id"`
}

// Log is a fixed-size ring of the latest entries, safe for concurrent
// use.
type Log struct {
	mu   sync.Mutex
	ring []Entry
	next int  // where the next entry goes
	full bool // the ring has wrapped
}

// New returns a log keeping the latest size entries (DefaultSize when
// size < 1).
func New(size int) *Log {
	if size < 1 {
		size = DefaultSize
	}
	return &Log{ring: make([]Entry, size)}
}

// Size is how many entries the log keeps.
func (l *Log) Size() int { return len(l.ring) }

// Add records e, dropping the oldest entry when the log is full.
func (l *Log) Add(e Entry) {
	l.mu.Lock()
	l.ring[l.next] = e
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
	l.mu.Unlock()
}

// List returns the entries f matches, newest first, at most f.Limit
// (DefaultLimit when 0).
func (l *Log) List(f Filter) []Entry {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	out := []Entry{}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	for i := 0; i < n && len(out) < limit; i++ {
		e := &l.ring[(l.next-1-i+len(l.ring))%len(l.ring)]
		if f.match(e) {
			out = append(out, *e)
		}
	}
	return out
}

// Filter selects entries; zero fields match everything.
type Filter struct {
	Method string // exact, upper case
	// Status is an exact status; StatusClass a class (4 for 4xx).
	Status, StatusClass int
	Path                string // a substring of the path and query
	ProjectID           string
	RequestID           string
	ServerID            string
	Limit               int
}

func (f *Filter) match(e *Entry) bool {
	return (f.Method == "" || e.Method == f.Method) &&
		(f.Status == 0 || e.Status == f.Status) &&
		(f.StatusClass == 0 || e.Status/100 == f.StatusClass) &&
		(f.Path == "" || strings.Contains(e.Path, f.Path)) &&
		(f.ProjectID == "" || e.ProjectID == f.ProjectID) &&
		(f.RequestID == "" || e.RequestID == f.RequestID) &&
		(f.ServerID == "" || e.ServerID == f.ServerID)
}

// filterParams are the query parameters ParseFilter accepts.
var filterParams = []string{"method", "status", "path", "project_id", "request_id", "server_id", "limit"}

// ParseFilter reads a filter from query parameters (empty values filter
// nothing, as a search form sends them). A limit above maxLimit is
// lowered to it, as Nova's listings cap theirs. Unknown parameters and
// malformed values are errs.Invalid, worded for the caller.
func ParseFilter(q url.Values, maxLimit int) (Filter, error) {
	var f Filter
	for name, vs := range q {
		known := false
		for _, p := range filterParams {
			known = known || p == name
		}
		if !known {
			return f, errs.Invalid("Unknown filter %q: the filters are %s.", name, strings.Join(filterParams, ", "))
		}
		if len(vs) > 1 {
			return f, errs.Invalid("Filter %q is given %d times; give it once.", name, len(vs))
		}
	}
	if m := q.Get("method"); m != "" {
		for _, r := range m {
			if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
				return f, errs.Invalid("Invalid method %q: an HTTP method is letters only (GET, POST, ...).", m)
			}
		}
		f.Method = strings.ToUpper(m)
	}
	if s := q.Get("status"); s != "" {
		if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") && s[0] >= '1' && s[0] <= '5' {
			f.StatusClass = int(s[0] - '0')
		} else if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 599 {
			f.Status = n
		} else {
			return f, errs.Invalid("Invalid status %q: give a status (100-599) or a class (2xx, 4xx, 5xx).", s)
		}
	}
	f.Path, f.ProjectID, f.RequestID, f.ServerID = q.Get("path"), q.Get("project_id"), q.Get("request_id"), q.Get("server_id")
	f.Limit = DefaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return f, errs.Invalid("Invalid limit %q: give a whole number from 1 to %d.", s, maxLimit)
		}
		f.Limit = n
	}
	f.Limit = min(f.Limit, maxLimit)
	return f, nil
}

// Redacted stands in for a secret.
const Redacted = "***"

// Redact returns path with its query string, the values of parameters
// whose names hold "token", "password" or "secret" replaced by Redacted
// (the rest kept as sent, in order); the one path that names a secret,
// Nova's /os-console-auth-tokens/{console_token}, has it replaced too.
func Redact(path, rawQuery string) string {
	segs := strings.Split(path, "/")
	for i := 1; i < len(segs); i++ {
		if segs[i] != "" && segs[i-1] == "os-console-auth-tokens" {
			segs[i] = Redacted
		}
	}
	out := strings.Join(segs, "/")
	if rawQuery == "" {
		return out
	}
	parts := strings.Split(rawQuery, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if hasValue && secretName(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + Redacted
		}
	}
	return out + "?" + strings.Join(parts, "&")
}

func secretName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "token") || strings.Contains(n, "password") || strings.Contains(n, "secret")
}
