package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

func (d *Driver) stateFile(id string) string { return filepath.Join(d.dir(id), "suspend.state") }

// guestExists reports virt.ErrNotFound for a guest with no root disk
// (nor root volume).
func (d *Driver) guestExists(id string) error {
	if !hasRoot(d.dir(id)) {
		return virt.ErrNotFound
	}
	return nil
}

// PowerOn implements virt.Driver.
func (d *Driver) PowerOn(ctx context.Context, g *virt.Guest) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if _, ok := d.pid(g.ID); ok {
		return d.resumeIfPaused(ctx, g.ID)
	}
	_ = os.Remove(d.stateFile(g.ID)) // a cold boot discards saved state
	return d.boot(ctx, g, "")
}

// PowerOff implements virt.Driver: ACPI power button, then hard stop.
func (d *Driver) PowerOff(ctx context.Context, id string) error {
	defer d.lock(id)()
	if err := d.guestExists(id); err != nil {
		return err
	}
	return d.stop(ctx, id, true)
}

// Reboot implements virt.Driver: soft is power off via ACPI (hard stop
// after the timeout) and boot; hard is system_reset, or a boot when the
// process is gone.
func (d *Driver) Reboot(ctx context.Context, g *virt.Guest, hard bool) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if _, ok := d.pid(g.ID); ok && hard {
		if err := qmpCall(ctx, d.qmpSocket(g.ID), "system_reset", nil, nil); err != nil {
			return err
		}
		return d.resumeIfPaused(ctx, g.ID)
	}
	if err := d.stop(ctx, g.ID, !hard); err != nil {
		return err
	}
	_ = os.Remove(d.stateFile(g.ID))
	return d.boot(ctx, g, "")
}

func (d *Driver) resumeIfPaused(ctx context.Context, id string) error {
	st, err := d.status(ctx, id)
	if err != nil {
		return err
	}
	if st == "running" {
		return nil
	}
	return qmpCall(ctx, d.qmpSocket(id), "cont", nil, nil)
}

// running is the QMP client of a guest whose process is alive.
func (d *Driver) running(id string) error {
	if err := d.guestExists(id); err != nil {
		return err
	}
	if _, ok := d.pid(id); !ok {
		return fmt.Errorf("guest %s is not running", id)
	}
	return nil
}

// Pause implements virt.Driver (QMP stop).
func (d *Driver) Pause(ctx context.Context, id string) error {
	defer d.lock(id)()
	if err := d.running(id); err != nil {
		return err
	}
	return qmpCall(ctx, d.qmpSocket(id), "stop", nil, nil)
}

// Unpause implements virt.Driver (QMP cont).
func (d *Driver) Unpause(ctx context.Context, id string) error {
	defer d.lock(id)()
	if err := d.running(id); err != nil {
		return err
	}
	return qmpCall(ctx, d.qmpSocket(id), "cont", nil, nil)
}

// Suspend implements virt.Driver: stop the vCPUs, migrate the guest's
// state to a file, and end the process.
func (d *Driver) Suspend(ctx context.Context, id string) error {
	defer d.lock(id)()
	if err := d.running(id); err != nil {
		return err
	}
	sock, tmp := d.qmpSocket(id), d.stateFile(id)+".tmp"
	if err := qmpCall(ctx, sock, "stop", nil, nil); err != nil {
		return err
	}
	if err := qmpCall(ctx, sock, "migrate", map[string]string{"uri": "exec:cat > " + shellQuote(tmp)}, nil); err != nil {
		return err
	}
	for {
		var m struct {
			Status    string `json:"status"`
			ErrorDesc string `json:"error-desc"`
		}
		if err := qmpCall(ctx, sock, "query-migrate", nil, &m); err != nil {
			return err
		}
		if m.Status == "completed" {
			break
		}
		if m.Status == "failed" || m.Status == "cancelled" {
			_ = qmpCall(ctx, sock, "cont", nil, nil)
			return fmt.Errorf("save guest state: migration %s: %s", m.Status, m.ErrorDesc)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, d.stateFile(id)); err != nil {
		return fmt.Errorf("save guest state: %w", err)
	}
	return d.stop(ctx, id, false)
}

// Resume implements virt.Driver: boot from the saved state, then cont.
func (d *Driver) Resume(ctx context.Context, g *virt.Guest) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if _, ok := d.pid(g.ID); ok {
		return d.resumeIfPaused(ctx, g.ID)
	}
	saved := d.stateFile(g.ID)
	if !exists(saved) {
		return d.boot(ctx, g, "")
	}
	if err := d.boot(ctx, g, saved); err != nil {
		return err
	}
	for {
		st, err := d.status(ctx, g.ID)
		if err != nil {
			return err
		}
		if st != "inmigrate" {
			break
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	if err := d.resumeIfPaused(ctx, g.ID); err != nil {
		return err
	}
	return os.Remove(saved)
}

// InjectNMI implements virt.Driver.
func (d *Driver) InjectNMI(ctx context.Context, id string) error {
	defer d.lock(id)()
	if err := d.running(id); err != nil {
		return err
	}
	return qmpCall(ctx, d.qmpSocket(id), "inject-nmi", nil, nil)
}

// SetAdminPassword implements virt.Driver: without a guest agent the
// password cannot be set, as for Nova's libvirt driver without one.
func (d *Driver) SetAdminPassword(ctx context.Context, id, password string) error {
	return virt.ErrNotSupported
}
