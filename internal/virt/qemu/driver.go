// Package qemu is the virt driver that runs each server as a real
// qemu-system-x86_64 process, detached from kumo, controlled through QMP.
// Everything a guest owns lives in <data-dir>/instances/<id>/.
package qemu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/hostinfo"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/netns"
)

// Options configures the driver.
type Options struct {
	DataDir  string // instances go under DataDir/instances
	Hostname string
	Accel    string // "auto", "kvm" or "tcg"
	// ImagePath returns the local file holding an image's data.
	ImagePath func(ctx context.Context, imageID string) (string, error)
	VCPUs     int
	MemoryMB  int
	DiskGB    int
	// ShutdownTimeout is how long a guest gets to power off on ACPI
	// before it is stopped hard (default 60s).
	ShutdownTimeout time.Duration
	// DetachTimeout is how long a running guest gets to let a NIC go
	// on a hot-unplug (default 60s).
	DetachTimeout time.Duration
	// AlwaysConfigDrive attaches a config drive to every guest.
	AlwaysConfigDrive bool
	// SSHForward forwards a free 127.0.0.1 port to port 22 of each
	// guest's first NIC (user-mode networking), kept in the instance
	// dir's ssh-port file and logged at each boot.
	SSHForward bool
	// Network is "user" (default: QEMU's user-mode networking) or
	// "bridge": each NIC a tap on its subnet's bridge in a network
	// namespace of the data dir's (package netns), qemu run inside it.
	Network string
	Binary  string       // default qemu-system-x86_64
	Log     *slog.Logger // notices such as the SSH forward (nil: none)
	// Link carries live migrations' streams to other hosts (their host
	// endpoints); nil: guests do not live-migrate out of this host.
	Link virt.MigrationLink
}

// Driver implements virt.Driver with QEMU.
type Driver struct {
	opts  Options
	accel string
	net   *netns.Namespace // bridge networking (nil: user-mode)
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	jobs  map[string]*migrationJob // live migrations out of this host
}

// New returns a driver, choosing the accelerator (a probe boot when
// Accel is "auto", cached per host in the data dir).
func New(ctx context.Context, o Options) (*Driver, error) {
	if o.Binary == "" {
		o.Binary = "qemu-system-x86_64"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 60 * time.Second
	}
	if o.DetachTimeout == 0 {
		o.DetachTimeout = 60 * time.Second
	}
	if o.ImagePath == nil {
		return nil, errors.New("qemu driver: no image resolver")
	}
	if _, err := exec.LookPath(o.Binary); err != nil {
		return nil, fmt.Errorf("qemu driver: %w (install qemu-system-x86 and qemu-utils)", err)
	}
	var ns *netns.Namespace
	switch o.Network {
	case "", "user":
	case "bridge":
		if o.SSHForward {
			return nil, errors.New("qemu driver: the SSH forward needs user-mode networking")
		}
		var err error
		if ns, err = netns.Open(ctx, netns.NameFor(o.DataDir), filepath.Join(o.DataDir, "netns")); err != nil {
			return nil, fmt.Errorf("qemu driver: %w", err)
		}
	default:
		return nil, fmt.Errorf("qemu driver: unknown network %q", o.Network)
	}
	accel, err := chooseAccel(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(o.DataDir, "instances"), 0o700); err != nil {
		return nil, fmt.Errorf("qemu driver: %w", err)
	}
	return &Driver{opts: o, accel: accel, net: ns, locks: map[string]*sync.Mutex{},
		jobs: map[string]*migrationJob{}}, nil
}

// Switch is the bridge networking namespace guests' taps are in (nil on
// user-mode networking), for the dataplane that acts on their traffic.
func (d *Driver) Switch() *netns.Namespace { return d.net }

// Namespace is the network namespace guests' taps are in ("" on
// user-mode networking).
func (d *Driver) Namespace() string {
	if d.net == nil {
		return ""
	}
	return d.net.Name()
}

// Accel is the accelerator guests run with ("kvm" or "tcg").
func (d *Driver) Accel() string { return d.accel }

// Name implements virt.Driver.
func (d *Driver) Name() string { return "qemu" }

// lock serialises operations on one guest (QMP serves one client at a time).
func (d *Driver) lock(id string) func() {
	d.mu.Lock()
	l, ok := d.locks[id]
	if !ok {
		l = &sync.Mutex{}
		d.locks[id] = l
	}
	d.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (d *Driver) dir(id string) string { return filepath.Join(d.opts.DataDir, "instances", id) }

// qmpSocket is the guest's QMP socket: in its directory unless that path
// is too long for a unix socket, then a stable short path under /tmp.
func (d *Driver) qmpSocket(id string) string { return d.socket(id, "qmp") }

// socket is the path of the guest's unix socket name: name.sock in its
// directory unless that path is too long for a unix socket, then a
// stable short path under /tmp.
func (d *Driver) socket(id, name string) string {
	p := filepath.Join(d.dir(id), name+".sock")
	if len(p) < 100 {
		return p
	}
	sum := sha256.Sum256([]byte(p))
	return filepath.Join(os.TempDir(), "kumo-"+name+"-"+hex.EncodeToString(sum[:10])+".sock")
}

var versionRE = regexp.MustCompile(`version (\d+)\.(\d+)\.(\d+)`)

// HostUptime implements virt.UptimeReporter: the guests run on this
// machine, so its uptime is the host's.
func (d *Driver) HostUptime(ctx context.Context) (string, error) {
	return hostinfo.UptimeLine(time.Now())
}

var _ virt.UptimeReporter = (*Driver)(nil)

// Host implements virt.Driver: the configured capacity, QEMU's version
// encoded as Nova does (major*1000000 + minor*1000 + micro).
func (d *Driver) Host(ctx context.Context) (virt.HostInfo, error) {
	out, err := exec.CommandContext(ctx, d.opts.Binary, "--version").Output()
	if err != nil {
		return virt.HostInfo{}, fmt.Errorf("qemu version: %w", err)
	}
	version := 0
	if m := versionRE.FindStringSubmatch(string(out)); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		version = a*1000000 + b*1000 + c
	}
	return virt.HostInfo{
		Hostname: d.opts.Hostname, HypervisorType: "QEMU", HypervisorVersion: version,
		VCPUs: d.opts.VCPUs, MemoryMB: d.opts.MemoryMB, DiskGB: d.opts.DiskGB,
		CPUInfo: fmt.Sprintf(`{"arch": "x86_64", "model": "qemu64", "vendor": "QEMU", "topology": {"sockets": 1, "cores": %d, "threads": 1}, "features": [], "accel": %q}`,
			max(d.opts.VCPUs, 1), d.accel),
	}, nil
}

// List implements virt.Driver: every instance directory with a root disk
// (or root volume), so guests that outlived a kumo restart are adopted.
func (d *Driver) List(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(d.opts.DataDir, "instances"))
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if hasRoot(d.dir(e.Name())) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// PowerState implements virt.Driver from the process and QMP query-status.
func (d *Driver) PowerState(ctx context.Context, id string) (virt.PowerState, error) {
	if err := d.guestExists(id); err != nil {
		return virt.PowerNoState, err
	}
	defer d.lock(id)()
	return d.powerState(ctx, id), nil
}

func (d *Driver) powerState(ctx context.Context, id string) virt.PowerState {
	if _, ok := d.pid(id); !ok {
		if _, err := os.Stat(d.stateFile(id)); err == nil {
			return virt.PowerSuspended
		}
		return virt.PowerShutdown
	}
	st, err := d.status(ctx, id)
	if err != nil {
		return virt.PowerNoState
	}
	switch st {
	case "running":
		return virt.PowerRunning
	case "shutdown":
		return virt.PowerShutdown
	case "internal-error", "guest-panicked", "io-error":
		return virt.PowerCrashed
	case "suspended":
		return virt.PowerSuspended
	default: // paused, inmigrate, postmigrate, prelaunch, ...
		return virt.PowerPaused
	}
}

func (d *Driver) status(ctx context.Context, id string) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	err := qmpCall(ctx, d.qmpSocket(id), "query-status", nil, &st)
	return st.Status, err
}

// ConsoleOutput implements virt.Driver: the tail (last MiB) of the serial log.
func (d *Driver) ConsoleOutput(ctx context.Context, id string) ([]byte, error) {
	f, err := os.Open(filepath.Join(d.dir(id), "console.log"))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(d.dir(id)); serr != nil {
			return nil, virt.ErrNotFound
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read console log: %w", err)
	}
	defer f.Close()
	const tail = 1 << 20
	if st, err := f.Stat(); err == nil && st.Size() > tail {
		if _, err := f.Seek(-tail, io.SeekEnd); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(f)
}

// Diagnostics implements virt.Driver: the guest's power state from QMP
// and its uptime from its process's pid file; kumo does not read qemu's
// counters yet, so they are unknown (null in the API).
func (d *Driver) Diagnostics(ctx context.Context, g *virt.Guest) (*virt.Diagnostics, error) {
	power, err := d.PowerState(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	hypervisor := "qemu" // as Nova's libvirt driver names TCG (virt_type)
	if d.Accel() == "kvm" {
		hypervisor = "kvm"
	}
	diag := virt.SpecDiagnostics(g, power, hypervisor, exists(filepath.Join(d.dir(g.ID), "config.iso")))
	if _, running := d.pid(g.ID); running {
		if st, err := os.Stat(filepath.Join(d.dir(g.ID), "qemu.pid")); err == nil {
			diag.Uptime = virt.Since(st.ModTime(), time.Now())
		}
	}
	return diag, nil
}
