package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

// TestConsoleAcrossHosts: the API of host-a's process hands out a serial
// console of a server on host-b, and its websocket reaches the guest
// through host-b's host endpoint (as kumo api reaches kumo compute).
func TestConsoleAcrossHosts(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a := apptest.New(t, apptest.Options{Database: database, Host: "host-a", HostEndpoint: true})
		b := apptest.New(t, apptest.Options{Database: database, Host: "host-b", HostEndpoint: true, Clock: a.Clock})
		id := createOn(a, "far-away", "host-b")
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskBuild}) {
			t.Fatalf("host-b ran %v, want its build", got)
		}
		// Over HTTP: the URL is built on the request's origin.
		req, err := http.NewRequest(http.MethodPost, a.URL()+"/v2.1/servers/"+id+"/remote-consoles",
			strings.NewReader(`{"remote_console": {"protocol": "serial", "type": "serial"}}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", a.Admin.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("OpenStack-API-Version", "compute 2.6")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			RemoteConsole struct{ URL string } `json:"remote_console"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("remote console: %d %v", resp.StatusCode, err)
		}
		url := body.RemoteConsole.URL
		if !strings.HasPrefix(url, "ws"+strings.TrimPrefix(a.URL(), "http")+"/console/serial?token=") {
			t.Fatalf("console URL %s, want one on host-a's listener", url)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		if err := ws.Write(ctx, websocket.MessageText, []byte("hostname\r")); err != nil {
			t.Fatal(err)
		}
		var seen strings.Builder
		for !strings.Contains(seen.String(), "far-away\r\n# ") {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("console printed %q, then %v", seen.String(), err)
			}
			seen.Write(msg)
		}
		ws.Close(websocket.StatusNormalClosure, "")
	})
}
