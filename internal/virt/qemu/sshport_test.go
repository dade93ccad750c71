package qemu

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestSSHPort(t *testing.T) {
	ctx := context.Background()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	free, err := freePort(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stored string // ssh-port file content ("" none)
		keep   bool   // the stored port is the answer
	}{
		{"none stored", "", false},
		{"stored and free", strconv.Itoa(free) + "\n", true},
		{"stored but taken", takenPort + "\n", false},
		{"garbage stored", "twenty-two\n", false},
		{"out of range", "70000\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir()}}
			if err := os.MkdirAll(d.dir("g"), 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.stored != "" {
				if err := os.WriteFile(d.sshPortFile("g"), []byte(tc.stored), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			port, err := d.sshPort(ctx, "g")
			if err != nil {
				t.Fatal(err)
			}
			if got := strconv.Itoa(port); tc.keep != (got == strings.TrimSpace(tc.stored)) {
				t.Errorf("port %s with %q stored, want keep=%v", got, tc.stored, tc.keep)
			}
			if strconv.Itoa(port) == takenPort || port <= 0 {
				t.Errorf("port %d is not free", port)
			}
			b, err := os.ReadFile(d.sshPortFile("g"))
			if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(port) {
				t.Errorf("ssh-port file %q (%v), want %d", b, err, port)
			}
			if again, err := d.sshPort(ctx, "g"); err != nil || again != port {
				t.Errorf("second call: %d, %v; want the same port %d", again, err, port)
			}
		})
	}
}
