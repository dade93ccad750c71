package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// served is a kumo serving on a free 127.0.0.1 port, with noauth
// (token admin:admin), stopped at test end.
type served struct {
	app  *App
	addr string
}

func serveTest(t *testing.T, cfg Config) *served {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.Auth = "noauth"
	cfg.Listen = "127.0.0.1:0"
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(addr net.Addr) { addrc <- addr.String() }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	select {
	case addr := <-addrc:
		return &served{app: a, addr: addr}
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	return nil
}

func (s *served) url(path string) string { return "http://" + s.addr + path }

// do sends a request as admin with a fresh client (no pooled
// connections) and returns the status and body.
func (s *served) do(t *testing.T, method, path string, body io.Reader, headers ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url(path), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "admin:admin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read reply: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// dial opens a raw connection to s.
func (s *served) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readReply reads one HTTP reply from c within wait.
func readReply(t *testing.T, c net.Conn, wait time.Duration) (*http.Response, []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no reply within %v: %v", wait, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read reply body: %v", err)
	}
	return resp, b
}

// closedWithin reports whether the server closes c within wait (reading
// and dropping whatever it answers first).
func closedWithin(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func shortTimeouts() HTTPTimeouts {
	return HTTPTimeouts{Header: 2 * time.Second, BodyIdle: 300 * time.Millisecond, WriteIdle: 300 * time.Millisecond, KeepAlive: 10 * time.Second}
}

// TestStalledBodyIsCutOff: a request whose body stops arriving is closed
// after the body read timeout, whatever the API, and kumo goes on
// answering.
func TestStalledBodyIsCutOff(t *testing.T) {
	s := serveTest(t, Config{HTTP: shortTimeouts()})
	for _, path := range []string{"/v2.1/flavors", "/identity/v3/auth/tokens", "/image/v2/images"} {
		c := s.dial(t)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: kumo\r\nX-Auth-Token: admin:admin\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":", path)
		if !closedWithin(c, 5*time.Second) {
			t.Errorf("POST %s with a stalled body: connection still open after 5 s (body read timeout 300 ms)", path)
		}
	}
	if status, body := s.do(t, "GET", "/healthz", nil); status != 200 {
		t.Errorf("healthz: %d %s", status, body)
	}
}

// slowReader yields size bytes in chunks, pausing between them.
type slowReader struct {
	size, chunk int
	pause       time.Duration
	sent        int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.sent == r.size {
		return 0, io.EOF
	}
	if r.sent > 0 && r.sent%r.chunk == 0 {
		time.Sleep(r.pause)
	}
	n := min(len(p), r.chunk-r.sent%r.chunk, r.size-r.sent)
	for i := range p[:n] {
		p[i] = byte('a' + (r.sent+i)%26)
	}
	r.sent += n
	return n, nil
}

func createImage(t *testing.T, s *served, name string) string {
	t.Helper()
	status, body := s.do(t, "POST", "/image/v2/images", strings.NewReader(`{"name": "`+name+`", "disk_format": "raw", "container_format": "bare"}`), "Content-Type", "application/json")
	if status != 201 {
		t.Fatalf("create image: %d %s", status, body)
	}
	var img struct{ ID string }
	if err := json.Unmarshal(body, &img); err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// TestSlowUploadAndDownload: an image upload that sends a little at a
// time for much longer than the read timeout succeeds, and so does a
// download read slowly; a download whose client stops reading is cut off.
func TestSlowUploadAndDownload(t *testing.T) {
	s := serveTest(t, Config{HTTP: HTTPTimeouts{BodyIdle: time.Second, WriteIdle: time.Second}})

	// 20 chunks 250 ms apart: 5 s, five times the body read timeout.
	slow := createImage(t, s, "slow")
	start := time.Now()
	status, body := s.do(t, "PUT", "/image/v2/images/"+slow+"/file", &slowReader{size: 20 << 10, chunk: 1 << 10, pause: 250 * time.Millisecond}, "Content-Type", "application/octet-stream")
	if status != 204 {
		t.Fatalf("slow upload: %d %s", status, body)
	}
	if took := time.Since(start); took < 4*time.Second {
		t.Fatalf("the upload took %v: it was not slow", took)
	}
	if status, body := s.do(t, "GET", "/image/v2/images/"+slow+"/file", nil); status != 200 || len(body) != 20*1024 {
		t.Fatalf("download of the slow upload: %d, %d bytes", status, len(body))
	}

	const size = 32 << 20
	big := createImage(t, s, "big")
	if status, body := s.do(t, "PUT", "/image/v2/images/"+big+"/file", &slowReader{size: size, chunk: size}, "Content-Type", "application/octet-stream"); status != 204 {
		t.Fatalf("upload: %d %s", status, body)
	}
	download := func(pauseAfter int, pause time.Duration) (int, error) {
		c := s.dial(t)
		fmt.Fprintf(c, "GET /image/v2/images/%s/file HTTP/1.1\r\nHost: kumo\r\nX-Auth-Token: admin:admin\r\nConnection: close\r\n\r\n", big)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n := 0
		buf := make([]byte, 1<<20)
		for i := 0; ; i++ {
			if i == pauseAfter {
				time.Sleep(pause)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := io.ReadFull(resp.Body, buf)
			n += m
			if err == io.EOF || err == io.ErrUnexpectedEOF && n == size {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			time.Sleep(40 * time.Millisecond) // about 25 MB/s
		}
	}
	if n, err := download(-1, 0); err != nil || n != size {
		t.Errorf("slow download: %d of %d bytes, %v", n, size, err)
	}
	if n, err := download(1, 4*time.Second); err == nil || n == size {
		t.Errorf("download whose client stopped reading for 4 s (write timeout 1 s): %d of %d bytes, %v; want it cut off", n, size, err)
	}
}

// TestDeclaredTooLargeBody: a Content-Length over the body limit is
// answered 413 in the API's format at once, without waiting for the body.
func TestDeclaredTooLargeBody(t *testing.T) {
	s := serveTest(t, Config{HTTP: HTTPTimeouts{BodyIdle: 10 * time.Second}})
	for _, tc := range []struct{ path, want string }{
		{"/v2.1/flavors", `{"overLimit":{"code":413,"message":"Request is too large."}}`},
		{"/identity/v3/auth/tokens", `{"error":{"code":413,"message":"Request is too large.","title":"Request Entity Too Large"}}`},
		{"/image/v2/images", "413 Request Entity Too Large\n\nRequest is too large.\n\n   "},
	} {
		c := s.dial(t)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: kumo\r\nX-Auth-Token: admin:admin\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", tc.path, 10<<20)
		// Well within the body read timeout: no body byte is awaited.
		resp, body := readReply(t, c, 3*time.Second)
		if resp.StatusCode != 413 || string(body) != tc.want {
			t.Errorf("POST %s declaring 10 MiB: %d %q, want 413 %q", tc.path, resp.StatusCode, body, tc.want)
		}
	}
}

// TestConnectionCap: with every slot held by a busy connection, a new one
// is answered 503 in the API's format and closed; once the stalled
// connections are cut off, /healthz answers again. A connection idle
// between requests gives its slot to a new one.
func TestConnectionCap(t *testing.T) {
	timeouts := shortTimeouts()
	timeouts.BodyIdle = 3 * time.Second
	s := serveTest(t, Config{MaxConnections: 2, HTTP: timeouts})

	for range 2 {
		c := s.dial(t)
		fmt.Fprint(c, "POST /v2.1/flavors HTTP/1.1\r\nHost: kumo\r\nX-Auth-Token: admin:admin\r\nContent-Length: 100\r\n\r\n{")
	}
	time.Sleep(100 * time.Millisecond) // both accepted
	for _, tc := range []struct{ path, want string }{
		{"/healthz", `{"serviceUnavailable":{"code":503,"message":"The server is serving as many connections as it may. Please retry later."}}`},
		{"/identity/v3", `{"error":{"code":503,"message":"The server is serving as many connections as it may. Please retry later.","title":"Service Unavailable"}}`},
	} {
		c := s.dial(t)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: kumo\r\n\r\n", tc.path)
		resp, body := readReply(t, c, 2*time.Second)
		if resp.StatusCode != 503 || string(body) != tc.want || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s at the cap: %d %s %q, want 503 %s with Retry-After", tc.path, resp.StatusCode, resp.Header, body, tc.want)
		}
		if !closedWithin(c, 2*time.Second) {
			t.Errorf("GET %s at the cap: connection left open", tc.path)
		}
	}

	time.Sleep(3500 * time.Millisecond) // the stalled bodies time out
	if status, body := s.do(t, "GET", "/healthz", nil); status != 200 {
		t.Fatalf("healthz once the stalled connections are gone: %d %s", status, body)
	}

	var idle []net.Conn
	for range 2 {
		c := s.dial(t)
		fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: kumo\r\n\r\n")
		if resp, body := readReply(t, c, 2*time.Second); resp.StatusCode != 200 {
			t.Fatalf("healthz: %d %s", resp.StatusCode, body)
		}
		idle = append(idle, c)
	}
	time.Sleep(100 * time.Millisecond) // both idle
	if status, body := s.do(t, "GET", "/healthz", nil); status != 200 {
		t.Fatalf("healthz with the slots held by idle connections: %d %s", status, body)
	}
	closed := 0
	for _, c := range idle {
		if closedWithin(c, 300*time.Millisecond) {
			closed++
		}
	}
	if closed != 1 {
		t.Errorf("%d idle connections closed to make room, want 1", closed)
	}
}

func TestConnectionCapFitsOpenFiles(t *testing.T) {
	for _, tc := range []struct {
		configured int
		files      uint64
		want       int
		lowered    bool
	}{
		{4096, 0, 4096, false}, // limit unknown
		{4096, 20000, 4096, false},
		{4096, 1024, 384, true},
		{100, 1024, 100, false},
		{4096, 300, 1, true},
	} {
		got, lowered := connectionCap(tc.configured, tc.files)
		if got != tc.want || lowered != tc.lowered {
			t.Errorf("connectionCap(%d, %d) = %d, %v; want %d, %v", tc.configured, tc.files, got, lowered, tc.want, tc.lowered)
		}
	}
}

// TestNetHTTPErrorsAreFaults: what net/http answers by itself (a request
// line it cannot parse, headers over the limit, no Host) comes in the
// format of the API the request was for.
func TestNetHTTPErrorsAreFaults(t *testing.T) {
	s := serveTest(t, Config{HTTP: shortTimeouts()})
	for _, tc := range []struct {
		name, request string
		status        int
		body          string
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400, `{"badRequest":{"code":400,"message":"Bad Request"}}`},
		{"headers too large, identity", "GET /identity/v3 HTTP/1.1\r\nHost: kumo\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431,
			`{"error":{"code":431,"message":"Request Header Fields Too Large","title":"Request Header Fields Too Large"}}`},
		{"URL too large, compute", "GET /v2.1/servers?name=" + strings.Repeat("a", 100<<10) + " HTTP/1.1\r\nHost: kumo\r\n\r\n", 431,
			`{"computeFault":{"code":431,"message":"Request Header Fields Too Large"}}`},
		{"no Host, image", "GET /image/v2/images HTTP/1.1\r\n\r\n", 400, "400 Bad Request\n\nmissing required Host header\n\n   "},
		{"unknown transfer encoding", "POST /v2.1/servers HTTP/1.1\r\nHost: kumo\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
			`{"notImplemented":{"code":501,"message":"Unsupported transfer encoding"}}`},
	} {
		c := s.dial(t)
		go func() { _, _ = io.WriteString(c, tc.request) }() // net/http answers before reading it all
		resp, body := readReply(t, c, 2*time.Second)
		if resp.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.name, resp.StatusCode, body, tc.status, tc.body)
		}
		if !strings.HasPrefix(resp.Header.Get("X-Openstack-Request-Id"), "req-") {
			t.Errorf("%s: no request id", tc.name)
		}
	}
}

// TestPathsAreNotRedirected: repeated slashes are served as single ones
// (as Nova's and Glance's paste urlmap does) rather than redirected by
// http.ServeMux; dot segments are the API's 404.
func TestPathsAreNotRedirected(t *testing.T) {
	s := serveTest(t, Config{HTTP: shortTimeouts()})
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"//v2.1//servers", 200, `{"servers":[]}`},
		{"/v2.1///flavors/1", 200, `"name":"m1.tiny"`},
		{"//identity/v3", 200, `"id":"v3.14"`},
		{"/v2.1/../identity/v3", 404, `{"itemNotFound":{"code":404,"message":"The resource could not be found."}}`},
		{"/identity/./v3", 404, `{"error":{"code":404,"message":"The resource could not be found.","title":"Not Found"}}`},
	} {
		c := s.dial(t) // the path is sent as is, not cleaned
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: kumo\r\nX-Auth-Token: admin:admin\r\n\r\n", tc.path)
		resp, body := readReply(t, c, 5*time.Second)
		if resp.StatusCode != tc.status || !bytes.Contains(body, []byte(tc.want)) {
			t.Errorf("GET %s: %d %s, want %d with %s", tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
}

// TestMetricsListener: /metrics is not on the API listener; with
// --metrics-listen it is served there.
func TestMetricsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	s := serveTest(t, Config{HTTP: shortTimeouts(), MetricsListen: metricsAddr})

	if status, body := s.do(t, "GET", "/metrics", nil); status != 404 || bytes.Contains(body, []byte("go_info")) {
		t.Errorf("GET /metrics on the API listener: %d %s, want 404", status, body)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`kumo_http_requests_total{method="GET",route="unmatched",status="404"}`)) {
		t.Errorf("GET /metrics on --metrics-listen: %d %.300s", resp.StatusCode, body)
	}
}
