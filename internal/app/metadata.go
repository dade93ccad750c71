package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/metadata"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/virt/configdrive"
)

// metadataSource answers the metadata service from the compute domain:
// the files are the config drive's, the password the one the guest
// posted.
type metadataSource struct {
	compute  *compute.Service
	networks *network.Service
	groups   *secgroup.Service
}

var _ metadata.Source = metadataSource{}

func (m metadataSource) source(ctx context.Context, id string) (*compute.GuestSource, error) {
	src, err := m.compute.GuestSourceOfServer(ctx, id)
	if errs.Is(err, errs.KindNotFound) {
		return nil, fmt.Errorf("%w: %v", metadata.ErrNotFound, err)
	}
	return src, err
}

func (m metadataSource) Files(ctx context.Context, id string) (map[string][]byte, error) {
	src, err := m.source(ctx, id)
	if err != nil {
		return nil, err
	}
	return configdrive.Files(agent.GuestOf(src))
}

func (m metadataSource) EC2(ctx context.Context, id string) (metadata.EC2Facts, error) {
	src, err := m.source(ctx, id)
	if err != nil {
		return metadata.EC2Facts{}, err
	}
	srv := src.Server
	f := metadata.EC2Facts{Number: srv.Number, ImageID: srv.ImageRef, ReservationID: srv.ReservationID,
		FlavorName: srv.Flavor.Name}
	for _, n := range src.NICs {
		if n.IPv4 != "" {
			f.FixedIPv4 = n.IPv4
			break
		}
	}
	addrs, err := m.networks.Addresses(ctx, []string{id})
	if err != nil {
		return f, err
	}
	for _, a := range addrs[id] {
		if a.Type == "floating" && a.Version == 4 {
			f.FloatingIPv4 = a.Addr
			break
		}
	}
	// The groups as the server's own project sees them, each name once.
	owner := &auth.Principal{ProjectID: srv.ProjectID, Roles: []string{"reader"}}
	groups, err := m.groups.ServerGroups(ctx, owner, id)
	if err != nil {
		return f, err
	}
	for _, g := range groups {
		if !slices.Contains(f.SecurityGroups, g.Name) {
			f.SecurityGroups = append(f.SecurityGroups, g.Name)
		}
	}
	return f, nil
}

func (m metadataSource) Password(ctx context.Context, id string) (string, error) {
	pw, err := m.compute.PostedPassword(ctx, id)
	if errs.Is(err, errs.KindNotFound) {
		return "", fmt.Errorf("%w: %v", metadata.ErrNotFound, err)
	}
	return pw, err
}

func (m metadataSource) SetPassword(ctx context.Context, id, password string) error {
	err := m.compute.PostPassword(ctx, id, password)
	switch {
	case errs.Is(err, errs.KindNotFound):
		return fmt.Errorf("%w: %v", metadata.ErrNotFound, err)
	case errs.Is(err, errs.KindConflict):
		return fmt.Errorf("%w: %v", metadata.ErrConflict, err)
	}
	return err
}
