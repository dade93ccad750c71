package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/hostinfo"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
	"github.com/kumocloud/kumo/internal/virt/qemu"
)

// newDriver returns the virt driver Config.Driver names, offering the
// host's capacity.
func (a *App) newDriver(ctx context.Context, capacity hostinfo.Capacity, link virt.MigrationLink) (virt.Driver, error) {
	switch a.Config.Driver {
	case "fake":
		// Guests persist in the data dir, so restarts and crash recovery
		// meet the guests they left, as with qemu.
		o := a.Config.Fake
		o.Hostname, o.VCPUs, o.MemoryMB, o.DiskGB = a.Config.Hostname(), capacity.VCPUs, capacity.MemoryMB, capacity.DiskGB
		d, err := fake.Open(filepath.Join(a.Config.DataDir, "instances"), o)
		if err != nil {
			return nil, err
		}
		return d, nil
	case "qemu":
		d, err := qemu.New(ctx, qemu.Options{
			DataDir: a.Config.DataDir, Hostname: a.Config.Hostname(), Accel: a.Config.QemuAccel,
			ImagePath: a.imagePath, VCPUs: capacity.VCPUs, MemoryMB: capacity.MemoryMB, DiskGB: capacity.DiskGB,
			AlwaysConfigDrive: a.Config.ForceConfigDrive, SSHForward: a.Config.QemuSSHForward, Log: a.Log,
			Network: a.Config.QemuNetwork, Link: link,
		})
		if err != nil {
			return nil, err
		}
		a.Log.Info("qemu driver", "accel", d.Accel(), "network", a.Config.QemuNetwork, "netns", d.Namespace())
		return d, nil
	}
	return nil, fmt.Errorf("unknown driver %q", a.Config.Driver)
}

// powerSyncInterval is how often the agent syncs power states: real
// guests can stop by themselves, the fake driver's cannot.
func powerSyncInterval(d virt.Driver) time.Duration {
	if d.Name() == "qemu" {
		return 10 * time.Second
	}
	return 0
}

// imagePath is where the image service keeps an image's data.
func (a *App) imagePath(ctx context.Context, id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
		return "", fmt.Errorf("bad image id %q", id)
	}
	p, err := filepath.Abs(filepath.Join(a.Config.ImageDir(), id))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("image %s has no data: %w", id, err)
	}
	return p, nil
}
