package e2e

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// Clients are gophercloud service clients logged in from a clouds.yaml.
type Clients struct {
	Provider *gophercloud.ProviderClient
	Compute  *gophercloud.ServiceClient
	Image    *gophercloud.ServiceClient
	Identity *gophercloud.ServiceClient
	// Auth are the options the clouds.yaml entry resolved to.
	Auth gophercloud.AuthOptions
}

// NewClients authenticates with cloud from cloudsFile, as an application
// using gophercloud's clouds.yaml support would, and finds the compute,
// image and identity endpoints in the catalog.
func NewClients(t testing.TB, cloudsFile, cloud string) *Clients {
	t.Helper()
	ctx := context.Background()
	ao, eo, _, err := clouds.Parse(clouds.WithLocations(cloudsFile), clouds.WithCloudName(cloud))
	if err != nil {
		t.Fatalf("parse %s: %v", cloudsFile, err)
	}
	provider, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		t.Fatalf("gophercloud authenticate: %v", err)
	}
	c := &Clients{Provider: provider, Auth: ao}
	if c.Compute, err = openstack.NewComputeV2(provider, eo); err != nil {
		t.Fatalf("gophercloud compute endpoint: %v", err)
	}
	if c.Image, err = openstack.NewImageV2(provider, eo); err != nil {
		t.Fatalf("gophercloud image endpoint: %v", err)
	}
	if c.Identity, err = openstack.NewIdentityV3(provider, eo); err != nil {
		t.Fatalf("gophercloud identity endpoint: %v", err)
	}
	return c
}
