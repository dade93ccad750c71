package compute

// Parts of the server view: flavor, addresses, security groups, fault,
// and Nova's value formats.

import (
	"sort"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/network"
)

// serverFlavor is {id, links} before 2.47 and the embedded flavor after.
func serverFlavor(c *api.Call, srv *compute.Server) map[string]any {
	f := srv.Flavor
	if !c.AtLeast(2, 47) {
		return map[string]any{
			"id":    f.ID,
			"links": []api.Link{{Href: bookmarkLink(c, "/flavors/"+f.ID), Rel: "bookmark"}},
		}
	}
	m := map[string]any{
		"vcpus": f.VCPUs, "ram": f.RAM, "disk": f.Disk, "ephemeral": f.Ephemeral,
		"swap": f.Swap, "original_name": f.Name,
	}
	// show:flavor-extra-specs defaults to project reader or admin.
	if canReadExtraSpecs(c) {
		m["extra_specs"] = nonNilMap(f.ExtraSpecs)
	}
	return m
}

// serverAddresses groups the server's addresses by network label; Nova
// hides them while the server is building.
func serverAddresses(srv *compute.Server, ex *serverExtras) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	if srv.VMState == state.VMBuilding {
		return out
	}
	return addressesByLabel(ex.addresses[srv.ID], ex.withAddress)
}

// addressesByLabel is Nova's ips view: {label: [{version, addr}]}, with
// type and MAC when extended.
func addressesByLabel(addrs []network.Address, extended bool) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, a := range addrs {
		item := map[string]any{"version": a.Version, "addr": a.Addr}
		if extended {
			item["OS-EXT-IPS:type"] = a.Type
			item["OS-EXT-IPS-MAC:mac_addr"] = a.MAC
		}
		out[a.Network] = append(out[a.Network], item)
	}
	return out
}

// securityGroups are the groups of the server's ports, as Nova reads
// them from Neutron: none without a port (internal/secgroup keeps the
// names in instances.security_groups).
func securityGroups(srv *compute.Server, ex *serverExtras) []map[string]string {
	if len(ex.addresses[srv.ID]) == 0 {
		return nil
	}
	names := append([]string(nil), srv.SecurityGroups...)
	sort.Strings(names)
	out := make([]map[string]string, 0, len(names))
	for i, n := range names {
		if i > 0 && names[i-1] == n {
			continue
		}
		out = append(out, map[string]string{"name": n})
	}
	return out
}

// serverFault is Nova's fault view; details of a 500 are for admins.
func serverFault(f *compute.Fault, admin bool) map[string]any {
	m := map[string]any{"code": f.Code, "created": isoTime(f.Created), "message": f.Message}
	if f.Details != "" && (admin || f.Code != 500) {
		m["details"] = f.Details
	}
	return m
}

func diskConfig(srv *compute.Server) string {
	if srv.DiskConfig == "AUTO" {
		return "AUTO"
	}
	return "MANUAL"
}

// isoTime is Nova's utils.isotime: seconds, UTC, "Z".
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// usageTime is how Nova serialises OS-SRV-USG times: naive ISO 8601 with
// microseconds, null when unset.
func usageTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilHints(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
