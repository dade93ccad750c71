package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestRemoteConsolesCLI: openstack console url show --serial gives a
// ws:// URL on kumo's own listener whose websocket is the fake guest's
// shell; --novnc is Nova's answer for a driver without screens.
func TestRemoteConsolesCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	id := gcCreateActive(t, c, "console-e2e")["console-e2e"]

	var serial obj
	cli.JSON(t, &serial, osc("console", "url", "show", "--serial", id)...)
	u, err := url.Parse(serial.str(t, "url"))
	if err != nil || u.Scheme != "ws" || u.Path != "/console/serial" || u.Query().Get("token") == "" {
		t.Fatalf("serial console URL %v", serial)
	}
	if serial.str(t, "type") != "serial" {
		t.Errorf("console %v, want type serial", serial)
	}
	out := cli.Fail(t, osc("console", "url", "show", "--novnc", id)...)
	if !strings.Contains(out, "Unavailable console type vnc.") {
		t.Errorf("--novnc printed %q, want Nova's ConsoleTypeUnavailable", out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("hostname\r")); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	for !strings.Contains(seen.String(), "hostname\r\nconsole-e2e\r\n# ") {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("console printed %q, then %v", seen.String(), err)
		}
		seen.Write(msg)
	}
	ws.Close(websocket.StatusNormalClosure, "")
}
