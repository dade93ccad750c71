package e2e

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kumocloud/kumo/internal/dashboard"
)

// TestDashboardSerialTerminal drives the serial console's terminal script
// in Chromium against the remote console contract (POST
// /servers/{id}/remote-consoles answering a ws:// URL): the dashboard runs
// over a stub of the APIs and the websocket is an echo server, so the test
// checks the script, not kumo's consoles.
func TestDashboardSerialTerminal(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	ws := httptest.NewServer(http.HandlerFunc(echoConsole))
	t.Cleanup(ws.Close)
	wsURL := "ws" + strings.TrimPrefix(ws.URL, "http") + "/?token=t1"

	answers := map[string]string{
		"POST /identity/v3/auth/tokens": `{"token": {"user": {"id": "u1", "name": "ann", "domain": {"name": "Default"}},
			"project": {"id": "p1", "name": "demo"}, "roles": [{"name": "member"}], "catalog": []}}`,
		"GET /identity/v3/auth/tokens": `{"token": {"user": {"id": "u1", "name": "ann", "domain": {"name": "Default"}},
			"project": {"id": "p1", "name": "demo"}, "roles": [{"name": "member"}], "catalog": []}}`,
		"GET /v2.1/servers/s1": `{"server": {"id": "s1", "name": "vm", "status": "ACTIVE", "OS-EXT-STS:vm_state": "active",
			"OS-EXT-STS:task_state": null, "OS-EXT-STS:power_state": 1, "hostId": "h", "OS-SRV-USG:launched_at": "2026-12-07T00:00:00Z",
			"addresses": {}, "flavor": {"original_name": "m1.tiny"}, "image": ""}}`,
		"POST /v2.1/servers/s1/remote-consoles": `{"remote_console": {"protocol": "serial", "type": "serial", "url": "` + wsURL + `"}}`,
	}
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"itemNotFound": {"code": 404, "message": "The resource could not be found."}}`)
			return
		}
		w.Header().Set("X-Subject-Token", "tok")
		_, _ = io.WriteString(w, body)
	})
	d, err := dashboard.New(stub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(d)
	t.Cleanup(site.Close)

	step(t, ctx, "log in and open the serial console",
		chromedp.Navigate(site.URL+"/dashboard/login"),
		chromedp.SendKeys(chromedp.CSS(`#login-password input[name="user"]`), "ann"),
		chromedp.SendKeys(chromedp.CSS(`#login-password input[name="password"]`), "pw"),
		chromedp.Submit(chromedp.CSS(`#login-password`)),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
		chromedp.Navigate(site.URL+"/dashboard/servers/s1"),
		chromedp.Click(chromedp.CSS("#serial-console")),
		chromedp.WaitVisible(chromedp.CSS("#terminal")),
	)
	waitText(t, ctx, "#term-state", func(s string) bool { return s == "connected" }, "the websocket connects")
	waitText(t, ctx, "#terminal", func(s string) bool { return strings.HasSuffix(s, "login:") }, "the console's greeting")
	step(t, ctx, "type", chromedp.SendKeys(chromedp.CSS("#terminal"), "root\r"))
	waitText(t, ctx, "#terminal", func(s string) bool { return strings.Contains(s, "login: root") }, "the echo of what was typed")
}

// echoConsole is a websocket server (RFC 6455, just enough) that greets
// with "login: " and echoes every frame's bytes back, as a serial console
// echoes what is typed.
func echoConsole(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	hdr := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
	_, _ = rw.WriteString(hdr + "\r\n")
	writeFrame(rw.Writer, []byte("login: "))
	for {
		payload, op, err := readFrame(rw.Reader)
		if err != nil || op == 8 { // close
			return
		}
		writeFrame(rw.Writer, payload)
	}
}

func readFrame(r *bufio.Reader) ([]byte, byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, 0, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, 0, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var mask [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return nil, 0, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, 0, err
	}
	for i := range p {
		p[i] ^= mask[i%4]
	}
	return p, h[0] & 0x0f, nil
}

// writeFrame sends p as one unmasked binary frame (short payloads only).
func writeFrame(w *bufio.Writer, p []byte) {
	_ = w.WriteByte(0x82)
	_ = w.WriteByte(byte(len(p)))
	_, _ = w.Write(p)
	_ = w.Flush()
}
