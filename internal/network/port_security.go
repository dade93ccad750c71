package network

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// PortGroups keeps the security groups of ports. The security group
// domain implements it (secgroup.Service) and the app wires it: secgroup
// imports network, so network names what it needs here.
type PortGroups interface {
	// EnsureDefaultGroup returns the project's default group, made on
	// first need.
	EnsureDefaultGroup(ctx context.Context, tx *store.Tx, projectID string) (string, error)
	// CheckPortGroups is SecurityGroupNotFound naming the ids that are no
	// group of projectID (of any project when anyProject).
	CheckPortGroups(ctx context.Context, q store.Querier, projectID string, ids []string, anyProject bool) error
	// BindPortGroups sets the groups of a port (replacing those it had).
	BindPortGroups(ctx context.Context, tx *store.Tx, portID string, ids []string) error
	// PortGroupIDs returns the groups bound to each port, sorted.
	PortGroupIDs(ctx context.Context, q store.Querier, portIDs []string) (map[string][]string, error)
}

// AddressPair is one of a port's allowed address pairs: an address or a
// CIDR, with the MAC it may come from.
type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address"`
}

// Neutron's errors of port security (neutron_lib/exceptions).

func portSecurityAndIPRequired() error {
	return errs.Named("PortSecurityAndIPRequiredForSecurityGroups", errs.Invalid(
		"Port security must be enabled and port must have an IP address in order to use security groups."))
}

func portHasSecurityGroup() error {
	return errs.Named("PortSecurityPortHasSecurityGroup", errs.Conflict(
		"Port has security group associated. Cannot disable port security or IP address until security group is removed."))
}

func addressPairNeedsPortSecurity() error {
	return errs.Named("AddressPairAndPortSecurityRequired", errs.Conflict(
		"Port Security must be enabled in order to have allowed address pairs on a port."))
}

func duplicateAddressPair(p AddressPair) error {
	return errs.Named("DuplicateAddressPairInRequest", errs.Invalid(
		"Request contains duplicate address pair: mac_address %s ip_address %s.", p.MACAddress, p.IPAddress))
}

// trustedOwner tells the ports Neutron applies no security to: DHCP
// ports and router interfaces (neutron_lib.utils.net.is_port_trusted).
func trustedOwner(owner string) bool { return strings.HasPrefix(owner, "network:") }

// portSecurityOf is a new port's port_security_enabled: as asked, else
// none on a trusted port, else its network's.
func portSecurityOf(n Network, f PortFields) bool {
	switch {
	case f.PortSecurity != nil:
		return *f.PortSecurity
	case f.DeviceOwner != nil && trustedOwner(*f.DeviceOwner):
		return false
	}
	return n.PortSecurity
}

// secureNewPort gives a port just made its address pairs and security
// groups, as Neutron's ML2 create does: without port security neither
// may be given; with it, a port given no groups gets its project's
// default group (trusted ports get none).
func (s *Service) secureNewPort(ctx context.Context, tx *store.Tx, p Port, f PortFields) error {
	psec := p.PortSecurity
	if f.AddressPairs != nil && len(*f.AddressPairs) > 0 {
		if !psec {
			return addressPairNeedsPortSecurity()
		}
		if err := setAddressPairs(ctx, tx, p.ID, p.MAC, *f.AddressPairs); err != nil {
			return err
		}
	}
	if !psec {
		if f.SecurityGroups != nil && len(*f.SecurityGroups) > 0 {
			return portSecurityAndIPRequired()
		}
		return nil
	}
	if s.Groups == nil || trustedOwner(p.DeviceOwner) {
		return nil
	}
	groups := []string{}
	if f.SecurityGroups == nil {
		id, err := s.Groups.EnsureDefaultGroup(ctx, tx, p.ProjectID)
		if err != nil {
			return err
		}
		groups = append(groups, id)
	} else {
		groups = *f.SecurityGroups
		if err := s.Groups.CheckPortGroups(ctx, tx, p.ProjectID, groups, f.AnyProjectGroups); err != nil {
			return err
		}
	}
	return s.Groups.BindPortGroups(ctx, tx, p.ID, groups)
}

// secureUpdatedPort applies an update's port security, address pairs and
// groups to p (as it was), as Neutron's ML2 update does: port security
// goes off only once the port has neither groups nor address pairs.
func (s *Service) secureUpdatedPort(ctx context.Context, tx *store.Tx, p Port, f PortFields) error {
	psec := p.PortSecurity
	if f.PortSecurity != nil {
		psec = *f.PortSecurity
	}
	if !psec {
		pairsAfter := p.AddressPairs
		if f.AddressPairs != nil {
			pairsAfter = *f.AddressPairs
		}
		if len(pairsAfter) > 0 {
			return addressPairNeedsPortSecurity()
		}
		if f.SecurityGroups != nil && len(*f.SecurityGroups) > 0 {
			return portSecurityAndIPRequired()
		}
		if f.SecurityGroups == nil && len(p.SecurityGroups) > 0 {
			return portHasSecurityGroup()
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET port_security_enabled = ? WHERE id = ?`, psec, p.ID); err != nil {
		return fmt.Errorf("update port %s: %w", p.ID, err)
	}
	if f.AddressPairs != nil {
		if err := setAddressPairs(ctx, tx, p.ID, p.MAC, *f.AddressPairs); err != nil {
			return err
		}
	}
	if f.SecurityGroups == nil || s.Groups == nil {
		return nil
	}
	if err := s.Groups.CheckPortGroups(ctx, tx, p.ProjectID, *f.SecurityGroups, f.AnyProjectGroups); err != nil {
		return err
	}
	return s.Groups.BindPortGroups(ctx, tx, p.ID, *f.SecurityGroups)
}

// setAddressPairs stores a port's allowed address pairs, a pair without
// a MAC taking the port's.
func setAddressPairs(ctx context.Context, tx *store.Tx, portID, portMAC string, pairs []AddressPair) error {
	out := make([]AddressPair, 0, len(pairs))
	for _, pr := range pairs {
		if pr.MACAddress == "" {
			pr.MACAddress = portMAC
		} else if hw, err := net.ParseMAC(pr.MACAddress); err == nil {
			pr.MACAddress = hw.String()
		}
		if slices.Contains(out, pr) {
			return duplicateAddressPair(pr)
		}
		out = append(out, pr)
	}
	doc, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("allowed address pairs of port %s: %w", portID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET allowed_address_pairs = ? WHERE id = ?`, string(doc), portID); err != nil {
		return fmt.Errorf("set allowed address pairs of port %s: %w", portID, err)
	}
	return nil
}

// fillSecurity adds the security groups to ports.
func (s *Service) fillSecurity(ctx context.Context, q store.Querier, ports []Port) error {
	if s.Groups == nil {
		return nil
	}
	ids := make([]string, len(ports))
	for i, p := range ports {
		ids[i] = p.ID
	}
	bound, err := s.Groups.PortGroupIDs(ctx, q, ids)
	if err != nil {
		return err
	}
	for i := range ports {
		ports[i].SecurityGroups = nonNilStrings(bound[ports[i].ID])
	}
	return nil
}
