package e2e

import (
	"context"
	"net/netip"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestNetworkFlags starts kumo with its own IPv4 range and IPv6 on, and
// checks a server with automatic networking gets one address of each
// family from those ranges.
func TestNetworkFlags(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t, "--fixed-range", "172.30.0.0/16", "--fixed-prefix-len", "26", "--ipv6", "--ipv6-prefix", "fd00:6b75:6d6f::/48")
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{
		Name: "dual-stack", ImageRef: imageIDByName(t, c, "kumo-tiny"), FlavorRef: "1", Networks: "auto",
	}, nil).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	got := gcGet(t, c, srv.ID)
	v4 := netip.MustParsePrefix("172.30.0.0/16")
	v6 := netip.MustParsePrefix("fd00:6b75:6d6f::/48")
	families := map[int]bool{}
	for label, list := range got.Addresses {
		for _, raw := range list.([]any) {
			a := raw.(map[string]any)
			addr, err := netip.ParseAddr(a["addr"].(string))
			if err != nil {
				t.Fatalf("network %s: bad address %v", label, a["addr"])
			}
			switch {
			case addr.Is4() && v4.Contains(addr):
				families[4] = true
			case addr.Is6() && v6.Contains(addr):
				families[6] = true
			default:
				t.Errorf("address %s is outside the configured ranges", addr)
			}
		}
	}
	if !families[4] || !families[6] {
		t.Fatalf("addresses %v: want one IPv4 from 172.30.0.0/16 and one IPv6 from fd00:6b75:6d6f::/48", got.Addresses)
	}
}
