package compute

import (
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

// TestRescueImageRoundTrip: the rescue task hands the driver the whole
// rescue image, properties included (a rescue image with its own
// kernel_id must boot that kernel).
func TestRescueImageRoundTrip(t *testing.T) {
	t.Parallel()
	for _, img := range []virt.Image{
		{ID: "i1", Name: "rescue", DiskFormat: "qcow2",
			Properties: map[string]string{"kernel_id": "k1", "ramdisk_id": "r1", "os_command_line": "console=ttyS0"}},
		{ID: "i2"},
	} {
		got := RescueImage(&Task{Params: rescueParams(img)})
		if got.ID != img.ID || got.Name != img.Name || got.DiskFormat != img.DiskFormat ||
			(len(img.Properties) > 0 && !reflect.DeepEqual(got.Properties, img.Properties)) {
			t.Errorf("RescueImage(rescueParams(%+v)) = %+v", img, got)
		}
	}
}
