package fake

import (
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/virttest"
)

func TestConformance(t *testing.T) {
	virttest.Run(t, virttest.Config{
		New: func(t *testing.T) virt.Driver { return New(Options{}) },
		Guest: func(id string) *virt.Guest {
			return &virt.Guest{ID: id, Name: "conformance", Hostname: "conformance", VCPUs: 1, MemoryMB: 64, RootGB: 1,
				Image: virt.Image{ID: "image-1"}}
		},
		Rescue:    virt.Image{ID: "rescue-image"},
		Console:   "conformance login:",
		NICs:      nics,
		HotUnplug: true,
	})
}

// The fake's guests kept on disk behave the same.
func TestConformancePersisted(t *testing.T) {
	virttest.Run(t, virttest.Config{
		New: func(t *testing.T) virt.Driver {
			d, err := Open(t.TempDir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Guest: func(id string) *virt.Guest {
			return &virt.Guest{ID: id, Name: "conformance", Hostname: "conformance", VCPUs: 2, MemoryMB: 128, RootGB: 1,
				Image: virt.Image{ID: "image-1"}}
		},
		Rescue:    virt.Image{ID: "rescue-image"},
		Console:   "conformance login:",
		NICs:      nics,
		HotUnplug: true,
	})
}

// nics are the MACs the fake guest id has.
func nics(t *testing.T, d virt.Driver, id string) []string {
	g, err := d.(*Driver).Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	return g.NICs
}
