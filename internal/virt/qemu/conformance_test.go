package qemu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/virttest"
)

// TestConformance runs the driver contract on real qemu guests under TCG
// (it works wherever qemu does, KVM or not). The guest is the accel
// probe's disk: a boot sector that prints its mark on the serial console
// and halts, so each boot takes a moment and nothing needs building. It
// has no ACPI, so graceful stops wait out a short ShutdownTimeout and then
// stop it hard, as for a guest that ignores the power button.
func TestConformance(t *testing.T) {
	for _, bin := range []string{"qemu-system-x86_64", "qemu-img"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (scripts/test installs qemu-system-x86 and qemu-utils): the qemu driver's conformance is not tested", bin)
		}
	}
	images := t.TempDir()
	disk := filepath.Join(images, "probe.img")
	if err := os.WriteFile(disk, probeDisk(), 0o600); err != nil {
		t.Fatal(err)
	}
	imagePath := func(ctx context.Context, id string) (string, error) {
		if id != "probe" {
			return "", fmt.Errorf("image %s: %w", id, os.ErrNotExist)
		}
		return disk, nil
	}
	image := virt.Image{ID: "probe", Name: "probe", DiskFormat: "raw"}
	virttest.Run(t, virttest.Config{
		New: func(t *testing.T) virt.Driver {
			dataDir := t.TempDir()
			d, err := New(context.Background(), Options{DataDir: dataDir, Hostname: "conformance-host", Accel: "tcg",
				ImagePath: imagePath, VCPUs: 2, MemoryMB: 2048, DiskGB: 10, ShutdownTimeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stopAll(t, d) })
			return d
		},
		Guest: func(id string) *virt.Guest {
			return &virt.Guest{ID: id, Name: "conformance", Hostname: "conformance", VCPUs: 1, MemoryMB: 64, RootGB: 1, Image: image}
		},
		Rescue:  image,
		Console: probeMark,
		// The probe guest has no operating system to let a NIC go:
		// the e2e test TestQemuInterfaceHotPlug covers the unplug.
		NICs: func(t *testing.T, d virt.Driver, id string) []string {
			macs, err := d.(*Driver).guestMACs(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return macs
		},
		// Volumes are raw files; the root volume is a copy of the probe
		// disk, so the mark on the console shows it booted from it.
		Volume: func(t *testing.T, id string) virt.Volume {
			p := filepath.Join(t.TempDir(), id)
			if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
				t.Fatal(err)
			}
			return virt.Volume{ID: id, Path: p, Format: "raw", Device: "/dev/vdb", BootIndex: -1}
		},
		RootVolume: func(t *testing.T, id string) virt.Volume {
			p := filepath.Join(t.TempDir(), id)
			if err := os.WriteFile(p, probeDisk(), 0o600); err != nil {
				t.Fatal(err)
			}
			return virt.Volume{ID: id, Path: p, Format: "raw", Device: "/dev/vda", BootIndex: 0}
		},
		Volumes: func(t *testing.T, d virt.Driver, id string) []string {
			serials, err := d.(*Driver).guestSerials(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return serials
		},
	})
}

// stopAll ends the qemu processes a failed test left running (they are
// daemons: the test's end does not stop them).
func stopAll(t *testing.T, d *Driver) {
	ids, err := d.List(context.Background())
	if err != nil {
		return
	}
	for _, id := range ids {
		if err := d.Destroy(context.Background(), id); err != nil {
			t.Errorf("destroy %s left behind: %v", id, err)
		}
	}
}
