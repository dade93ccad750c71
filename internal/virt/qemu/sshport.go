package qemu

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sshPortFile holds the 127.0.0.1 port forwarded to the guest's port 22
// (Options.SSHForward): kumo's API has no Nova field to report it in, so
// this file and a log line at each boot are where users find it.
func (d *Driver) sshPortFile(id string) string { return filepath.Join(d.dir(id), "ssh-port") }

// sshPort is the host port to forward to guest id's SSH port: the one
// its instance dir keeps, so it stays the same across restarts of the
// guest and of kumo, unless something else has taken it since; then a
// free port, kept in its place. The port is free when checked; another
// process can still take it before qemu binds it, and qemu then fails
// to start, naming the forward.
func (d *Driver) sshPort(ctx context.Context, id string) (int, error) {
	p := d.sshPortFile(id)
	if b, err := os.ReadFile(p); err == nil {
		if port, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && portFree(ctx, port) {
			return port, nil
		}
	}
	port, err := freePort(ctx)
	if err != nil {
		return 0, fmt.Errorf("ssh forward of %s: %w", id, err)
	}
	if err := os.WriteFile(p+".tmp", []byte(strconv.Itoa(port)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("ssh forward of %s: %w", id, err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return 0, fmt.Errorf("ssh forward of %s: %w", id, err)
	}
	return port, nil
}

// portFree reports whether a listener can bind 127.0.0.1:port now.
func portFree(ctx context.Context, port int) bool {
	if port <= 0 || port > 65535 {
		return false
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// freePort is a 127.0.0.1 port nothing listens on, as the kernel picks it.
func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
