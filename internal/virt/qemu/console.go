package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/kumocloud/kumo/internal/virt"
)

// OpenConsole implements virt.Driver: a connection to the guest's serial
// socket (QEMU serves one client at a time; console.log keeps every
// byte either way) or its VNC socket. A guest started before kumo gave
// its guests these sockets has no such console until it boots again.
func (d *Driver) OpenConsole(ctx context.Context, id string, kind virt.ConsoleKind) (io.ReadWriteCloser, error) {
	if err := d.guestExists(id); err != nil {
		return nil, err
	}
	if !kind.Valid() {
		return nil, fmt.Errorf("guest %s: %s console: %w", id, kind, virt.ErrNotSupported)
	}
	if _, ok := d.pid(id); !ok {
		return nil, fmt.Errorf("guest %s: %w", id, virt.ErrNotRunning)
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "unix", d.socket(id, string(kind)))
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("guest %s has no %s console socket: %w", id, kind, virt.ErrNotSupported)
	}
	if err != nil {
		return nil, fmt.Errorf("guest %s: %s console: %w", id, kind, err)
	}
	return conn, nil
}
