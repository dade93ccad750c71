package volfile

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/volume"
)

// TestDisksAndAdopt: the listing shows each disk with its virtual size
// (temporary files aside); Adopt renames one, and again after a crash
// finds it renamed.
func TestDisksAndAdopt(t *testing.T) {
	t.Parallel()
	_, noQemuImg := exec.LookPath("qemu-img")
	for _, qcow2 := range []bool{false, true} {
		name := map[bool]string{false: "raw", true: "qcow2"}[qcow2]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if qcow2 && noQemuImg != nil {
				t.Skip("qemu-img is not installed")
			}
			ctx := context.Background()
			dir := filepath.Join(t.TempDir(), "volumes")
			b, err := New(dir, Options{Qcow2: qcow2})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Create(ctx, "volume-a", 2); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, ".tmp-volume-b-1"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			disks, err := b.Disks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(disks) != 1 || disks[0].Name != "volume-a" || disks[0].Bytes != 2*gib || disks[0].Format != name {
				t.Fatalf("disks %+v", disks)
			}
			for range 2 {
				d, err := b.Adopt(ctx, "volume-a", "volume-b")
				if err != nil {
					t.Fatal(err)
				}
				if d.Location != filepath.Join(dir, "volume-b."+name) || d.Bytes != 2*gib {
					t.Fatalf("adopted %+v", d)
				}
			}
			// Files a reference must not reach: one beside the backend's
			// directory and a hidden one in it.
			for _, p := range []string{filepath.Join(filepath.Dir(dir), "outside.raw"), filepath.Join(dir, ".tmp-x.raw")} {
				if err := os.WriteFile(p, make([]byte, 512), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, ref := range []string{"../outside", "/abs/outside", ".tmp-x", ""} {
				if _, err := b.Adopt(ctx, ref, "volume-c"); !errors.Is(err, volume.ErrNoDisk) {
					t.Errorf("adopt %q: %v, want ErrNoDisk", ref, err)
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "outside.raw")); err != nil {
				t.Errorf("a file outside the backend moved: %v", err)
			}
			if _, err := b.Adopt(ctx, "nothing", "volume-c"); !errors.Is(err, volume.ErrNoDisk) {
				t.Fatalf("adopting nothing: %v", err)
			}
		})
	}
}
