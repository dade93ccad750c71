package e2e

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestQemuConsoles: a real guest's serial console and screen through
// kumo's own proxies. Typed into the serial websocket, a command runs in
// the test guest's shell (and the console log keeps it); the noVNC page
// is served and its websocket speaks QEMU's RFB: handshake, security
// None, ServerInit, then a FramebufferUpdate for the request.
func TestQemuConsoles(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	s, cli, dataDir, disk := startQemuCloud(t)
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "m1.tiny",
		"qemu-console", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}
	c := NewClients(t, s.CloudsFile(), "kumo")
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("status %s", got)
	}
	g.waitConsole(c, 1)

	ctx, cancel := context.WithTimeout(context.Background(), qemuGuestWait)
	defer cancel()
	var serial obj
	cli.JSON(t, &serial, osc("console", "url", "show", "--serial", id)...)
	ws, _, err := websocket.Dial(ctx, serial.str(t, "url"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// The shell may still be starting: type until it answers.
	var seen strings.Builder
	answered := make(chan struct{})
	go func() {
		for {
			select {
			case <-answered:
				return
			case <-time.After(2 * time.Second):
			}
			if ws.Write(ctx, websocket.MessageBinary, []byte("echo kumo-$((6*7))\r")) != nil {
				return
			}
		}
	}()
	if err := ws.Write(ctx, websocket.MessageBinary, []byte("echo kumo-$((6*7))\r")); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(seen.String(), "kumo-42") {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			close(answered)
			t.Fatalf("serial console printed %q, then %v", seen.String(), err)
		}
		seen.Write(msg)
	}
	close(answered)
	ws.Close(websocket.StatusNormalClosure, "")
	g.waitConsole(c, 1, "kumo-42") // the console log still gets every byte

	var vnc obj
	cli.JSON(t, &vnc, osc("console", "url", "show", "--novnc", id)...)
	page, err := url.Parse(vnc.str(t, "url"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(page.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "rfb.js") {
		t.Fatalf("noVNC page %s: %d %.200s", page, resp.StatusCode, body)
	}
	// As noVNC does: the websocket at path from the host's root.
	wsURL := "ws://" + page.Host + "/" + page.Query().Get("path")
	rfb, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"binary"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rfb.CloseNow()
	r := &wsReader{ctx: ctx, ws: rfb}
	send := func(b []byte) {
		t.Helper()
		if err := rfb.Write(ctx, websocket.MessageBinary, b); err != nil {
			t.Fatal(err)
		}
	}
	if v := string(r.read(t, 12)); !strings.HasPrefix(v, "RFB 003.") {
		t.Fatalf("RFB version %q", v)
	}
	send([]byte("RFB 003.008\n"))
	types := r.read(t, int(r.read(t, 1)[0]))
	if !strings.Contains(string(types), "\x01") {
		t.Fatalf("security types %v lack None", types)
	}
	send([]byte{1})
	if res := binary.BigEndian.Uint32(r.read(t, 4)); res != 0 {
		t.Fatalf("security result %d", res)
	}
	send([]byte{1}) // shared
	init := r.read(t, 24)
	w, h := binary.BigEndian.Uint16(init[0:]), binary.BigEndian.Uint16(init[2:])
	r.read(t, int(binary.BigEndian.Uint32(init[20:])))
	if w == 0 || h == 0 {
		t.Fatalf("screen %dx%d", w, h)
	}
	send([]byte{3, 0, 0, 0, 0, 0, byte(w >> 8), byte(w), byte(h >> 8), byte(h)})
	if typ := r.read(t, 1)[0]; typ != 0 {
		t.Fatalf("server message %d, want a FramebufferUpdate (0)", typ)
	}
	r.read(t, 1)
	if n := binary.BigEndian.Uint16(r.read(t, 2)); n == 0 {
		t.Fatal("FramebufferUpdate without rectangles")
	}
	t.Logf("screen %dx%d, first update received", w, h)
	rfb.Close(websocket.StatusNormalClosure, "")
}

// wsReader reads a websocket's binary messages as one byte stream.
type wsReader struct {
	ctx context.Context
	ws  *websocket.Conn
	buf []byte
}

func (r *wsReader) read(t *testing.T, n int) []byte {
	t.Helper()
	for len(r.buf) < n {
		_, msg, err := r.ws.Read(r.ctx)
		if err != nil {
			t.Fatalf("read %d bytes (have %d): %v", n, len(r.buf), err)
		}
		r.buf = append(r.buf, msg...)
	}
	out := r.buf[:n:n]
	r.buf = r.buf[n:]
	return out
}
