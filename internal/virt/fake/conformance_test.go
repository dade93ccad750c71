package fake

import (
	"os"
	"path/filepath"
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
		Rescue:     virt.Image{ID: "rescue-image"},
		Console:    "conformance login:",
		NICs:       nics,
		HotUnplug:  true,
		Volume:     volume(-1),
		RootVolume: volume(0),
		Volumes:    serials,
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
		Rescue:     virt.Image{ID: "rescue-image"},
		Console:    "conformance login:",
		NICs:       nics,
		HotUnplug:  true,
		Volume:     volume(-1),
		RootVolume: volume(0),
		Volumes:    serials,
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

// volume makes volumes with the given boot index, each a file, as the
// volume service's are.
func volume(bootIndex int) func(t *testing.T, id string) virt.Volume {
	return func(t *testing.T, id string) virt.Volume {
		p := filepath.Join(t.TempDir(), id)
		if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		return virt.Volume{ID: id, Path: p, Format: "raw", Device: "/dev/vdb", BootIndex: bootIndex}
	}
}

// serials are the disk serials of the volumes the fake guest id has.
func serials(t *testing.T, d virt.Driver, id string) []string {
	g, err := d.(*Driver).Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, v := range g.Volumes {
		out = append(out, virt.VolumeSerial(v))
	}
	return out
}
