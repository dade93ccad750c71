package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// PortFields are a port's attributes a create or an update sets; nil
// leaves one at its default (create) or as it is (update). FixedIPs are
// the addresses asked for as Neutron takes them (see claimDefault and
// claimRequested): a port gets its EUI-64 address on every auto-address
// subnet of its network whatever it asks for.
type PortFields struct {
	Name, Description     *string
	AdminStateUp          *bool
	DeviceID, DeviceOwner *string
	FixedIPs              *[]FixedIPRequest
	// PortSecurity is port_security_enabled (a new port takes its
	// network's); SecurityGroups nil gives a new port with port security
	// its project's default group, an empty list none; AddressPairs are
	// the allowed address pairs (a MAC "" is the port's).
	PortSecurity   *bool
	SecurityGroups *[]string
	AddressPairs   *[]AddressPair
	// AnyProjectGroups lets the groups be any project's (an admin's
	// call, as Neutron allows); else they are the port's project's.
	AnyProjectGroups bool
	// BindingHost, BindingProfile and VNICType are binding:host_id ("":
	// unbound), binding:profile and binding:vnic_type (one of VNICTypes).
	BindingHost    *string
	BindingProfile *map[string]any
	VNICType       *string
}

// FixedIPRequest asks for an address: a given one (IPAddress, on
// SubnetID when given) or the next free one of SubnetID.
type FixedIPRequest struct {
	SubnetID, IPAddress string
}

// PortCreate is a new port of ProjectID on NetworkID; MAC "" draws one.
type PortCreate struct {
	NetworkID, ProjectID string
	MAC                  string
	PortFields
}

// Neutron's errors of port writes (neutron_lib/exceptions).

func ipAllocated(ip, subnet string) error {
	return errs.Named("IpAddressAlreadyAllocated", errs.Conflict("IP address %s already allocated in subnet %s", ip, subnet))
}

func invalidIPForNetwork(ip string) error {
	return errs.Named("InvalidIpForNetwork", errs.Invalid("IP address %s is not a valid IP for any of the subnets on the specified network.", ip))
}

func invalidIPForSubnet(ip string) error {
	return errs.Named("InvalidIpForSubnet", errs.Invalid("IP address %s is not a valid IP for the specified subnet.", ip))
}

func macInUse(network, mac string) error {
	return errs.Named("MacAddressInUse", errs.Conflict("Unable to complete operation for network %s. The mac address %s is in use.", network, mac))
}

// neutronExhaustion words a full network as Neutron does
// (IpAddressGenerationFailure) on its own API.
func neutronExhaustion(err error, networkID string) error {
	if !errors.Is(err, ErrNoMoreFixedIPs) {
		return err
	}
	return errs.Named("IpAddressGenerationFailure", errs.Conflict("No more IP addresses available on network %s.", networkID))
}

// CreatePort creates a port with its addresses.
func (s *Service) CreatePort(ctx context.Context, c PortCreate) (Port, error) {
	var id string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.CreatePortIn(ctx, tx, c)
		return err
	})
	if err != nil {
		return Port{}, err
	}
	return s.GetPort(ctx, id)
}

// CreatePortIn creates a port in the caller's transaction (for other
// domains' ports: router interfaces) and returns its id.
func (s *Service) CreatePortIn(ctx context.Context, tx *store.Tx, c PortCreate) (string, error) {
	id := uuid.NewString()
	n, err := s.getNetwork(ctx, tx, c.NetworkID)
	if err != nil {
		return "", err
	}
	// Ports of no project (L3 service ports) count against no quota.
	if c.ProjectID != "" {
		if err := s.quota.Check(ctx, tx, c.ProjectID, netquota.Port, 1); err != nil {
			return "", err
		}
	}
	p := Port{ID: id, NetworkID: n.ID, ProjectID: c.ProjectID, AdminStateUp: true, PortSecurity: portSecurityOf(n, c.PortFields),
		BindingProfile: map[string]any{}, VNICType: VNICNormal}
	applyPort(&p, c.PortFields)
	if p.MAC, err = insertNeutronPort(ctx, tx, p, c.MAC); err != nil {
		return "", err
	}
	if c.FixedIPs == nil {
		err = claimDefault(ctx, tx, n.ID, p)
	} else {
		err = claimRequested(ctx, tx, n.ID, p, canonicalRequests(*c.FixedIPs), nil)
	}
	if err != nil {
		return "", neutronExhaustion(err, c.NetworkID)
	}
	return id, s.secureNewPort(ctx, tx, p, c.PortFields)
}

func applyPort(p *Port, f PortFields) {
	for _, v := range []struct {
		dst *string
		v   *string
	}{{&p.Name, f.Name}, {&p.Description, f.Description}, {&p.DeviceID, f.DeviceID}, {&p.DeviceOwner, f.DeviceOwner}} {
		if v.v != nil {
			*v.dst = *v.v
		}
	}
	if f.AdminStateUp != nil {
		p.AdminStateUp = *f.AdminStateUp
	}
	if f.BindingHost != nil {
		p.BindingHost = *f.BindingHost
	}
	if f.BindingProfile != nil {
		p.BindingProfile = *f.BindingProfile
	}
	if f.VNICType != nil {
		p.VNICType = *f.VNICType
	}
}

// checkRebinding refuses binding changes on a port of a placed server
// (p as stored, before f): Nova binds it where the server runs, on a
// bridge, and kumo moves the binding with the server.
func checkRebinding(p Port, f PortFields) error {
	if !p.onServer {
		return nil
	}
	if (f.BindingHost != nil && *f.BindingHost != p.Host) || (f.VNICType != nil && *f.VNICType != p.VNICType) {
		return errs.Named("PortInUse", errs.Conflict("Unable to complete operation on port %s for network %s. "+
			"Port already has an attached device %s.", p.ID, p.NetworkID, p.DeviceID))
	}
	return nil
}

// insertNeutronPort stores a port made through the networking API and
// returns its MAC.
func insertNeutronPort(ctx context.Context, tx *store.Tx, p Port, mac string) (string, error) {
	now := store.Now()
	insert := func(m string) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO network_ports (id, project_id, network_id, instance_id, mac, position, name,
			description, admin_state_up, device_owner, port_security_enabled, binding_host, binding_profile,
			vnic_type, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, p.ID, p.ProjectID, p.NetworkID, p.DeviceID, m, p.Name, p.Description, p.AdminStateUp,
			p.DeviceOwner, p.PortSecurity, p.BindingHost, mustJSON(p.BindingProfile), p.VNICType, now, now)
		if err != nil {
			return false, fmt.Errorf("create port on network %s: %w", p.NetworkID, err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 {
			return "", invalidInput("'%s' is not a valid MAC address", mac)
		}
		ok, err := insert(hw.String())
		if err == nil && !ok {
			err = macInUse(p.NetworkID, hw.String())
		}
		return hw.String(), err
	}
	for range 8 {
		m, err := randomMAC()
		if err != nil {
			return "", err
		}
		if ok, err := insert(formatMAC(m)); err != nil || ok {
			return formatMAC(m), err
		}
	}
	return "", fmt.Errorf("create port on network %s: no unused MAC address found", p.NetworkID)
}

func portMAC(ctx context.Context, q store.Querier, portID string) ([6]byte, error) {
	var text string
	if err := q.QueryRowContext(ctx, `SELECT mac FROM network_ports WHERE id = ?`, portID).Scan(&text); err != nil {
		return [6]byte{}, fmt.Errorf("MAC of port %s: %w", portID, err)
	}
	hw, err := net.ParseMAC(text)
	if err != nil || len(hw) != 6 {
		return [6]byte{}, fmt.Errorf("port %s has a bad MAC %q", portID, text)
	}
	return [6]byte(hw), nil
}

// claimInPools claims the next free address of an IPv4 subnet's
// allocation pools, in their order.
func claimInPools(ctx context.Context, tx *store.Tx, networkID string, sn Subnet, p Port) (netip.Addr, error) {
	prefix, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("subnet %s: %w", sn.ID, err)
	}
	for _, pool := range sn.Pools {
		start, errS := netip.ParseAddr(pool.Start)
		end, errE := netip.ParseAddr(pool.End)
		if errS != nil || errE != nil {
			return netip.Addr{}, fmt.Errorf("subnet %s has a bad pool %v", sn.ID, pool)
		}
		a, err := claimNext4In(ctx, tx, networkID, prefix, ordinal4(prefix, start), ordinal4(prefix, end), p.ID, p.DeviceID)
		if !errors.Is(err, ErrNoMoreFixedIPs) {
			return a, err
		}
	}
	return netip.Addr{}, noMoreFixedIPs(networkID)
}

// resolveRequest finds the subnet (and the address, when given) of r.
func resolveRequest(networkID string, subnets []Subnet, r FixedIPRequest) (Subnet, netip.Addr, error) {
	var addr netip.Addr
	if r.IPAddress != "" {
		a, err := netip.ParseAddr(r.IPAddress)
		if err != nil || a.Zone() != "" {
			return Subnet{}, addr, invalidInput("%s is not a valid IP address", r.IPAddress)
		}
		addr = a
	}
	for _, sn := range subnets {
		p, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			continue
		}
		switch {
		case r.SubnetID != "" && sn.ID == r.SubnetID:
			if addr.IsValid() && !p.Contains(addr) {
				return Subnet{}, addr, invalidIPForSubnet(r.IPAddress)
			}
			return sn, addr, nil
		case r.SubnetID == "" && addr.IsValid() && p.Contains(addr):
			return sn, addr, nil
		}
	}
	if r.SubnetID != "" {
		return Subnet{}, addr, invalidInput("Failed to create port on network %s, because fixed_ips included invalid subnet %s", networkID, r.SubnetID)
	}
	if !addr.IsValid() {
		return Subnet{}, addr, invalidInput("Exactly one of subnet_id or ip_address is needed in fixed_ips")
	}
	return Subnet{}, addr, invalidIPForNetwork(r.IPAddress)
}

// claimAddress claims a given address of subnet sn for p: a host address
// that is not the gateway and not held by another port.
func claimAddress(ctx context.Context, tx *store.Tx, networkID string, sn Subnet, prefix netip.Prefix, a netip.Addr, p Port) error {
	first, last := hostBounds(prefix)
	if a.Compare(first) < 0 || a.Compare(last) > 0 {
		return invalidIPForSubnet(a.String())
	}
	// The gateway address is a router interface's only.
	if a.String() == sn.GatewayIP && p.DeviceOwner != RouterInterfaceOwner {
		return ipAllocated(a.String(), sn.ID)
	}
	var ordinal sql.NullInt64
	if a.Is4() {
		ordinal = sql.NullInt64{Int64: ordinal4(prefix, a), Valid: true}
	}
	ok, err := insertFixedIP(ctx, tx, networkID, a, ordinal, p.ID, p.DeviceID)
	if err == nil && !ok {
		err = ipAllocated(a.String(), sn.ID)
	}
	return err
}

// UpdatePort changes port id; new fixed IPs replace its addresses (those
// it keeps stay bound to their floating IPs). Its revision goes up.
func (s *Service) UpdatePort(ctx context.Context, id string, f PortFields) (Port, error) {
	var networkOf string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := portExists(ctx, tx, id); err != nil {
			return err
		}
		ports, err := s.portsIn(ctx, tx, "p.id = ?", id)
		if err != nil {
			return err
		}
		p := ports[0]
		networkOf = p.NetworkID
		if err := checkRebinding(p, f); err != nil {
			return err
		}
		applyPort(&p, f)
		if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET name = ?, description = ?, admin_state_up = ?,
			instance_id = ?, device_owner = ?, binding_host = ?, binding_profile = ?, vnic_type = ?,
			revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
			p.Name, p.Description, p.AdminStateUp, p.DeviceID, p.DeviceOwner, p.BindingHost, mustJSON(p.BindingProfile),
			p.VNICType, store.Now(), id); err != nil {
			return fmt.Errorf("update port %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fixed_ips SET instance_id = ? WHERE port_id = ?`, p.DeviceID, id); err != nil {
			return fmt.Errorf("update port %s: %w", id, err)
		}
		if err := s.secureUpdatedPort(ctx, tx, p, f); err != nil {
			return err
		}
		if f.FixedIPs == nil {
			return nil
		}
		return s.replaceAddresses(ctx, tx, p, canonicalRequests(*f.FixedIPs))
	})
	if err != nil {
		return Port{}, neutronExhaustion(err, networkOf)
	}
	return s.GetPort(ctx, id)
}

func canonicalIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}

func canonicalRequests(reqs []FixedIPRequest) []FixedIPRequest {
	out := make([]FixedIPRequest, len(reqs))
	for i, r := range reqs {
		out[i] = FixedIPRequest{SubnetID: r.SubnetID, IPAddress: canonicalIP(r.IPAddress)}
		if r.IPAddress == "" {
			out[i].IPAddress = ""
		}
	}
	return out
}

// DeletePort deletes port id with its addresses and tags (a floating IP
// bound to one of them stays, unbound).
func (s *Service) DeletePort(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := portExists(ctx, tx, id); err != nil {
			return err
		}
		if err := notServicePort(ctx, tx, id); err != nil {
			return err
		}
		if err := deletePorts(ctx, tx, []string{id}); err != nil {
			return err
		}
		return deleteTags(ctx, tx, KindPorts, id)
	})
}
