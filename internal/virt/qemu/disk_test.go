package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
