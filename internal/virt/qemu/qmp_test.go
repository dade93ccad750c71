package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// fakeQMP serves one QMP client: a greeting, then answers from replies by
// command name, with an event before each answer to show events are skipped.
func fakeQMP(t *testing.T, replies map[string]string) (string, *[]string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "q.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var seen []string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(`{"QMP": {"version": {}, "capabilities": []}}` + "\n"))
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadBytes('\n')
				if err != nil {
					break
				}
				var req struct {
					Execute   string          `json:"execute"`
					Arguments json.RawMessage `json:"arguments"`
				}
				json.Unmarshal(line, &req)
				seen = append(seen, strings.TrimSpace(req.Execute+" "+string(req.Arguments)))
				rep, ok := replies[req.Execute]
				if !ok {
					rep = `{"return": {}}`
				}
				c.Write([]byte(`{"event": "RESUME", "timestamp": {}}` + "\n" + rep + "\n"))
			}
			c.Close()
		}
	}()
	return sock, &seen
}

func TestQMPCall(t *testing.T) {
	tests := []struct {
		name, command string
		args          any
		reply         string
		wantErr       string
		wantStatus    string
	}{
		{name: "status", command: "query-status", reply: `{"return": {"status": "paused", "running": false}}`, wantStatus: "paused"},
		{name: "arguments", command: "migrate", args: map[string]string{"uri": "file:/tmp/f"}, reply: `{"return": {}}`},
		{name: "error", command: "cont", reply: `{"error": {"class": "GenericError", "desc": "no"}}`, wantErr: "qmp cont: GenericError: no"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock, seen := fakeQMP(t, map[string]string{tc.command: tc.reply})
			var st struct {
				Status string `json:"status"`
			}
			err := qmpCall(context.Background(), sock, tc.command, tc.args, &st)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != tc.wantStatus {
				t.Errorf("status %q, want %q", st.Status, tc.wantStatus)
			}
			if len(*seen) != 2 || (*seen)[0] != "qmp_capabilities" || !strings.HasPrefix((*seen)[1], tc.command) {
				t.Errorf("commands sent: %q", *seen)
			}
			if tc.args != nil && !strings.Contains((*seen)[1], "file:/tmp/f") {
				t.Errorf("arguments not sent: %q", *seen)
			}
		})
	}
}

func TestQMPCallNoSocket(t *testing.T) {
	if err := qmpCall(context.Background(), filepath.Join(t.TempDir(), "none"), "query-status", nil, nil); err == nil {
		t.Fatal("want an error without a socket")
	}
}
