package qemu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// guestWait bounds a boot of the test guest or its noticing a disk: a
// few seconds under TCG alone, far more on a loaded 2-core machine.
const guestWait = 3 * time.Minute

// TestGuestVolumeHotPlug runs the test guest (scripts/build-test-guest),
// which reports its virtio disks and their serials on the console: a
// volume hot-plugged into it appears with its serial, grows when
// extended, and goes when
// unplugged (by a driver started since, as after a kumo restart); one
// attached while it is off is there at its next boot; and
// a guest booted from a volume (qcow2) has it as its first disk.
func TestGuestVolumeHotPlug(t *testing.T) {
	opts, image := testGuest(t, "volume hot-plug into a real guest", "qemu-system-x86_64", "qemu-img")
	ctx := context.Background()
	opts.DataDir, opts.Hostname = t.TempDir(), "guest-test"
	d, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAll(t, d) })

	volumeFile := filepath.Join(t.TempDir(), "volume.raw")
	if err := os.WriteFile(volumeFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(volumeFile, 64<<20); err != nil {
		t.Fatal(err)
	}
	vol := virt.Volume{ID: "6d1f0c8e-2b3a-4c5d-9e8f-7a6b5c4d3e2f", Path: volumeFile, Format: "raw", Device: "/dev/vdb", BootIndex: -1}
	serial := virt.VolumeSerial(vol.ID)
	g := &virt.Guest{ID: "volume-hotplug", Name: "vm", Hostname: "vm", VCPUs: 1, MemoryMB: 256, RootGB: 1, Image: image}
	withVol := *g
	withVol.Volumes = []virt.Volume{vol}

	start := time.Now()
	if err := d.Spawn(ctx, g); err != nil {
		t.Fatal(err)
	}
	disks := waitDisks(t, d, g.ID, 1, func(disks []string) bool { return len(disks) == 1 })
	t.Logf("booted in %v with disks %v", time.Since(start).Round(time.Millisecond), disks)

	start = time.Now()
	if err := d.AttachVolume(ctx, &withVol, vol); err != nil {
		t.Fatalf("attach: %v", err)
	}
	disks = waitDisks(t, d, g.ID, 1, func(disks []string) bool { return slices.Contains(disks, "vdb:"+serial) })
	t.Logf("hot-plugged volume seen in %v: %v", time.Since(start).Round(time.Millisecond), disks)
	if err := d.AttachVolume(ctx, &withVol, vol); err != nil {
		t.Fatalf("attach again: %v", err)
	}

	// Grown while attached: QEMU grows the file (the guest is told).
	if err := d.ExtendVolume(ctx, g.ID, vol.ID, 128<<20); err != nil {
		t.Fatalf("extend: %v", err)
	}
	if st, err := os.Stat(volumeFile); err != nil || st.Size() != 128<<20 {
		t.Errorf("volume file after extend to 128 MiB: %v, %v", st.Size(), err)
	}

	// A restarted kumo (a new driver on the data dir) finds the disk.
	if d, err = New(ctx, opts); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := d.DetachVolume(ctx, g.ID, vol.ID); err != nil {
		t.Fatalf("detach: %v", err)
	}
	t.Logf("detach returned in %v", time.Since(start).Round(time.Millisecond))
	waitDisks(t, d, g.ID, 1, func(disks []string) bool { return len(disks) == 1 && !slices.ContainsFunc(disks, hasSerial(serial)) })
	if err := d.DetachVolume(ctx, g.ID, vol.ID); err != nil {
		t.Fatalf("detach again: %v", err)
	}

	// Attached while off: the next boot has it.
	if err := d.PowerOff(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.AttachVolume(ctx, &withVol, vol); err != nil {
		t.Fatalf("attach while off: %v", err)
	}
	if err := d.PowerOn(ctx, &withVol); err != nil {
		t.Fatal(err)
	}
	waitDisks(t, d, g.ID, 2, func(disks []string) bool { return slices.Contains(disks, "vdb:"+serial) })
	if err := d.Destroy(ctx, g.ID); err != nil {
		t.Fatal(err)
	}

	// Booted from a volume: a qcow2 copy of the image, the first disk.
	rootFile := filepath.Join(t.TempDir(), "root.qcow2")
	diskFile, err := opts.ImagePath(ctx, image.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qemu-img", "convert", "-O", "qcow2", diskFile, rootFile).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	root := virt.Volume{ID: "8e2a1d9f-3c4b-4d5e-8f90-1a2b3c4d5e6f", Path: rootFile, Format: "qcow2", Device: "/dev/vda", BootIndex: 0}
	bfv := &virt.Guest{ID: "volume-backed", Name: "bfv", Hostname: "bfv", VCPUs: 1, MemoryMB: 256, RootGB: 1,
		Image: virt.Image{Properties: image.Properties}, Volumes: []virt.Volume{root, vol}}
	if err := d.Spawn(ctx, bfv); err != nil {
		t.Fatal(err)
	}
	disks = waitDisks(t, d, bfv.ID, 1, func(disks []string) bool { return len(disks) == 2 })
	if want := []string{"vda:" + virt.VolumeSerial(root.ID), "vdb:" + serial}; !slices.Equal(disks, want) {
		t.Errorf("volume-backed guest's disks %v, want %v", disks, want)
	}
	if exists(filepath.Join(d.dir(bfv.ID), "disk.qcow2")) {
		t.Error("a volume-backed guest has an image overlay")
	}
	if err := d.Destroy(ctx, bfv.ID); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rootFile, volumeFile} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("volume file after the guest is gone: %v", err)
		}
	}
}

func hasSerial(serial string) func(string) bool {
	return func(disk string) bool { return strings.HasSuffix(disk, ":"+serial) }
}

// waitDisks polls the console until the guest has booted boots times and
// the last disks it reported (after the last boot) satisfy ok; it returns
// them.
func waitDisks(t *testing.T, d *Driver, id string, boots int, ok func(disks []string) bool) []string {
	t.Helper()
	const ready, prefix = "KUMO-GUEST-READY", "KUMO-GUEST: disks="
	deadline := time.Now().Add(guestWait)
	for {
		out, err := d.ConsoleOutput(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		log := string(out)
		var last []string
		if strings.Count(log, ready) >= boots {
			lastBoot := log[strings.LastIndex(log, ready):]
			if i := strings.LastIndex(lastBoot, prefix); i >= 0 {
				line, _, _ := strings.Cut(lastBoot[i+len(prefix):], "\n")
				last = strings.Fields(line)
				if ok(last) {
					return last
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the guest's last disks are %v:\n%s", guestWait, last, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testGuest builds the test guest (scripts/build-test-guest) for a test
// that runs it, skipping what without bins: the driver options that find
// its files as the images "kernel", "ramdisk" and "disk" (the caller
// sets DataDir and Hostname), and the image that boots it.
func testGuest(t *testing.T, what string, bins ...string) (Options, virt.Image) {
	t.Helper()
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (scripts/test installs qemu-system-x86 and qemu-utils): %s is not tested", bin, what)
		}
	}
	t.Parallel()
	built := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "../../../scripts/build-test-guest", built).CombinedOutput(); err != nil {
		t.Fatalf("build test guest: %v\n%s", err, out)
	}
	cmdline, err := os.ReadFile(filepath.Join(built, "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"kernel": "vmlinuz", "ramdisk": "initrd.img", "disk": "disk.qcow2"}
	opts := Options{Accel: "tcg", VCPUs: 2, MemoryMB: 2048, DiskGB: 10, ShutdownTimeout: 30 * time.Second,
		ImagePath: func(ctx context.Context, id string) (string, error) {
			if f, ok := files[id]; ok {
				return filepath.Join(built, f), nil
			}
			return "", fmt.Errorf("image %s: %w", id, os.ErrNotExist)
		}}
	image := virt.Image{ID: "disk", DiskFormat: "qcow2", Properties: map[string]string{
		"kernel_id": "kernel", "ramdisk_id": "ramdisk", "os_command_line": strings.TrimSpace(string(cmdline))}}
	return opts, image
}
