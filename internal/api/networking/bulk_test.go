package networking_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// Bulk creates make all their objects or none, as Neutron's do.
func TestBulkCreate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		count := func(collection string) int {
			t.Helper()
			return len(list(t, c.member.Do("GET", "/networking/v2.0/"+collection, nil).Expect(t, http.StatusOK), collection))
		}
		nets := c.member.Do("POST", "/networking/v2.0/networks", map[string]any{"networks": []any{
			map[string]any{"name": "b1"}, map[string]any{"name": "b2"}}}).Expect(t, http.StatusCreated)
		made := list(t, nets, "networks")
		if len(made) != 2 || made[0]["name"] != "b1" || made[1]["name"] != "b2" {
			t.Fatalf("bulk networks %v", made)
		}
		netID := made[0]["id"].(string)
		before := count("networks")
		// The second is refused by its rule: the first goes again.
		wantError(t, c.member.Do("POST", "/networking/v2.0/networks", map[string]any{"networks": []any{
			map[string]any{"name": "b3"}, map[string]any{"name": "b4", "shared": true}}}),
			403, "PolicyNotAuthorized", "(rule:create_network:shared) is disallowed by policy")
		if got := count("networks"); got != before {
			t.Errorf("%d networks after a failed bulk create, want %d", got, before)
		}
		// A bad item is refused before anything is made.
		wantError(t, c.member.Do("POST", "/networking/v2.0/networks", map[string]any{"networks": []any{
			map[string]any{"name": "b5"}, map[string]any{"color": "red"}}}), 400, "HTTPBadRequest", "Unrecognized attribute(s) 'color'")
		wantError(t, c.member.Do("POST", "/networking/v2.0/networks", map[string]any{"networks": []any{}}), 400, "HTTPBadRequest", "Resources required")

		subnets := list(t, c.member.Do("POST", "/networking/v2.0/subnets", map[string]any{"subnets": []any{
			map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.20.0.0/24"},
			map[string]any{"network_id": netID, "ip_version": 6, "cidr": "fd00:20::/64"}}}).Expect(t, http.StatusCreated), "subnets")
		if len(subnets) != 2 || subnets[1]["ip_version"] != float64(6) {
			t.Errorf("bulk subnets %v", subnets)
		}
		before = count("ports")
		wantError(t, c.member.Do("POST", "/networking/v2.0/ports", map[string]any{"ports": []any{
			map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.20.0.5"}}},
			map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.20.0.5"}}}}}),
			409, "IpAddressAlreadyAllocated", "")
		if got := count("ports"); got != before {
			t.Errorf("%d ports after a failed bulk create, want %d", got, before)
		}
		// The address the undone port held is free.
		create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID,
			"fixed_ips": []any{map[string]any{"ip_address": "10.20.0.5"}}})
	})
}
