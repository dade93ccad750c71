package qemu

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

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
			sock := filepath.Join(t.TempDir(), "q.sock")
			sent := scriptedQMP(t, sock, func(command string, _ map[string]any) []string {
				reply := `{"return": {}}`
				if command == tc.command {
					reply = tc.reply
				}
				return []string{`{"event": "RESUME", "timestamp": {}}`, reply}
			})
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
			seen := sent()
			if len(seen) != 1 || !strings.HasPrefix(seen[0], tc.command) {
				t.Errorf("commands sent after qmp_capabilities: %q", seen)
			}
			if tc.args != nil && !strings.Contains(seen[0], "file:/tmp/f") {
				t.Errorf("arguments not sent: %q", seen)
			}
		})
	}
}

func TestQMPCallNoSocket(t *testing.T) {
	if err := qmpCall(context.Background(), filepath.Join(t.TempDir(), "none"), "query-status", nil, nil); err == nil {
		t.Fatal("want an error without a socket")
	}
}
