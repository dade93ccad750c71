package agent

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/virt"
)

// TestGuestOf: the driver's guest spec carries the server's flavor,
// ports, image properties and the password opened for it.
func TestGuestOf(t *testing.T) {
	src := &compute.GuestSource{
		Server: &compute.Server{ID: "s1", Name: "web", Hostname: "web", ProjectID: "p1", ImageRef: "i1",
			KeyName: "k", KeyData: "ssh-ed25519 AAAA", ConfigDrive: "True", AZ: "nova", UserData: "#!/bin/sh",
			Metadata: map[string]string{"m": "v"},
			Flavor:   compute.FlavorSnapshot{VCPUs: 2, RAM: 512, Disk: 1, Ephemeral: 2, Swap: 64}},
		NICs:            []compute.NIC{{Network: "private", MAC: "fa:16:3e:00:00:01", IPv4: "10.0.0.3", CIDR: "10.0.0.0/24"}},
		ImageProperties: map[string]string{"kernel_id": "k1"},
		AdminPass:       "secret",
	}
	want := &virt.Guest{ID: "s1", Name: "web", Hostname: "web", ProjectID: "p1", VCPUs: 2, MemoryMB: 512, RootGB: 1,
		EphemeralGB: 2, SwapMB: 64, Image: virt.Image{ID: "i1", Properties: map[string]string{"kernel_id": "k1"}},
		UserData: []byte("#!/bin/sh"), Metadata: map[string]string{"m": "v"}, KeyName: "k", PublicKey: "ssh-ed25519 AAAA",
		AdminPass: "secret", NICs: []virt.NIC{{Network: "private", MAC: "fa:16:3e:00:00:01", IPv4: "10.0.0.3", CIDR: "10.0.0.0/24"}},
		ConfigDrive: true, AvailabilityZone: "nova"}
	if got := GuestOf(src); !reflect.DeepEqual(got, want) {
		t.Fatalf("guest\n %+v\nwant\n %+v", got, want)
	}
}

// TestRescueImage: the rescue task hands the driver the whole rescue
// image, properties included (a rescue image with its own kernel_id must
// boot that kernel).
func TestRescueImage(t *testing.T) {
	for _, p := range []*compute.RescueParams{
		{ImageID: "i1", ImageName: "rescue", ImageFormat: "qcow2",
			ImageProperties: map[string]string{"kernel_id": "k1", "ramdisk_id": "r1", "os_command_line": "console=ttyS0"}},
		{ImageID: "i2"},
	} {
		got := rescueImage(&compute.Task{Kind: compute.TaskRescue, Params: p})
		want := virt.Image{ID: p.ImageID, Name: p.ImageName, DiskFormat: p.ImageFormat, Properties: p.ImageProperties}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rescueImage(%+v) = %+v", p, got)
		}
	}
}

// TestCallError: driver failures keep their words and gain the compute
// call failure class the API answers by.
func TestCallError(t *testing.T) {
	for _, tc := range []struct {
		err   error
		class error
	}{
		{virt.ErrNotSupported, compute.ErrNotSupported},
		{virt.ErrNotFound, compute.ErrGuestNotFound},
	} {
		got := callError(tc.err)
		if !errors.Is(got, tc.class) || !errors.Is(got, tc.err) || got.Error() != tc.err.Error() {
			t.Errorf("callError(%v) = %v", tc.err, got)
		}
	}
	other := errors.New("boom")
	if got := callError(other); got != other {
		t.Errorf("callError(boom) = %v", got)
	}
}
