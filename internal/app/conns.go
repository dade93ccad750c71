package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
)

// Client connections: how many may be open, how long each may sit without
// progress, and the answers net/http gives on its own (malformed
// requests, headers too large), which kumo writes as the API's faults.

// HTTPTimeouts bound how long a client connection may go without
// progress. Request bodies and replies have no deadline as a whole: an
// image upload or download that keeps moving takes as long as it takes.
type HTTPTimeouts struct {
	// Header is the time to read a request's line and headers.
	Header time.Duration
	// BodyIdle is the longest wait for the next bytes of a request body.
	BodyIdle time.Duration
	// WriteIdle is the longest a client may take to accept one write of
	// a reply.
	WriteIdle time.Duration
	// KeepAlive is how long a connection may wait for its next request.
	KeepAlive time.Duration
}

// Defaults of the client connection bounds.
const (
	// DefaultMaxConnections (--max-connections) is well under the usual
	// open-files limits and far above what an OpenStack API serves at
	// once.
	DefaultMaxConnections = 4096
	// maxHeaderBytes bounds a request's headers (net/http's default is
	// 1 MiB, per connection); Keystone tokens are a few hundred bytes.
	maxHeaderBytes = 64 << 10
	// reservedFiles are the descriptors kept back from client
	// connections: database, listeners, logs, guests' sockets.
	reservedFiles = 256
	// maxRefusals bounds the connections being answered 503 at once.
	maxRefusals = 64
)

func (t *HTTPTimeouts) defaults() {
	if t.Header == 0 {
		t.Header = 10 * time.Second
	}
	if t.BodyIdle == 0 {
		t.BodyIdle = 60 * time.Second
	}
	if t.WriteIdle == 0 {
		t.WriteIdle = 60 * time.Second
	}
	if t.KeepAlive == 0 {
		t.KeepAlive = 120 * time.Second
	}
}

// connectionCap is the configured connection limit, lowered if the
// open-files limit (raised to its hard limit first) could not hold it:
// each connection may hold a second descriptor, an image file it
// uploads or downloads.
func connectionCap(configured int, openFiles uint64) (capped int, lowered bool) {
	if openFiles == 0 {
		return configured, false
	}
	fit := 1
	if openFiles > 2*reservedFiles {
		fit = int((openFiles - reservedFiles) / 2)
	}
	if configured > fit {
		return fit, true
	}
	return configured, false
}

// connLimiter is a listener that keeps at most max client connections
// open, so kumo never runs out of file descriptors however many clients
// connect. At the cap, a keep-alive connection waiting for its next
// request is closed to make room (as nginx reuses idle connections); with
// none idle, the new connection is answered 503 at once and closed, so a
// client is told rather than left waiting.
type connLimiter struct {
	net.Listener
	max   int
	style func(path string) api.ErrorStyle

	mu   sync.Mutex
	open int
	idle map[*clientConn]struct{}

	refusals chan struct{} // bounds the goroutines answering 503
}

func newConnLimiter(ln net.Listener, max int, style func(path string) api.ErrorStyle) *connLimiter {
	return &connLimiter{Listener: ln, max: max, style: style, idle: map[*clientConn]struct{}{}, refusals: make(chan struct{}, maxRefusals)}
}

// Accept returns the next connection there is room for.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		victim, ok := l.admit()
		if !ok {
			l.refuse(c)
			continue
		}
		if victim != nil {
			// Its server goroutine sees the read fail and ends.
			_ = victim.Conn.Close()
		}
		return &clientConn{Conn: c, l: l}, nil
	}
}

// admit takes a slot for a new connection, from an idle one if none is
// free (victim, which the caller closes).
func (l *connLimiter) admit() (victim *clientConn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open < l.max {
		l.open++
		return nil, true
	}
	for c := range l.idle {
		delete(l.idle, c)
		c.released = true // its slot passes to the new connection
		return c, true
	}
	return nil, false
}

func (l *connLimiter) release(c *clientConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.idle, c)
	if !c.released {
		c.released = true
		l.open--
	}
}

// connState is the http.Server hook that tells idle connections from
// busy ones.
func (l *connLimiter) connState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*clientConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.released {
		return
	}
	if state == http.StateIdle {
		l.idle[c] = struct{}{}
	} else {
		delete(l.idle, c)
	}
}

// refuse answers a connection there is no room for with a 503 in the
// format of the API its request line names, then closes it.
func (l *connLimiter) refuse(c net.Conn) {
	select {
	case l.refusals <- struct{}{}:
	default:
		_ = c.Close() // already answering as many as it may
		return
	}
	go func() {
		defer func() { <-l.refusals }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		head := make([]byte, 512)
		n, _ := c.Read(head)
		_ = writeFault(c, l.style(requestPath(head[:n])), http.StatusServiceUnavailable,
			"The server is serving as many connections as it may. Please retry later.", "Retry-After: 1\r\n")
		// Reading what the client still sends for a moment keeps the
		// close from resetting the connection before the answer is read.
		if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, _ = io.Copy(io.Discard, c)
		}
	}()
}

// headLen is how much of each request clientConn keeps, enough for the
// request line of any path kumo serves.
const headLen = 256

// clientConn is an admitted connection. It gives its slot back when
// closed, and it rewrites net/http's own plain-text answers to requests
// no handler sees (malformed, headers too large) as the fault of the API
// the request was for.
type clientConn struct {
	net.Conn
	l        *connLimiter
	released bool // guarded by l.mu: the slot was given back or passed on

	mu    sync.Mutex
	head  []byte // the start of the request being read
	wrote bool   // a reply was written since head was filled
}

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.wrote {
			c.head, c.wrote = c.head[:0], false
		}
		if len(c.head) < headLen {
			c.head = append(c.head, p[:min(n, headLen-len(c.head))]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *clientConn) Write(p []byte) (int, error) {
	status, msg, isErr := goErrorReply(p)
	c.mu.Lock()
	// Only the first write after a request is read can be net/http's own
	// answer; later ones are a reply's body, whatever bytes it holds.
	isErr = isErr && !c.wrote
	path := ""
	if isErr {
		path = requestPath(c.head)
	}
	c.wrote = true
	c.mu.Unlock()
	if isErr {
		if err := writeFault(c.Conn, c.l.style(path), status, msg, ""); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// SetLinger reaches the TCP connection, so an injected reset
// (api.Fault) can close it with a RST.
func (c *clientConn) SetLinger(sec int) error {
	if l, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return nil
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.l.release(c)
	return err
}

// goErrorHeaders are the headers net/http writes with the answers it
// gives on its own (server.go); handlers' replies always carry kumo's
// request id headers, so never start so.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// goErrorReply recognises one of net/http's own error answers, written
// whole in one Write: "HTTP/1.1 400 Bad Request: missing required Host
// header" + goErrorHeaders + body. It returns the status and the message
// for a fault.
func goErrorReply(p []byte) (status int, msg string, ok bool) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || len(p) < 12 {
		return 0, "", false
	}
	i := bytes.Index(p, []byte(goErrorHeaders))
	if i < 0 || bytes.IndexByte(p[:i], '\n') >= 0 {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(p[9:12]))
	if err != nil {
		return 0, "", false
	}
	// The body repeats the status line ("400 Bad Request: text") or is
	// the text alone ("Unsupported transfer encoding").
	msg = string(p[i+len(goErrorHeaders):])
	msg = strings.TrimPrefix(msg, strconv.Itoa(status)+" ")
	msg = strings.TrimPrefix(msg, http.StatusText(status)+": ")
	return status, msg, true
}

// writeFault writes a whole reply with the fault body of style and
// closes the exchange (Connection: close).
func writeFault(w io.Writer, style api.ErrorStyle, status int, msg, extraHeaders string) error {
	ct, body := style(status, msg)
	id := "req-" + uuid.NewString()
	_, err := fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\nX-Openstack-Request-Id: %s\r\n%s\r\n%s",
		status, http.StatusText(status), ct, len(body), id, extraHeaders, body)
	return err
}

// requestPath is the path of the request line at the start of head
// ("GET /v2.1/servers HTTP/1.1"), or "".
func requestPath(head []byte) string {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 2 {
		return ""
	}
	target := fields[1]
	if i := strings.Index(target, "://"); i >= 0 { // absolute form
		target = target[i+3:]
		if j := strings.IndexByte(target, '/'); j >= 0 {
			target = target[j:]
		} else {
			target = "/"
		}
	}
	target, _, _ = strings.Cut(target, "?")
	return target
}

// withDeadlines gives each read of a request body and each write of a
// reply a deadline of its own, pushed back as data moves, instead of one
// deadline for the whole request (http.Server's ReadTimeout and
// WriteTimeout): a client that stalls is cut off, a slow upload or
// download that keeps going is not.
func withDeadlines(next http.Handler, bodyIdle, writeIdle time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// Without a body net/http is already reading ahead for the next
		// request, with no deadline; one set now would cut that short.
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// Also bounds net/http's discarding of a body the handler
			// did not read.
			_ = rc.SetReadDeadline(time.Now().Add(bodyIdle))
			// On a copy: net/http looks at its own request's body after
			// the handler (is it read? is the rest small enough to
			// discard?) and must find its own type there.
			body := &idleBody{ReadCloser: r.Body, rc: rc, idle: bodyIdle}
			r = r.WithContext(r.Context())
			r.Body = body
		}
		next.ServeHTTP(&idleWriter{ResponseWriter: w, rc: rc, idle: writeIdle}, r)
	})
}

// errBodyStalled is the read error of a body whose client stopped
// sending.
var errBodyStalled = errors.New("no data received within the body read timeout")

// idleBody is a request body whose every read must make progress within
// idle.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool // read to its end or failed
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.done {
		// At its end net/http clears the deadline to watch for the
		// client closing; setting one now would cut that watch short.
		return b.ReadCloser.Read(p)
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errBodyStalled
		}
	}
	return n, err
}

// idleWriter is a reply whose every write must be taken by the client
// within idle.
type idleWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (w *idleWriter) WriteHeader(status int) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	w.ResponseWriter.WriteHeader(status)
}

func (w *idleWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.ResponseWriter.Write(p)
}

// Flush lets streamed replies flush through.
func (w *idleWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	_ = w.rc.Flush()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
