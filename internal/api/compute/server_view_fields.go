package compute

// Parts of the server view: flavor, addresses, security groups, fault,
// and Nova's value formats.

import (
	"slices"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/network"
)

// appendServerFlavor writes {id, links} before 2.47 and the embedded
// flavor after.
// bookmark is the base of the flavor's link.
func appendServerFlavor(b []byte, c *api.Call, srv *compute.Server, bookmark api.Link) []byte {
	f := srv.Flavor
	w := api.OpenObject(b)
	if !c.AtLeast(mv.V2_47) {
		w.String("id", f.ID)
		w.LinksTo("links", f.ID, bookmark)
		return w.Close()
	}
	w.Int("disk", int64(f.Disk))
	w.Int("ephemeral", int64(f.Ephemeral))
	// show:flavor-extra-specs defaults to project reader or admin.
	if canReadExtraSpecs(c) {
		w.StringMap("extra_specs", f.ExtraSpecs)
	}
	w.String("original_name", f.Name)
	w.Int("ram", int64(f.RAM))
	w.Int("swap", int64(f.Swap))
	w.Int("vcpus", int64(f.VCPUs))
	return w.Close()
}

// addressView is Nova's ips view of a server's addresses: {label:
// [{version, addr}]}, labels in order, with type and MAC when extended.
type addressView struct {
	addrs    []network.Address
	extended bool
}

// serverAddresses are the server's addresses; Nova hides them while the
// server is building.
func serverAddresses(srv *compute.Server, ex *serverExtras) addressView {
	if srv.VMState == state.VMBuilding {
		return addressView{}
	}
	return addressView{addrs: ex.addresses[srv.ID], extended: ex.withAddress}
}

// labels are the networks the addresses are on, sorted.
func (v addressView) labels() []string {
	var out []string
	for _, a := range v.addrs {
		if !slices.Contains(out, a.Network) {
			out = append(out, a.Network)
		}
	}
	slices.Sort(out)
	return out
}

// group is the addresses on one network, nil when there are none.
func (v addressView) group(label string) []network.Address {
	var out []network.Address
	for _, a := range v.addrs {
		if a.Network == label {
			out = append(out, a)
		}
	}
	return out
}

func (v addressView) AppendJSON(b []byte) ([]byte, error) { return v.appendJSON(b), nil }

func (v addressView) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, label := range v.labels() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(api.AppendString(b, label), ':')
		b = v.appendGroup(b, v.group(label))
	}
	return append(b, '}')
}

// appendGroup writes the list of one network's addresses.
func (v addressView) appendGroup(b []byte, addrs []network.Address) []byte {
	b = append(b, '[')
	for i, a := range addrs {
		if i > 0 {
			b = append(b, ',')
		}
		w := api.OpenObject(b)
		if v.extended {
			w.String("OS-EXT-IPS-MAC:mac_addr", a.MAC)
			w.String("OS-EXT-IPS:type", a.Type)
		}
		w.String("addr", a.Addr)
		w.Int("version", int64(a.Version))
		b = w.Close()
	}
	return append(b, ']')
}

// appendSecurityGroups writes the groups of the server's ports, as Nova
// reads them from Neutron (one entry per group of each port); without
// any the key is left out.
func appendSecurityGroups(w *api.Object, srv *compute.Server, ex *serverExtras) {
	names := ex.securityGroups[srv.ID]
	if len(names) == 0 {
		return
	}
	w.Key("security_groups")
	w.B = append(w.B, '[')
	for i, n := range names {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		w.B = append(api.AppendString(append(w.B, `{"name":`...), n), '}')
	}
	w.B = append(w.B, ']')
}

// appendServerFault writes Nova's fault view; details of a 500 are for
// admins.
func appendServerFault(b []byte, f *compute.Fault, admin bool) []byte {
	w := api.OpenObject(b)
	w.Int("code", int64(f.Code))
	w.Key("created")
	w.B = appendISOTime(w.B, f.Created)
	if f.Details != "" && (admin || f.Code != 500) {
		w.String("details", f.Details)
	}
	w.String("message", f.Message)
	return w.Close()
}

func diskConfig(srv *compute.Server) string {
	if srv.DiskConfig == "AUTO" {
		return "AUTO"
	}
	return "MANUAL"
}

// isoTimeLayout is Nova's utils.isotime: seconds, UTC, "Z".
const isoTimeLayout = "2006-01-02T15:04:05Z"

func isoTime(t time.Time) string { return t.UTC().Format(isoTimeLayout) }

// appendISOTime writes t as a JSON string in isoTimeLayout.
func appendISOTime(b []byte, t time.Time) []byte {
	return append(api.AppendUTC(append(b, '"'), t, isoTimeLayout), '"')
}

// usageTimeLayout is how Nova serialises OS-SRV-USG times: naive ISO
// 8601 with microseconds.
const usageTimeLayout = "2006-01-02T15:04:05.000000"

// usageTime is t in usageTimeLayout, null when unset.
func usageTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(usageTimeLayout)
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
