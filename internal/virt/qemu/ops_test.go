package qemu

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestRescueImageKernel(t *testing.T) {
	own := virt.Image{ID: "own", Properties: map[string]string{"kernel_id": "k1", "ramdisk_id": "r1", "os_command_line": "console=ttyS0"}}
	tests := []struct {
		name       string
		rescue     virt.Image
		wantKernel string
		wantCmd    string
	}{
		{"rescue image has a kernel", virt.Image{ID: "r", Properties: map[string]string{"kernel_id": "k2"}}, "k2", ""},
		{"falls back to the guest's", virt.Image{ID: "r"}, "k1", "console=ttyS0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir()}}
			dir := d.dir("g")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(tc.rescue)
			if err := os.WriteFile(filepath.Join(dir, "rescue.json"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			got := d.rescueImage(&virt.Guest{ID: "g", Image: own})
			if got.Properties["kernel_id"] != tc.wantKernel || got.Properties["os_command_line"] != tc.wantCmd {
				t.Errorf("rescue boots %v", got.Properties)
			}
		})
	}
}
