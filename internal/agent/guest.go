package agent

import (
	"context"
	"errors"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/virt"
)

// Guest is the driver's guest spec of the server t is about: the
// translation of the compute domain's server into what a driver runs.
func (a *Agent) Guest(ctx context.Context, t *compute.Task) (*virt.Guest, error) {
	src, err := a.compute.GuestSourceOf(ctx, t)
	if err != nil {
		return nil, err
	}
	return GuestOf(src), nil
}

// GuestOf is src as a driver's guest spec.
func GuestOf(src *compute.GuestSource) *virt.Guest {
	srv := src.Server
	g := &virt.Guest{
		ID: srv.ID, Name: srv.Name, Hostname: srv.Hostname, ProjectID: srv.ProjectID,
		Metadata: srv.Metadata, KeyName: srv.KeyName, PublicKey: srv.KeyData, ConfigDrive: srv.ConfigDrive != "",
		AvailabilityZone: srv.AZ, UserData: []byte(srv.UserData), AdminPass: src.AdminPass,
		Image: virt.Image{ID: srv.ImageRef, Properties: src.ImageProperties},
	}
	withFlavor(g, srv.Flavor)
	for _, n := range src.NICs {
		g.NICs = append(g.NICs, virt.NIC(n))
	}
	for _, v := range src.Volumes {
		g.Volumes = append(g.Volumes, virt.Volume{ID: v.ID, Path: v.Path, Format: v.Format, Device: v.Device,
			ReadOnly: v.ReadOnly, BootIndex: v.BootIndex})
	}
	return g
}

// withFlavor sizes g as flavor f.
func withFlavor(g *virt.Guest, f compute.FlavorSnapshot) {
	g.VCPUs, g.MemoryMB, g.RootGB, g.EphemeralGB, g.SwapMB = f.VCPUs, f.RAM, f.Disk, f.Ephemeral, f.Swap
}

// rescueImage is the image a rescue task boots the guest from, with the
// properties (kernel_id, ramdisk_id, ...) the driver boots it by.
func rescueImage(t *compute.Task) virt.Image {
	p, ok := t.Params.(*compute.RescueParams)
	if !ok {
		return virt.Image{}
	}
	return virt.Image{ID: p.ImageID, Name: p.ImageName, DiskFormat: p.ImageFormat, Properties: p.ImageProperties}
}

// classified is a driver error err that also is the compute call failure
// class (errors.Is), worded as the driver worded it.
type classified struct{ err, class error }

func (c classified) Error() string   { return c.err.Error() }
func (c classified) Unwrap() []error { return []error{c.err, c.class} }

// callError is a driver's error err as the compute domain classifies a
// call's failure.
func callError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, virt.ErrNotSupported):
		return classified{err, compute.ErrNotSupported}
	case errors.Is(err, virt.ErrNotFound):
		return classified{err, compute.ErrGuestNotFound}
	}
	return err
}
