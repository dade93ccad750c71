package volfile

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/volume"
)

func TestBackend(t *testing.T) {
	t.Parallel()
	_, noQemuImg := exec.LookPath("qemu-img")
	data := append(bytes.Repeat([]byte("kumo"), 1<<18), make([]byte, 3<<20)...) // 1 MiB of data, then zeros
	data = append(data, []byte("tail")...)
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
			read := func(d volume.Disk) []byte {
				t.Helper()
				r, err := b.Open(ctx, d, "raw")
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				got := make([]byte, len(data))
				if _, err := io.ReadFull(r, got); err != nil {
					t.Fatal(err)
				}
				return got
			}
			blank, err := b.Create(ctx, "volume-a", 1)
			if err != nil || blank.Format != name {
				t.Fatalf("create: %+v, %v", blank, err)
			}
			if got := read(blank); !bytes.Equal(got, make([]byte, len(data))) {
				t.Fatal("a blank disk is not zero")
			}
			fromImage, err := b.CreateFromImage(ctx, "volume-b", bytes.NewReader(data), "raw", 1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(read(fromImage), data) {
				t.Fatal("volume from image differs")
			}
			clone, err := b.Clone(ctx, "snapshot-c", fromImage, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(read(clone), data) {
				t.Fatal("clone differs")
			}
			// The clone is a copy: changing the source leaves it.
			if err := b.Delete(ctx, "volume-b"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(read(clone), data) {
				t.Fatal("clone changed with its source")
			}
			if err := b.Extend(ctx, clone, 2); err != nil {
				t.Fatal(err)
			}
			if err := b.Extend(ctx, clone, 2); err != nil { // again, as after a restart
				t.Fatalf("extend again: %v", err)
			}
			if !bytes.Equal(read(clone), data) {
				t.Fatal("extend changed the data")
			}
			if qcow2 {
				if vs, err := b.virtualSize(ctx, clone.Location); err != nil || vs != 2<<30 {
					t.Fatalf("extended to %d bytes, %v", vs, err)
				}
			} else if st := mustStat(t, clone.Location); st.Size() != 2<<30 {
				t.Fatalf("extended to %d bytes", st.Size())
			}
			// Data larger than the volume is refused.
			if _, err := b.CreateFromImage(ctx, "volume-d", bytes.NewReader(make([]byte, 10)), "raw", 0); err == nil {
				t.Fatal("10 bytes fit in 0 GiB")
			}
			for _, n := range []string{"volume-a", "snapshot-c", "volume-d", "volume-none"} {
				if err := b.Delete(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Clean(); err != nil {
				t.Fatal(err)
			}
			left, _ := os.ReadDir(dir)
			if len(left) != 0 {
				t.Fatalf("files left: %v", left)
			}
		})
	}
}

func TestQcow2ImageToRawVolume(t *testing.T) {
	t.Parallel()
	qemuImg, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img is not installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	raw := filepath.Join(dir, "src.raw")
	want := bytes.Repeat([]byte("q"), 4096)
	if err := os.WriteFile(raw, want, 0o600); err != nil {
		t.Fatal(err)
	}
	qc := filepath.Join(dir, "src.qcow2")
	if out, err := exec.Command(qemuImg, "convert", "-f", "raw", "-O", "qcow2", raw, qc).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	f, err := os.Open(qc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := New(filepath.Join(dir, "volumes"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.CreateFromImage(ctx, "volume-q", f, "qcow2", 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != "raw" || mustStat(t, d.Location).Size() != 1<<30 {
		t.Fatalf("disk %+v", d)
	}
	got := make([]byte, len(want))
	g, _ := os.Open(d.Location)
	defer g.Close()
	if _, err := io.ReadFull(g, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("converted data differs: %v", err)
	}
	// Without qemu-img a qcow2 image cannot be converted.
	nb := &Backend{dir: b.dir, format: "raw"}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := nb.CreateFromImage(ctx, "volume-r", f, "qcow2", 1); err == nil {
		t.Fatal("converted without qemu-img")
	}
	if _, err := New(filepath.Join(dir, "v2"), Options{Qcow2: true, QemuImg: ""}); err != nil {
		t.Fatal(err) // qemu-img is on PATH here
	}
}

func mustStat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
