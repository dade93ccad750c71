package consoleproxy_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kumocloud/kumo/internal/api/consoleproxy"
	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

const server = "11111111-2222-3333-4444-555555555555"

// echoHost's guest has consoles that greet as an RFB server would (or
// with a prompt) and then echo what they read.
type echoHost struct{}

func (echoHost) DialConsole(ctx context.Context, host, id, protocol string) (io.ReadWriteCloser, error) {
	a, b := net.Pipe()
	go func() {
		defer b.Close()
		greeting := "# "
		if protocol == console.VNC {
			greeting = "RFB 003.008\n"
		}
		if _, err := io.WriteString(b, greeting); err != nil {
			return
		}
		_, _ = io.Copy(b, b)
	}()
	return a, nil
}

type here struct{}

func (here) ServerHost(ctx context.Context, id string) (string, error) {
	if id == server {
		return "h", nil
	}
	return "", nil
}

func TestProxies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	consoles := console.New(storetest.SQLite(t), echoHost{}, here{}, nil)
	srv := httptest.NewServer(consoleproxy.Handler(consoles, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	vncToken, err := consoles.Authorize(ctx, server, "h", console.VNC, "novnc")
	if err != nil {
		t.Fatal(err)
	}
	serialToken, err := consoles.Authorize(ctx, server, "h", console.Serial, "serial")
	if err != nil {
		t.Fatal(err)
	}

	// noVNC's websocket: subprotocol binary, binary messages both ways.
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/console/websockify?token="+vncToken,
		&websocket.DialOptions{Subprotocols: []string{"binary"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "binary" {
		t.Errorf("subprotocol %q, want binary", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	typ, msg, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || string(msg) != "RFB 003.008\n" {
		t.Fatalf("greeting %v %q %v", typ, msg, err)
	}
	if err := ws.Write(ctx, websocket.MessageBinary, []byte{3, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "\x03\x00\x00\x00" {
		t.Fatalf("echo %q %v", msg, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// The serial websocket takes text messages too.
	ws, _, err = websocket.Dial(ctx, consoleproxy.SerialURL(srv.URL, serialToken), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "# " {
		t.Fatalf("prompt %q %v", msg, err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("hostname\r")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "hostname\r" {
		t.Fatalf("echo %q %v", msg, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// Refused: closed with 1008 and the reason.
	for _, tc := range []struct{ name, url, reason string }{
		{"unknown token", "/console/serial?token=nope", "Token not found"},
		{"token of the other console", "/console/serial?token=" + vncToken, "Token not found"},
		{"no token", "/console/websockify", "Token not found"},
	} {
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+tc.url, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, _, err = ws.Read(ctx)
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != tc.reason {
			t.Errorf("%s: %v, want close 1008 %q", tc.name, err, tc.reason)
		}
	}

	// The page and its script.
	for _, p := range []string{"/console/vnc_auto.html?path=x", "/console/vnc.html", "/console/rfb.js"} {
		r, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(b), "KumoRFB") {
			t.Errorf("%s: %d %.80q", p, r.StatusCode, b)
		}
	}
}

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ root, serial, novnc string }{
		{"http://cloud:8774", "ws://cloud:8774/console/serial?token=T",
			"http://cloud:8774/console/vnc_auto.html?path=console%2Fwebsockify%3Ftoken%3DT"},
		{"https://cloud/kumo/", "wss://cloud/kumo/console/serial?token=T",
			"https://cloud/kumo/console/vnc_auto.html?path=kumo%2Fconsole%2Fwebsockify%3Ftoken%3DT"},
	} {
		if got := consoleproxy.SerialURL(tc.root, "T"); got != tc.serial {
			t.Errorf("serial URL under %s: %s, want %s", tc.root, got, tc.serial)
		}
		if got := consoleproxy.NoVNCURL(tc.root, "T"); got != tc.novnc {
			t.Errorf("noVNC URL under %s: %s, want %s", tc.root, got, tc.novnc)
		}
	}
}
