package network

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Port is a Neutron port: a NIC of a server on a network, with its fixed
// IPs and MAC.
type Port struct {
	ID, NetworkID, ProjectID string
	Name, Description        string
	AdminStateUp             bool
	MAC                      string
	// DeviceID is the server the port belongs to, DeviceOwner
	// "compute:<zone>".
	DeviceID, DeviceOwner string
	FixedIPs              []FixedIP
	Revision              int
	CreatedAt, UpdatedAt  time.Time
	Tags                  []string
	// NetworkProjectID is its network's owner (network:project_id),
	// NetworkShared whether its network is shared.
	NetworkProjectID string
	NetworkShared    bool
	// Host and Active are its device's: the server's host, and whether
	// the server's guest runs (ACTIVE, else DOWN). A port of no placed
	// server shows the host an admin bound it to (BindingHost).
	Host   string
	Active bool
	// VIFType is binding:vif_type: "unbound" without a host, "bridge"
	// (kumo's Linux bridges) on a compute host, else "binding_failed".
	VIFType string
	// BindingHost, BindingProfile and VNICType are the binding
	// attributes as set (binding:host_id, binding:profile,
	// binding:vnic_type).
	BindingHost    string
	BindingProfile map[string]any
	VNICType       string
	// PortSecurity is port_security_enabled; AddressPairs its allowed
	// address pairs; SecurityGroups the ids of its groups.
	PortSecurity   bool
	AddressPairs   []AddressPair
	SecurityGroups []string
	// onServer marks a port of a placed server: its binding is Nova's.
	onServer bool
}

// Status is the port's Neutron status: a server's port is ACTIVE while
// the server's guest runs, a router's while the port is up (kumo routes
// in its own process, no agent to wait for), a floating IP's "N/A" as
// Neutron never binds those; any port that is down is DOWN.
func (p Port) Status() string {
	switch {
	case p.DeviceOwner == FloatingIPOwner:
		return "N/A"
	case !p.AdminStateUp:
		return "DOWN"
	case p.Active, strings.HasPrefix(p.DeviceOwner, "network:router_"):
		return "ACTIVE"
	}
	return "DOWN"
}

// FixedIP is one address of a port, on one subnet.
type FixedIP struct {
	SubnetID  string
	IPAddress string
}

// Devices answers the network service's questions about the servers
// ports belong to; compute.Inventory implements it.
type Devices interface {
	PortDevices(ctx context.Context, serverIDs []string) (map[string]Device, error)
}

// ComputeHosts tells which hosts are kumo's compute hosts, where a port
// can be bound; hosts.Directory implements it.
type ComputeHosts interface {
	KnownHosts(ctx context.Context, names []string) (map[string]bool, error)
}

// Binding's VIF types (neutron-lib portbindings): kumo plugs every port
// into a Linux bridge.
const (
	VIFUnbound       = "unbound"
	VIFBridge        = "bridge"
	VIFBindingFailed = "binding_failed"
)

// VNICNormal is the VNIC type of a port on a bridge, the only one kumo's
// hosts bind.
const VNICNormal = "normal"

// VNICTypes are the binding:vnic_type values neutron-lib's portbindings
// takes.
var VNICTypes = []string{"normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder",
	"smart-nic", "vdpa", "accelerator-direct", "accelerator-direct-physical", "remote-managed"}

// Device is what a port shows of its server.
type Device struct {
	Host    string
	Running bool
}

// KindPorts is the tag kind of ports.
const KindPorts = "ports"

const portColumns = `p.id, p.network_id, p.project_id, p.name, p.description, p.admin_state_up, p.mac, p.instance_id,
	p.device_owner, p.revision_number, p.created_at, p.updated_at, n.project_id, n.shared, p.port_security_enabled,
	p.allowed_address_pairs, p.binding_host, p.binding_profile, p.vnic_type`

func scanPort(row interface{ Scan(...any) error }) (Port, error) {
	var p Port
	var created, updated int64
	var pairs, profile string
	if err := row.Scan(&p.ID, &p.NetworkID, &p.ProjectID, &p.Name, &p.Description, &p.AdminStateUp, &p.MAC, &p.DeviceID,
		&p.DeviceOwner, &p.Revision, &created, &updated, &p.NetworkProjectID, &p.NetworkShared, &p.PortSecurity,
		&pairs, &p.BindingHost, &profile, &p.VNICType); err != nil {
		return Port{}, err
	}
	if err := json.Unmarshal([]byte(profile), &p.BindingProfile); err != nil {
		return Port{}, fmt.Errorf("binding profile of port %s: %w", p.ID, err)
	}
	if p.BindingProfile == nil {
		p.BindingProfile = map[string]any{}
	}
	p.CreatedAt, p.UpdatedAt = store.Time(created), store.Time(updated)
	if err := json.Unmarshal([]byte(pairs), &p.AddressPairs); err != nil {
		return Port{}, fmt.Errorf("allowed address pairs of port %s: %w", p.ID, err)
	}
	if p.AddressPairs == nil {
		p.AddressPairs = []AddressPair{}
	}
	return p, nil
}

func portNotFoundN(id string) error {
	return errs.Named("PortNotFound", errs.NotFound("Port %s could not be found.", id))
}

// PortNotFound is Neutron's 404 for port id.
func PortNotFound(id string) error { return portNotFoundN(id) }

// ListPorts lists the ports of sc (a project's own and those on its
// networks; every port for All), oldest first, with fixed IPs, tags and
// their devices' state.
func (s *Service) ListPorts(ctx context.Context, sc Scope) ([]Port, error) {
	where, args := "1 = 1", []any{}
	if !sc.All {
		where, args = "p.project_id = ? OR n.project_id = ?", []any{sc.ProjectID, sc.ProjectID}
	}
	return s.ports(ctx, where, args...)
}

// GetPort returns port id, whoever owns it.
func (s *Service) GetPort(ctx context.Context, id string) (Port, error) {
	ports, err := s.ports(ctx, "p.id = ?", id)
	if err != nil {
		return Port{}, err
	}
	if len(ports) == 0 {
		return Port{}, portNotFoundN(id)
	}
	return ports[0], nil
}

func (s *Service) ports(ctx context.Context, where string, args ...any) ([]Port, error) {
	return s.portsIn(ctx, s.db, where, args...)
}

// portsIn lists ports in q (the caller's transaction or the database).
func (s *Service) portsIn(ctx context.Context, q store.Querier, where string, args ...any) ([]Port, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+portColumns+` FROM network_ports p JOIN networks n ON n.id = p.network_id
		WHERE `+where+` ORDER BY p.created_at, p.position, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list ports: %w", err)
	}
	var out []Port
	for rows.Next() {
		p, err := scanPort(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan port: %w", err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list ports: %w", err)
	}
	return out, s.fillPorts(ctx, q, out)
}

// fillPorts adds fixed IPs (with the subnet holding each), tags and the
// devices' state to ports.
func (s *Service) fillPorts(ctx context.Context, q store.Querier, ports []Port) error {
	if len(ports) == 0 {
		return nil
	}
	ids, devices, nets := make([]string, len(ports)), make([]string, len(ports)), make([]string, len(ports))
	for i, p := range ports {
		ids[i], devices[i], nets[i] = p.ID, p.DeviceID, p.NetworkID
	}
	subnets, err := subnetRanges(ctx, q, nets)
	if err != nil {
		return err
	}
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT f.port_id, f.network_id, f.address FROM `+from+`
		JOIN fixed_ips f ON f.port_id = i.value ORDER BY f.port_id, f.version, f.address`, arg)
	if err != nil {
		return fmt.Errorf("list fixed IPs of ports: %w", err)
	}
	fixed := map[string][]FixedIP{}
	for rows.Next() {
		var port, net, addr string
		if err := rows.Scan(&port, &net, &addr); err != nil {
			rows.Close()
			return err
		}
		fixed[port] = append(fixed[port], FixedIP{SubnetID: subnetHolding(subnets[net], addr), IPAddress: addr})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tags, err := tagsOf(ctx, q, KindPorts, ids)
	if err != nil {
		return err
	}
	var devs map[string]Device
	if s.Devices != nil {
		if devs, err = s.Devices.PortDevices(ctx, devices); err != nil {
			return err
		}
	}
	for i := range ports {
		p := &ports[i]
		p.FixedIPs = fixed[p.ID]
		if p.FixedIPs == nil {
			p.FixedIPs = []FixedIP{}
		}
		p.Tags = nonNilStrings(tags[p.ID])
		d := devs[p.DeviceID]
		p.Host, p.Active, p.onServer = d.Host, d.Running, d.Host != ""
	}
	if err := s.fillBindings(ctx, ports); err != nil {
		return err
	}
	return s.fillSecurity(ctx, q, ports)
}

// fillBindings sets each port's host and VIF type: a server's port is
// bound where its server is placed, as Nova binds it; any other port
// where an admin bound it, which fails on a host that is not one of
// kumo's compute hosts or for a VNIC type a bridge cannot plug.
func (s *Service) fillBindings(ctx context.Context, ports []Port) error {
	var bound []string
	for _, p := range ports {
		if p.Host == "" && p.BindingHost != "" && !slices.Contains(bound, p.BindingHost) {
			bound = append(bound, p.BindingHost)
		}
	}
	known := map[string]bool{}
	if len(bound) > 0 && s.Hosts != nil {
		var err error
		if known, err = s.Hosts.KnownHosts(ctx, bound); err != nil {
			return fmt.Errorf("hosts of ports: %w", err)
		}
	}
	for i := range ports {
		p := &ports[i]
		switch {
		case p.Host != "":
			p.VIFType = VIFBridge
		case p.BindingHost == "":
			p.VIFType = VIFUnbound
		case known[p.BindingHost] && p.VNICType == VNICNormal:
			p.Host, p.VIFType = p.BindingHost, VIFBridge
		default:
			p.Host, p.VIFType = p.BindingHost, VIFBindingFailed
		}
	}
	return nil
}

// subnetRange is a subnet's id and CIDR.
type subnetRange struct {
	id   string
	cidr netip.Prefix
}

// subnetRanges returns the subnets of the networks ids, by network.
func subnetRanges(ctx context.Context, q store.Querier, ids []string) (map[string][]subnetRange, error) {
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT s.network_id, s.id, s.cidr FROM `+from+`
		JOIN subnets s ON s.network_id = i.value`, arg)
	if err != nil {
		return nil, fmt.Errorf("list subnets of ports: %w", err)
	}
	defer rows.Close()
	out := map[string][]subnetRange{}
	for rows.Next() {
		var net, id, cidr string
		if err := rows.Scan(&net, &id, &cidr); err != nil {
			return nil, err
		}
		if p, err := netip.ParsePrefix(cidr); err == nil {
			out[net] = append(out[net], subnetRange{id: id, cidr: p})
		}
	}
	return out, rows.Err()
}

// subnetHolding is the id of the subnet whose range holds addr.
func subnetHolding(subnets []subnetRange, addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	for _, s := range subnets {
		if s.cidr.Contains(a) {
			return s.id
		}
	}
	return ""
}

// portExists checks port id is there, with its NotFound.
func portExists(ctx context.Context, q store.Querier, id string) error {
	var n int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM network_ports WHERE id = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return portNotFoundN(id)
	}
	return err
}
