package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestInspectImage(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	qcow := filepath.Join(dir, "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", qcow, "1M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	tests := []struct {
		name, path, declared, wantFormat, wantErr string
	}{
		{"qcow2", qcow, "qcow2", "qcow2", ""},
		{"qcow2 undeclared", qcow, "", "qcow2", ""},
		{"raw disk", write("disk.raw", make([]byte, 4096)), "raw", "raw", ""},
		{"qcow2 said raw", qcow, "raw", "", "not the raw its disk_format says"},
		{"text said qcow2", write("a.txt", []byte("not a disk\n")), "qcow2", "", "not the qcow2"},
		{"text said raw", write("b.txt", []byte("not a disk\n")), "raw", "", "not a whole number of 512-byte sectors"},
		{"empty", write("empty", nil), "raw", "", "not a raw disk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := inspectImage(context.Background(), tc.path, tc.declared)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || info.Format != tc.wantFormat {
				t.Fatalf("info %+v, err %v", info, err)
			}
		})
	}
}

// TestWriteConfigDrive: a guest gets a config drive when it asks for one
// or the driver forces them (--force-config-drive), and loses a stale one
// otherwise.
func TestWriteConfigDrive(t *testing.T) {
	cases := []struct {
		name             string
		requested, force bool
		want             bool
	}{
		{"requested", true, false, true},
		{"forced", false, true, true},
		{"neither", false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir(), AlwaysConfigDrive: tc.force}}
			g := &virt.Guest{ID: "g1", Name: "vm", Hostname: "vm", ConfigDrive: tc.requested}
			iso := filepath.Join(d.dir(g.ID), "config.iso")
			if err := os.MkdirAll(d.dir(g.ID), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(iso, []byte("stale"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := d.writeConfigDrive(g); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(iso)
			if got := err == nil && info.Size() > int64(len("stale")); got != tc.want {
				t.Fatalf("config drive written: %v (stat %v), want %v", got, err, tc.want)
			}
		})
	}
}
