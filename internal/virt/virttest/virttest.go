// Package virttest is the conformance suite of the virt.Driver contract:
// one set of tests every driver runs (the fake in memory, qemu with a real
// guest), so the agent can rely on the same behaviour from each: the power
// state after every operation, idempotent spawn, power and destroy calls,
// virt.ErrNotFound for a guest the driver does not have.
package virttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// The power states the contract names, in one place.
var (
	running   = virt.PowerRunning
	shutdown  = virt.PowerShutdown
	paused    = virt.PowerPaused
	suspended = virt.PowerSuspended
)

// Config is how a driver takes part in the suite.
type Config struct {
	// New returns a driver with no guests; it may register cleanups
	// (stopping guests a failed test left running) on t.
	New func(t *testing.T) virt.Driver
	// Guest returns the spec of a guest with the given id whose image the
	// driver can resolve.
	Guest func(id string) *virt.Guest
	// Rescue is an image the driver can boot a guest's rescue from.
	Rescue virt.Image
	// Console is what a booted guest's console output shows, waited for
	// up to BootWait (a real guest prints it some time after spawn).
	Console  string
	BootWait time.Duration
	// NICs, when set, reports the MACs of the NICs the running guest id
	// has (the hot-plug part runs only with it).
	NICs func(t *testing.T, d virt.Driver, id string) []string
	// HotUnplug says the guest lets a NIC go while it runs (a guest
	// without an operating system does not answer the request).
	HotUnplug bool
}

// Run runs the conformance suite on the drivers c makes.
func Run(t *testing.T, c Config) {
	if c.BootWait <= 0 {
		c.BootWait = 30 * time.Second
	}
	// Each part has its own driver: they run in parallel.
	for _, part := range []struct {
		name string
		test func(*testing.T, Config)
	}{{"Host", testHost}, {"MissingGuest", testMissing}, {"Lifecycle", testLifecycle}, {"HotPlug", testHotPlug}} {
		t.Run(part.name, func(t *testing.T) {
			t.Parallel()
			part.test(t, c)
		})
	}
}

func testHost(t *testing.T, c Config) {
	d := c.New(t)
	if d.Name() == "" {
		t.Error("driver has no name")
	}
	h, err := d.Host(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Hostname == "" || h.HypervisorType == "" || h.VCPUs <= 0 || h.MemoryMB <= 0 || h.DiskGB <= 0 {
		t.Errorf("host info %+v: want a hostname, a hypervisor type and capacity", h)
	}
	if ids, err := d.List(context.Background()); err != nil || len(ids) != 0 {
		t.Errorf("a new driver lists %v, %v; want no guests", ids, err)
	}
}

// testMissing: every operation on a guest the driver does not have is
// virt.ErrNotFound, but destroy, which succeeds (it is retried after a
// crash), and confirming a resize, whose only work is dropping what is
// already gone.
func testMissing(t *testing.T, c Config) {
	ctx := context.Background()
	d := c.New(t)
	g := c.Guest("missing-guest")
	ops := []struct {
		name   string
		do     func() error
		wantOK bool // nil is right too
		notOK  bool // nil is wrong even when the error is not ErrNotFound
	}{
		{name: "power state", do: func() error { _, err := d.PowerState(ctx, g.ID); return err }},
		{name: "console output", do: func() error { _, err := d.ConsoleOutput(ctx, g.ID); return err }},
		{name: "power on", do: func() error { return d.PowerOn(ctx, g) }},
		{name: "power off", do: func() error { return d.PowerOff(ctx, g.ID) }},
		{name: "soft reboot", do: func() error { return d.Reboot(ctx, g, false) }},
		{name: "hard reboot", do: func() error { return d.Reboot(ctx, g, true) }},
		{name: "pause", do: func() error { return d.Pause(ctx, g.ID) }},
		{name: "unpause", do: func() error { return d.Unpause(ctx, g.ID) }},
		{name: "suspend", do: func() error { return d.Suspend(ctx, g.ID) }},
		{name: "resume", do: func() error { return d.Resume(ctx, g) }},
		{name: "rebuild", do: func() error { return d.Rebuild(ctx, g, false, true) }},
		{name: "resize", do: func() error { return d.Resize(ctx, g, true) }},
		{name: "revert resize", do: func() error { return d.RevertResize(ctx, g, true) }},
		{name: "snapshot", do: func() error { _, err := d.Snapshot(ctx, g.ID, &bytes.Buffer{}); return err }},
		{name: "rescue", do: func() error { return d.Rescue(ctx, g, c.Rescue) }},
		{name: "unrescue", do: func() error { return d.Unrescue(ctx, g) }},
		{name: "inject NMI", do: func() error { return d.InjectNMI(ctx, g.ID) }},
		{name: "diagnostics", do: func() error { _, err := d.Diagnostics(ctx, g); return err }},
		{name: "attach interface", do: func() error { return d.AttachInterface(ctx, g, virt.NIC{MAC: "fa:16:3e:00:00:01"}) }},
		{name: "detach interface", do: func() error { return d.DetachInterface(ctx, g.ID, "fa:16:3e:00:00:01") }},
		{name: "set admin password", do: func() error { return d.SetAdminPassword(ctx, g.ID, "pw") }, notOK: true},
		{name: "confirm resize", do: func() error { return d.ConfirmResize(ctx, g.ID) }, wantOK: true},
		{name: "destroy", do: func() error { return d.Destroy(ctx, g.ID) }, wantOK: true},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			err := op.do()
			switch {
			case op.wantOK && (err == nil || errors.Is(err, virt.ErrNotFound)):
			case op.notOK && err != nil: // any refusal: a driver may not support it at all
			case !errors.Is(err, virt.ErrNotFound):
				t.Errorf("%s of a missing guest: %v, want virt.ErrNotFound", op.name, err)
			}
		})
	}
	if ids, err := d.List(ctx); err != nil || len(ids) != 0 {
		t.Errorf("after operations on a missing guest the driver lists %v, %v; want none", ids, err)
	}
}

// testLifecycle takes one guest through every operation in the order a
// server's life may, checking its power state after each and that the
// idempotent ones may be repeated.
func testLifecycle(t *testing.T, c Config) {
	ctx := context.Background()
	d := c.New(t)
	g := c.Guest("conformance-guest")
	bigger := *g
	bigger.VCPUs, bigger.MemoryMB, bigger.RootGB = g.VCPUs+1, g.MemoryMB*2, g.RootGB+1

	steps := []struct {
		name string
		do   func() error
		want virt.PowerState
	}{
		{"spawn", func() error { return d.Spawn(ctx, g) }, running},
		{"spawn again", func() error { return d.Spawn(ctx, g) }, running},
		{"power off", func() error { return d.PowerOff(ctx, g.ID) }, shutdown},
		{"power off again", func() error { return d.PowerOff(ctx, g.ID) }, shutdown},
		{"power on", func() error { return d.PowerOn(ctx, g) }, running},
		{"power on again", func() error { return d.PowerOn(ctx, g) }, running},
		{"soft reboot", func() error { return d.Reboot(ctx, g, false) }, running},
		{"hard reboot", func() error { return d.Reboot(ctx, g, true) }, running},
		{"pause", func() error { return d.Pause(ctx, g.ID) }, paused},
		{"unpause", func() error { return d.Unpause(ctx, g.ID) }, running},
		{"suspend", func() error { return d.Suspend(ctx, g.ID) }, suspended},
		{"resume", func() error { return d.Resume(ctx, g) }, running},
		{"snapshot", func() error { return snapshot(ctx, d, g.ID) }, running},
		{"rescue", func() error { return d.Rescue(ctx, g, c.Rescue) }, running},
		{"unrescue", func() error { return d.Unrescue(ctx, g) }, running},
		{"resize", func() error { return d.Resize(ctx, &bigger, true) }, running},
		{"confirm resize", func() error { return d.ConfirmResize(ctx, g.ID) }, running},
		{"confirm resize again", func() error { return d.ConfirmResize(ctx, g.ID) }, running},
		{"resize, left off", func() error { return d.Resize(ctx, &bigger, false) }, shutdown},
		{"revert resize", func() error { return d.RevertResize(ctx, g, true) }, running},
		{"rebuild, left off", func() error { return d.Rebuild(ctx, g, false, false) }, shutdown},
		{"rebuild", func() error { return d.Rebuild(ctx, g, true, true) }, running},
		{"inject NMI", func() error { return d.InjectNMI(ctx, g.ID) }, running},
		{"set admin password", func() error { return notSupportedOK(d.SetAdminPassword(ctx, g.ID, "new-secret")) }, running},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if p, err := d.PowerState(ctx, g.ID); err != nil || p != s.want {
			t.Fatalf("after %s: power state %v, %v; want %v", s.name, p, err, s.want)
		}
	}

	if ids, err := d.List(ctx); err != nil || !slices.Equal(ids, []string{g.ID}) {
		t.Errorf("list %v, %v; want [%s]", ids, err, g.ID)
	}
	waitConsole(t, d, g.ID, c)
	diag, err := d.Diagnostics(ctx, g)
	if err != nil {
		t.Fatalf("diagnostics: %v", err)
	}
	if diag.Power != running || len(diag.CPUs) != g.VCPUs || diag.MemoryMaxMB != g.MemoryMB || len(diag.Disks) == 0 {
		t.Errorf("diagnostics %s (power %v), want the spec's %d vCPUs and %d MB, running", diag, diag.Power, g.VCPUs, g.MemoryMB)
	}

	if err := d.Destroy(ctx, g.ID); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if err := d.Destroy(ctx, g.ID); err != nil {
		t.Fatalf("destroy again: %v", err)
	}
	if _, err := d.PowerState(ctx, g.ID); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("power state after destroy: %v, want virt.ErrNotFound", err)
	}
	if _, err := d.ConsoleOutput(ctx, g.ID); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("console output after destroy: %v, want virt.ErrNotFound", err)
	}
	if ids, err := d.List(ctx); err != nil || len(ids) != 0 {
		t.Errorf("list after destroy %v, %v; want none", ids, err)
	}
}

// testHotPlug attaches and detaches NICs of a running guest, checking
// what the guest has after each, and of a stopped one, whose next boot
// has its spec's NICs: the attached one and not the detached one.
func testHotPlug(t *testing.T, c Config) {
	if c.NICs == nil {
		t.Skip("the driver's test does not report a guest's NICs")
	}
	ctx := context.Background()
	d := c.New(t)
	g := c.Guest("hotplug-guest")
	a := virt.NIC{MAC: "fa:16:3e:00:0a:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}
	b := virt.NIC{MAC: "fa:16:3e:00:0a:02", IPv4: "10.0.0.6", CIDR: "10.0.0.0/24"}
	with := func(nics ...virt.NIC) *virt.Guest {
		spec := *g
		spec.NICs = nics
		return &spec
	}
	wantNICs := func(step string, want ...string) {
		t.Helper()
		got := c.NICs(t, d, g.ID)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("after %s the guest has NICs %v, want %v", step, got, want)
		}
	}
	type step struct {
		name string
		do   func() error
		want []string // the running guest's MACs; nil: not checked
	}
	steps := []step{
		{"spawn", func() error { return d.Spawn(ctx, g) }, []string{}},
		{"attach", func() error { return d.AttachInterface(ctx, with(a), a) }, []string{a.MAC}},
		{"attach again", func() error { return d.AttachInterface(ctx, with(a), a) }, []string{a.MAC}},
	}
	if c.HotUnplug {
		steps = append(steps, []step{
			{"detach", func() error { return d.DetachInterface(ctx, g.ID, a.MAC) }, []string{}},
			{"detach again", func() error { return d.DetachInterface(ctx, g.ID, a.MAC) }, []string{}},
			{"attach after detach", func() error { return d.AttachInterface(ctx, with(a), a) }, []string{a.MAC}},
		}...)
	}
	steps = append(steps, []step{
		{"power off", func() error { return d.PowerOff(ctx, g.ID) }, nil},
		{"detach while off", func() error { return d.DetachInterface(ctx, g.ID, a.MAC) }, nil},
		{"attach while off", func() error { return d.AttachInterface(ctx, with(b), b) }, nil},
		{"power on", func() error { return d.PowerOn(ctx, with(b)) }, []string{b.MAC}},
		{"hard reboot", func() error { return d.Reboot(ctx, with(b), true) }, []string{b.MAC}},
		{"destroy", func() error { return d.Destroy(ctx, g.ID) }, nil},
	}...)
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.want != nil {
			wantNICs(s.name, s.want...)
		}
	}
}

// snapshot takes a snapshot and checks it has data in a disk format.
func snapshot(ctx context.Context, d virt.Driver, id string) error {
	var buf bytes.Buffer
	format, err := d.Snapshot(ctx, id, &buf)
	if err != nil {
		return err
	}
	if buf.Len() == 0 || (format != "qcow2" && format != "raw") {
		return fmt.Errorf("snapshot of %s: %d bytes of format %q, want data as qcow2 or raw", id, buf.Len(), format)
	}
	return nil
}

func notSupportedOK(err error) error {
	if errors.Is(err, virt.ErrNotSupported) {
		return nil
	}
	return err
}

// waitConsole waits until the guest's console shows c.Console.
func waitConsole(t *testing.T, d virt.Driver, id string, c Config) {
	t.Helper()
	deadline := time.Now().Add(c.BootWait)
	for {
		out, err := d.ConsoleOutput(context.Background(), id)
		if err != nil {
			t.Fatalf("console output: %v", err)
		}
		if strings.Contains(string(out), c.Console) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("console output after %v does not show %q:\n%s", c.BootWait, c.Console, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
