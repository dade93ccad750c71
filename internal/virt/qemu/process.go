package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pid returns the guest's qemu pid when its process is alive. The
// process's command line must name the guest, so a reused pid is not
// mistaken for it.
func (d *Driver) pid(id string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(d.dir(id), "qemu.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("guest="+id)) {
		return 0, false
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return 0, false // exited, not yet reaped
		}
	}
	return pid, true
}

// start launches qemu daemonized (its own session, so kumo exiting or
// being killed leaves the guest running) and waits for QMP to answer.
func (d *Driver) start(ctx context.Context, s launchSpec) error {
	_ = os.Remove(s.QMP)
	_ = os.Remove(filepath.Join(s.Dir, "qemu.pid"))
	cmd := exec.CommandContext(ctx, d.opts.Binary, s.args()...)
	if d.net != nil {
		cmd = d.net.Command(ctx, d.opts.Binary, s.args()...) // where its taps are
	}
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("start qemu: %v: %s", err, strings.TrimSpace(string(out)))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := d.status(ctx, s.ID); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("qemu started but QMP does not answer: %w", err)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// stop ends the guest's process: ACPI power button first when graceful
// (waiting up to the shutdown timeout), then QMP quit, then SIGKILL.
func (d *Driver) stop(ctx context.Context, id string, graceful bool) error {
	if _, ok := d.pid(id); !ok {
		return nil
	}
	if graceful {
		if err := qmpCall(ctx, d.qmpSocket(id), "system_powerdown", nil, nil); err == nil &&
			d.waitExit(ctx, id, d.opts.ShutdownTimeout) {
			return nil
		}
	}
	if err := qmpCall(ctx, d.qmpSocket(id), "quit", nil, nil); err == nil && d.waitExit(ctx, id, 10*time.Second) {
		return nil
	}
	if pid, ok := d.pid(id); ok {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill qemu %d: %w", pid, err)
		}
	}
	if !d.waitExit(ctx, id, 30*time.Second) {
		return fmt.Errorf("qemu for %s does not exit", id)
	}
	return nil
}

// waitExit polls until the guest's process is gone or timeout passes.
func (d *Driver) waitExit(ctx context.Context, id string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if _, ok := d.pid(id); !ok {
			return true
		}
		if time.Now().After(deadline) || sleep(ctx, 100*time.Millisecond) != nil {
			return false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
