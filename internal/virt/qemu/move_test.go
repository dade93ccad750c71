package qemu

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

// TestMoveGuestFiles: a guest's directory adopted on another host drops
// the source's process files, and finishing the move points its overlay
// at the destination's copy of the image and grows it to the flavor.
func TestMoveGuestFiles(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	ctx := context.Background()
	img := func(d *Driver) func(ctx context.Context, id string) (string, error) {
		return func(ctx context.Context, id string) (string, error) {
			return filepath.Join(d.opts.DataDir, "images", id), nil
		}
	}
	newDriver := func() *Driver {
		d := &Driver{opts: Options{DataDir: t.TempDir()}, locks: map[string]*sync.Mutex{}}
		d.opts.ImagePath = img(d)
		if err := os.MkdirAll(filepath.Join(d.opts.DataDir, "images"), 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2",
			filepath.Join(d.opts.DataDir, "images", "img1"), "1M").CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return d
	}
	src, dst := newDriver(), newDriver()
	g := &virt.Guest{ID: "g1", Name: "vm", Hostname: "vm", RootGB: 1, Image: virt.Image{ID: "img1"}}
	if err := os.MkdirAll(src.dir(g.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := src.makeRootDisk(ctx, &virt.Guest{ID: "g1", Image: g.Image}, g.Image, filepath.Join(src.dir(g.ID), "disk.qcow2")); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"console.log": "login:", "qemu.pid": "1", "ssh-port": "2222"} {
		if err := os.WriteFile(filepath.Join(src.dir(g.ID), name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := src.ExportGuest(ctx, g.ID)
	if err != nil || dir != src.dir(g.ID) {
		t.Fatalf("export: %q, %v", dir, err)
	}
	// What the host endpoint stages: a copy of the directory.
	staged := filepath.Join(dst.StagingDir(), "g1-x")
	if err := os.MkdirAll(staged, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if err := copyFile(filepath.Join(dir, e.Name()), filepath.Join(staged, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.AdoptGuest(ctx, g.ID, staged); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"disk.qcow2": true, "console.log": true, "qemu.pid": false, "ssh-port": false} {
		if got := exists(filepath.Join(dst.dir(g.ID), name)); got != want {
			t.Errorf("%s on the destination: %t, want %t", name, got, want)
		}
	}
	if exists(staged) {
		t.Error("the staged directory is left")
	}
	if err := dst.FinishMigration(ctx, g, false); err != nil {
		t.Fatal(err)
	}
	out, err := qemuImg(ctx, "info", "-U", "--output=json", filepath.Join(dst.dir(g.ID), "disk.qcow2"))
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		VirtualSize int64  `json:"virtual-size"`
		Backing     string `json:"full-backing-filename"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dst.opts.DataDir, "images", "img1"); info.Backing != want || info.VirtualSize != 1<<30 {
		t.Fatalf("disk after the move: backing %s, %d bytes; want %s, 1 GiB", info.Backing, info.VirtualSize, want)
	}
}
