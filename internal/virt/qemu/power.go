package qemu

import (
	"context"
	"encoding/json"
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
	if err := d.saveState(ctx, sock, tmp); err != nil {
		_ = qmpCall(ctx, sock, "cont", nil, nil)
		return err
	}
	if err := os.Rename(tmp, d.stateFile(id)); err != nil {
		return fmt.Errorf("save guest state: %w", err)
	}
	return d.stop(ctx, id, false)
}

// saveState stops the guest and migrates its state into file, waiting
// for QEMU's MIGRATION event of the end: query-migrate's status is the
// incoming migration's in a process that was restored or came in by a
// live migration.
func (d *Driver) saveState(ctx context.Context, sock, file string) error {
	q, err := qmpOpen(ctx, sock)
	if err != nil {
		return err
	}
	defer q.Close()
	if err := q.call("stop", nil, nil); err != nil {
		return err
	}
	if err := q.call("migrate-set-capabilities", map[string]any{"capabilities": []map[string]any{
		{"capability": "events", "state": true}}}, nil); err != nil {
		return err
	}
	if err := q.call("migrate", map[string]string{"uri": "exec:cat > " + shellQuote(file)}, nil); err != nil {
		return err
	}
	var status string
	err = q.waitEvent("MIGRATION", func(e qmpEvent) bool {
		var data struct {
			Status string `json:"status"`
		}
		if e.Name != "MIGRATION" || json.Unmarshal(e.Data, &data) != nil {
			return false
		}
		status = data.Status
		return status == "completed" || status == "failed" || status == "cancelled"
	})
	if err != nil {
		return fmt.Errorf("save guest state: %w", err)
	}
	if status != "completed" {
		var m struct {
			ErrorDesc string `json:"error-desc"`
		}
		_ = q.call("query-migrate", nil, &m)
		return fmt.Errorf("save guest state: migration %s: %s", status, m.ErrorDesc)
	}
	return nil
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
