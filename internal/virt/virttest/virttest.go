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
	"os"
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
	// HotUnplug says the guest lets a NIC or a disk go while it runs (a
	// guest without an operating system does not answer the request).
	HotUnplug bool

	// Volume returns a blank volume with the given id the driver can
	// attach (its file made in a test directory); RootVolume one holding
	// what Guest's image holds, which a guest boots from (BootIndex 0).
	// Volumes reports the disk serials of the volumes the running guest
	// id has. The volume parts run only with all three.
	Volume     func(t *testing.T, id string) virt.Volume
	RootVolume func(t *testing.T, id string) virt.Volume
	Volumes    func(t *testing.T, d virt.Driver, id string) []string
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
	}{{"Host", testHost}, {"MissingGuest", testMissing}, {"Lifecycle", testLifecycle}, {"HotPlug", testHotPlug},
		{"Volumes", testVolumes}, {"BootFromVolume", testBootFromVolume}} {
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
	type op struct {
		name   string
		do     func() error
		wantOK bool // nil is right too
		notOK  bool // nil is wrong even when the error is not ErrNotFound
	}
	ops := []op{
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
		{name: "attach volume", do: func() error { return d.AttachVolume(ctx, g, virt.Volume{ID: "missing-volume", BootIndex: -1}) }},
		{name: "detach volume", do: func() error { return d.DetachVolume(ctx, g.ID, "missing-volume") }},
		{name: "set admin password", do: func() error { return d.SetAdminPassword(ctx, g.ID, "pw") }, notOK: true},
		{name: "confirm resize", do: func() error { return d.ConfirmResize(ctx, g.ID) }, wantOK: true},
		{name: "destroy", do: func() error { return d.Destroy(ctx, g.ID) }, wantOK: true},
	}
	if x, ok := d.(virt.VolumeExtender); ok {
		ops = append(ops, op{name: "extend volume", do: func() error { return x.ExtendVolume(ctx, g.ID, "missing-volume", 2<<30) }})
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

// Volume ids of the volume parts: longer than a serial's 20 characters.
const (
	volumeA    = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	volumeB    = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
	rootVolume = "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
)

// testVolumes attaches and detaches volumes of a running guest, checking
// the disks the guest has after each (by serial), and of a stopped one,
// whose next boot has its spec's volumes; a suspended guest resumes with
// its volumes.
func testVolumes(t *testing.T, c Config) {
	if c.Volume == nil || c.RootVolume == nil || c.Volumes == nil {
		t.Skip("the driver's test makes no volumes")
	}
	ctx := context.Background()
	d := c.New(t)
	g := c.Guest("volume-guest")
	a, b := c.Volume(t, volumeA), c.Volume(t, volumeB)
	with := func(vols ...virt.Volume) *virt.Guest {
		spec := *g
		spec.Volumes = vols
		return &spec
	}
	type step struct {
		name string
		do   func() error
		want []string // the serials of the running guest's volumes; nil: not checked
	}
	steps := []step{
		{"spawn", func() error { return d.Spawn(ctx, g) }, []string{}},
		{"attach", func() error { return d.AttachVolume(ctx, with(a), a) }, []string{virt.VolumeSerial(a.ID)}},
		{"attach again", func() error { return d.AttachVolume(ctx, with(a), a) }, []string{virt.VolumeSerial(a.ID)}},
		{"extend", func() error { return extend(ctx, d, g.ID, a.ID, 2<<20) }, []string{virt.VolumeSerial(a.ID)}},
		{"suspend", func() error { return d.Suspend(ctx, g.ID) }, nil},
		{"resume", func() error { return d.Resume(ctx, with(a)) }, []string{virt.VolumeSerial(a.ID)}},
	}
	if c.HotUnplug {
		steps = append(steps, []step{
			{"detach", func() error { return d.DetachVolume(ctx, g.ID, a.ID) }, []string{}},
			{"detach again", func() error { return d.DetachVolume(ctx, g.ID, a.ID) }, []string{}},
			{"attach after detach", func() error { return d.AttachVolume(ctx, with(a), a) }, []string{virt.VolumeSerial(a.ID)}},
		}...)
	}
	steps = append(steps, []step{
		{"power off", func() error { return d.PowerOff(ctx, g.ID) }, nil},
		{"detach while off", func() error { return d.DetachVolume(ctx, g.ID, a.ID) }, nil},
		{"attach while off", func() error { return d.AttachVolume(ctx, with(b), b) }, nil},
		{"extend while off", func() error { return extend(ctx, d, g.ID, b.ID, 2<<20) }, nil},
		{"power on", func() error { return d.PowerOn(ctx, with(b)) }, []string{virt.VolumeSerial(b.ID)}},
		{"hard reboot", func() error { return d.Reboot(ctx, with(b), true) }, []string{virt.VolumeSerial(b.ID)}},
		{"attach a second", func() error { return d.AttachVolume(ctx, with(b, a), a) }, []string{virt.VolumeSerial(a.ID), virt.VolumeSerial(b.ID)}},
		{"soft reboot", func() error { return d.Reboot(ctx, with(b, a), false) }, []string{virt.VolumeSerial(a.ID), virt.VolumeSerial(b.ID)}},
		{"destroy", func() error { return d.Destroy(ctx, g.ID) }, nil},
	}...)
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.want != nil {
			wantVolumes(t, c, d, g.ID, s.name, s.want)
		}
	}
	volumeFilesKept(t, a, b)
}

// testBootFromVolume runs a volume-backed guest, which has no image of
// its own, through the operations Nova allows one: it boots from its root
// volume (whose image shows c.Console), keeps it through every boot and
// leaves its file alone when destroyed.
func testBootFromVolume(t *testing.T, c Config) {
	if c.Volume == nil || c.RootVolume == nil || c.Volumes == nil {
		t.Skip("the driver's test makes no volumes")
	}
	ctx := context.Background()
	d := c.New(t)
	root, data := c.RootVolume(t, rootVolume), c.Volume(t, volumeA)
	g := c.Guest("volume-backed-guest")
	g.Image = virt.Image{}
	g.Volumes = []virt.Volume{root}
	withData := *g
	withData.Volumes = []virt.Volume{root, data}
	bigger := withData
	bigger.VCPUs, bigger.MemoryMB = g.VCPUs+1, g.MemoryMB*2
	rootOnly := []string{virt.VolumeSerial(root.ID)}
	both := []string{virt.VolumeSerial(root.ID), virt.VolumeSerial(data.ID)}
	slices.Sort(both)
	steps := []struct {
		name string
		do   func() error
		want virt.PowerState
		vols []string // nil: not checked
	}{
		{"spawn", func() error { return d.Spawn(ctx, g) }, running, rootOnly},
		{"spawn again", func() error { return d.Spawn(ctx, g) }, running, rootOnly},
		{"attach", func() error { return d.AttachVolume(ctx, &withData, data) }, running, both},
		{"power off", func() error { return d.PowerOff(ctx, g.ID) }, shutdown, nil},
		{"power on", func() error { return d.PowerOn(ctx, &withData) }, running, both},
		{"hard reboot", func() error { return d.Reboot(ctx, &withData, true) }, running, both},
		{"snapshot", func() error { return snapshot(ctx, d, g.ID) }, running, nil},
		{"rescue", func() error { return d.Rescue(ctx, &withData, c.Rescue) }, running, both},
		{"unrescue", func() error { return d.Unrescue(ctx, &withData) }, running, both},
		{"resize", func() error { return d.Resize(ctx, &bigger, true) }, running, both},
		{"confirm resize", func() error { return d.ConfirmResize(ctx, g.ID) }, running, nil},
		{"rebuild", func() error { return d.Rebuild(ctx, &bigger, false, true) }, running, both},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if p, err := d.PowerState(ctx, g.ID); err != nil || p != s.want {
			t.Fatalf("after %s: power state %v, %v; want %v", s.name, p, err, s.want)
		}
		if s.vols != nil {
			wantVolumes(t, c, d, g.ID, s.name, s.vols)
		}
		if s.name == "spawn" { // only the root volume has booted yet
			waitConsole(t, d, g.ID, c)
		}
	}
	if ids, err := d.List(ctx); err != nil || !slices.Equal(ids, []string{g.ID}) {
		t.Errorf("list %v, %v; want [%s]", ids, err, g.ID)
	}
	if err := d.Destroy(ctx, g.ID); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := d.PowerState(ctx, g.ID); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("power state after destroy: %v, want virt.ErrNotFound", err)
	}
	volumeFilesKept(t, root, data)
}

// extend grows volume volumeID of guest id when the driver can.
func extend(ctx context.Context, d virt.Driver, id, volumeID string, size int64) error {
	if x, ok := d.(virt.VolumeExtender); ok {
		return x.ExtendVolume(ctx, id, volumeID, size)
	}
	return nil
}

// wantVolumes checks the serials of the running guest's volumes.
func wantVolumes(t *testing.T, c Config, d virt.Driver, id, step string, want []string) {
	t.Helper()
	got := c.Volumes(t, d, id)
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("after %s the guest has volumes with serials %v, want %v", step, got, want)
	}
}

// volumeFilesKept checks that the driver left the volumes' files: they
// are the volume service's, not the guest's.
func volumeFilesKept(t *testing.T, vols ...virt.Volume) {
	t.Helper()
	for _, v := range vols {
		if _, err := os.Stat(v.Path); err != nil {
			t.Errorf("volume %s's file after the guest is gone: %v", v.ID, err)
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
