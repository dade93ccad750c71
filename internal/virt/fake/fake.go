// Package fake is a virt driver with simulated guests, kept in memory and,
// when opened on a directory, on disk too (persist.go). It is a real
// implementation of the driver contract (state changes, idempotence,
// console output), with configurable per-operation delays and failure
// injection so tests can reach slow and ERROR paths.
package fake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// FailProperty is the image property that makes operations fail: its value
// is a comma-separated list of operation names ("spawn", "reboot",
// "confirm_resize", ...). A guest keeps the list of the image it last ran,
// so operations that are given only its id fail too.
const FailProperty = "kumo_fake_fail"

// Options configure the fake driver.
type Options struct {
	Hostname string
	VCPUs    int
	MemoryMB int
	DiskGB   int
	// Delay is how long every operation takes; Delays overrides it per
	// operation name ("spawn", "destroy", "power_on", ...).
	Delay  time.Duration
	Delays map[string]time.Duration
	// Fail lists operations that always fail.
	Fail map[string]bool
}

type guest struct {
	shape           shape
	power           virt.PowerState
	console         []byte // exactly as long as its text: 10,000 guests keep one each
	resizePending   bool   // resized, neither confirmed nor reverted
	rescueImage     string
	passwordChanges int
	started         time.Time // last boot, for diagnostics' uptime
	nics            []string  // the MACs of its NICs: its spec's at boot, then hot-plugged
	volumes         []string  // the ids of its volumes: its spec's at boot, then hot-plugged
}

// Driver is the fake virt driver.
type Driver struct {
	opts   Options
	dir    string // where guests persist ("": in memory only)
	mu     sync.Mutex
	guests map[string]*guest
	// jobs are the guests' live migrations out of this host, running or
	// told to abort before they start (migrate.go).
	jobs map[string]*migrationJob
}

// New returns a fake driver with the given host capacity whose guests live
// in memory only (Open keeps them on disk).
func New(o Options) *Driver {
	if o.Hostname == "" {
		o.Hostname = "fake-host"
	}
	if o.VCPUs == 0 {
		o.VCPUs = 1000
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = 1 << 22 // 4 TiB: the fake is limited by quotas, not RAM
	}
	if o.DiskGB == 0 {
		o.DiskGB = 1 << 20
	}
	return &Driver{opts: o, guests: map[string]*guest{}, jobs: map[string]*migrationJob{}}
}

// Name implements virt.Driver.
func (d *Driver) Name() string { return "fake" }

// Host implements virt.Driver.
func (d *Driver) Host(ctx context.Context) (virt.HostInfo, error) {
	return virt.HostInfo{
		Hostname: d.opts.Hostname, HypervisorType: "fake", HypervisorVersion: 1000,
		VCPUs: d.opts.VCPUs, MemoryMB: d.opts.MemoryMB, DiskGB: d.opts.DiskGB,
		CPUInfo: `{"arch": "x86_64", "model": "fake", "vendor": "kumo", "topology": {"sockets": 1, "cores": 1, "threads": 1}, "features": []}`,
	}, nil
}

// op waits the operation's delay and reports an injected failure: the
// operation is in Options.Fail, or in the FailProperty of spec's image or,
// without a spec, of the image guest id last ran.
func (d *Driver) op(ctx context.Context, name, id string, spec *virt.Guest) error {
	if delay := d.delay(name); delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return d.failure(name, id, spec)
}

// delay is how long operation name takes.
func (d *Driver) delay(name string) time.Duration {
	if v, ok := d.opts.Delays[name]; ok {
		return v
	}
	return d.opts.Delay
}

// failure is the injected failure of operation name, if any (see op).
func (d *Driver) failure(name, id string, spec *virt.Guest) error {
	if d.opts.Fail[name] {
		return fmt.Errorf("fake driver: injected %s failure", name)
	}
	var fail string
	if spec != nil {
		fail = spec.Image.Properties[FailProperty]
	} else {
		d.mu.Lock()
		if g, ok := d.guests[id]; ok {
			fail = g.shape.fail
		}
		d.mu.Unlock()
	}
	for _, op := range strings.Split(fail, ",") {
		if strings.TrimSpace(op) == name {
			return fmt.Errorf("fake driver: injected %s failure (image property %s)", name, FailProperty)
		}
	}
	return nil
}

// shape is what a guest keeps of its spec: what its snapshots name and
// tests inspect. Whole specs, with 10,000 guests, were two thirds of
// kumo's heap at rest.
type shape struct {
	name, imageID           string
	vcpus, memoryMB, rootGB int
	fail                    string // the image's FailProperty
}

func shapeOf(spec *virt.Guest) shape {
	return shape{name: spec.Name, imageID: spec.Image.ID, vcpus: spec.VCPUs, memoryMB: spec.MemoryMB, rootGB: spec.RootGB,
		fail: spec.Image.Properties[FailProperty]}
}

// macsOf is the MACs of spec's NICs.
func macsOf(spec *virt.Guest) []string {
	var macs []string
	for _, n := range spec.NICs {
		macs = append(macs, strings.ToLower(n.MAC))
	}
	return macs
}

// volumesOf lists the ids of spec's volumes.
func volumesOf(spec *virt.Guest) []string {
	var ids []string
	for _, v := range spec.Volumes {
		ids = append(ids, v.ID)
	}
	return ids
}

func (d *Driver) get(id string) (*guest, error) {
	g, ok := d.guests[id]
	if !ok {
		return nil, fmt.Errorf("guest %s: %w", id, virt.ErrNotFound)
	}
	return g, nil
}

func (g *guest) log(format string, args ...any) {
	line := fmt.Appendf(nil, "[%s] "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05.000")}, args...)...)
	console := make([]byte, len(g.console)+len(line))
	copy(console[copy(console, g.console):], line)
	g.console = console
}

// Spawn implements virt.Driver.
func (d *Driver) Spawn(ctx context.Context, spec *virt.Guest) error {
	if err := d.op(ctx, "spawn", spec.ID, spec); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.guests[spec.ID]
	if !ok {
		g = &guest{}
		d.guests[spec.ID] = g
	}
	g.shape = shapeOf(spec)
	g.power = virt.PowerRunning
	g.started = time.Now()
	g.nics = macsOf(spec)
	g.volumes = volumesOf(spec)
	g.log("kumo fake guest %s booting (%d vCPU, %d MB)", spec.Hostname, spec.VCPUs, spec.MemoryMB)
	root := false
	for _, v := range spec.Volumes {
		if v.BootIndex == 0 && !root {
			root = true
			g.log("root disk from volume %s (serial %s)", v.ID, virt.VolumeSerial(v.ID))
		} else {
			g.log("virtio disk %s (serial %s)", v.Device, virt.VolumeSerial(v.ID))
		}
	}
	if !root {
		g.log("root disk from image %s (%d GB)", spec.Image.ID, spec.RootGB)
	}
	for i, n := range spec.NICs {
		g.log("eth%d: %s %s %s", i, n.MAC, n.IPv4, n.IPv6)
	}
	g.log("config drive: %t", spec.ConfigDrive)
	g.log("%s login:", spec.Hostname)
	return d.save(spec.ID, g)
}

// Destroy implements virt.Driver.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	if err := d.op(ctx, "destroy", id, nil); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.guests, id)
	delete(d.jobs, id) // an abort told too late must not stop a later migration
	return d.forget(id)
}

// setPower moves an existing guest to p and logs what happened.
func (d *Driver) setPower(ctx context.Context, op, id string, spec *virt.Guest, p virt.PowerState, msg string) error {
	if err := d.op(ctx, op, id, spec); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(id)
	if err != nil {
		return err
	}
	g.power = p
	if spec != nil { // a boot: the NICs are the spec's
		g.nics = macsOf(spec)
		g.volumes = volumesOf(spec)
	}
	g.log("%s", msg)
	return d.save(id, g)
}

// PowerOn implements virt.Driver.
func (d *Driver) PowerOn(ctx context.Context, spec *virt.Guest) error {
	return d.setPower(ctx, "power_on", spec.ID, spec, virt.PowerRunning, "powered on")
}

// PowerOff implements virt.Driver.
func (d *Driver) PowerOff(ctx context.Context, id string) error {
	return d.setPower(ctx, "power_off", id, nil, virt.PowerShutdown, "powered off")
}

// Reboot implements virt.Driver.
func (d *Driver) Reboot(ctx context.Context, spec *virt.Guest, hard bool) error {
	kind := "soft"
	if hard {
		kind = "hard"
	}
	return d.setPower(ctx, "reboot", spec.ID, spec, virt.PowerRunning, kind+" reboot")
}

// Pause implements virt.Driver.
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.setPower(ctx, "pause", id, nil, virt.PowerPaused, "paused")
}

// Unpause implements virt.Driver.
func (d *Driver) Unpause(ctx context.Context, id string) error {
	return d.setPower(ctx, "unpause", id, nil, virt.PowerRunning, "unpaused")
}

// Suspend implements virt.Driver.
func (d *Driver) Suspend(ctx context.Context, id string) error {
	return d.setPower(ctx, "suspend", id, nil, virt.PowerSuspended, "suspended")
}

// Resume implements virt.Driver.
func (d *Driver) Resume(ctx context.Context, spec *virt.Guest) error {
	return d.setPower(ctx, "resume", spec.ID, spec, virt.PowerRunning, "resumed")
}

// PowerState implements virt.Driver.
func (d *Driver) PowerState(ctx context.Context, id string) (virt.PowerState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(id)
	if err != nil {
		return virt.PowerNoState, err
	}
	return g.power, nil
}

// List implements virt.Driver.
func (d *Driver) List(ctx context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]string, 0, len(d.guests))
	for id := range d.guests {
		ids = append(ids, id)
	}
	return ids, nil
}

// ConsoleOutput implements virt.Driver.
func (d *Driver) ConsoleOutput(ctx context.Context, id string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(id)
	if err != nil {
		return nil, err
	}
	return slices.Clone(g.console), nil
}

var (
	_ virt.Driver         = (*Driver)(nil)
	_ virt.VolumeExtender = (*Driver)(nil)
	_ virt.LiveMigrator   = (*Driver)(nil)
)
