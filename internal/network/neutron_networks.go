package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// Scope is whose objects a listing covers: every project's (All, an
// admin's listing) or those ProjectID owns, on its networks, or on
// shared and external networks. The networking API then drops what the
// caller's policy may not get.
type Scope struct {
	ProjectID string
	All       bool
}

// NetworkFields are a network's attributes a create or an update sets;
// nil leaves one at its default (create) or as it is (update).
type NetworkFields struct {
	Name, Description *string
	AdminStateUp      *bool
	Shared, External  *bool
	MTU               *int
	PortSecurity      *bool
	NetworkType       *string
	PhysicalNetwork   *string
	SegmentationID    *int
	// AvailabilityZoneHints are set at creation only.
	AvailabilityZoneHints *[]string
}

// AvailabilityZone is the one zone networks (and the host) are in,
// Nova's default.
const AvailabilityZone = "nova"

// Neutron's limits for a network (neutron-lib's attribute map; the MTU
// range is what a Linux bridge takes).
const (
	DefaultMTU = 1500
	minMTU     = 68
	maxMTU     = 9000
)

// ListNetworks lists the networks of sc with their subnet ids and tags,
// oldest first. A scoped caller's project gets its network made on first
// need before, as the Nova proxies' listing does.
func (s *Service) ListNetworks(ctx context.Context, sc Scope) ([]Network, error) {
	if sc.ProjectID != "" {
		if _, err := s.Networks(ctx, sc.ProjectID); err != nil {
			return nil, err
		}
	}
	where, args := "1 = 1", []any{}
	if !sc.All {
		where, args = "n.project_id = ? OR n.shared OR n.external", []any{sc.ProjectID}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+networkColumns+` FROM networks n WHERE `+where+
		` ORDER BY n.created_at, n.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []Network
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan network: %w", err)
		}
		out = append(out, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	return out, s.fillNetworks(ctx, s.db, out)
}

// VisibleTo reports whether n is in sc's listings (ListNetworks' rule):
// an admin's listing has every network, a project's its own, the shared
// and the external ones.
func (n Network) VisibleTo(sc Scope) bool {
	return sc.All || n.ProjectID == sc.ProjectID || n.Shared || n.External
}

// fillNetworks adds subnet ids and tags to nets.
func (s *Service) fillNetworks(ctx context.Context, q store.Querier, nets []Network) error {
	if len(nets) == 0 {
		return nil
	}
	ids := make([]string, len(nets))
	for i, n := range nets {
		ids[i] = n.ID
	}
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT s.network_id, s.id FROM `+from+` JOIN subnets s ON s.network_id = i.value
		ORDER BY s.created_at, s.id`, arg)
	if err != nil {
		return fmt.Errorf("list subnets of networks: %w", err)
	}
	subnets := map[string][]string{}
	for rows.Next() {
		var net, id string
		if err := rows.Scan(&net, &id); err != nil {
			rows.Close()
			return err
		}
		subnets[net] = append(subnets[net], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tags, err := tagsOf(ctx, q, KindNetworks, ids)
	if err != nil {
		return err
	}
	for i := range nets {
		nets[i].Subnets = nonNilStrings(subnets[nets[i].ID])
		nets[i].Tags = nonNilStrings(tags[nets[i].ID])
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// GetNetwork returns network id, whoever owns it (the networking API
// checks the caller's rule against it).
func (s *Service) GetNetwork(ctx context.Context, id string) (Network, error) {
	return s.getNetwork(ctx, s.db, id)
}

func (s *Service) getNetwork(ctx context.Context, q store.Querier, id string) (Network, error) {
	n, err := scanNetwork(q.QueryRowContext(ctx, `SELECT `+networkColumns+` FROM networks n WHERE n.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Network{}, noSuchNetwork(id)
	}
	if err != nil {
		return Network{}, fmt.Errorf("get network %s: %w", id, err)
	}
	nets := []Network{n}
	if err := s.fillNetworks(ctx, q, nets); err != nil {
		return Network{}, err
	}
	return nets[0], nil
}

// CreateNetwork creates a network of projectID within its network quota.
func (s *Service) CreateNetwork(ctx context.Context, projectID string, f NetworkFields) (Network, error) {
	n := Network{ID: uuid.NewString(), ProjectID: projectID, AdminStateUp: true, MTU: DefaultMTU, PortSecurity: true,
		NetworkType: "local", Revision: 1}
	if err := f.apply(&n); err != nil {
		return Network{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.quota.Check(ctx, tx, projectID, netquota.Network, 1); err != nil {
			return err
		}
		now := store.Now()
		_, err := tx.ExecContext(ctx, `INSERT INTO networks (id, project_id, name, description, admin_state_up, shared,
			external, mtu, port_security_enabled, network_type, physical_network, segmentation_id, revision_number,
			availability_zone_hints, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.ProjectID, n.Name, n.Description, n.AdminStateUp, n.Shared, n.External, n.MTU, n.PortSecurity,
			n.NetworkType, nullIfEmpty(n.PhysicalNetwork), nullIfZero(n.SegmentationID), n.Revision,
			mustJSON(nonNilStrings(n.AvailabilityZoneHints)), now, now)
		if err != nil {
			return fmt.Errorf("create network: %w", err)
		}
		return nil
	})
	if err != nil {
		return Network{}, err
	}
	return s.GetNetwork(ctx, n.ID)
}

func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// apply sets f's attributes on n, checking them as neutron-lib does.
func (f NetworkFields) apply(n *Network) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&n.Name, f.Name)
	set(&n.Description, f.Description)
	set(&n.NetworkType, f.NetworkType)
	set(&n.PhysicalNetwork, f.PhysicalNetwork)
	for _, b := range []struct {
		dst *bool
		v   *bool
	}{{&n.AdminStateUp, f.AdminStateUp}, {&n.Shared, f.Shared}, {&n.External, f.External}, {&n.PortSecurity, f.PortSecurity}} {
		if b.v != nil {
			*b.dst = *b.v
		}
	}
	if f.MTU != nil {
		if *f.MTU < minMTU || *f.MTU > maxMTU {
			return invalidInput("MTU %d is out of range %d to %d", *f.MTU, minMTU, maxMTU)
		}
		n.MTU = *f.MTU
	}
	if f.SegmentationID != nil {
		n.SegmentationID = *f.SegmentationID
	}
	if f.AvailabilityZoneHints != nil {
		for _, az := range *f.AvailabilityZoneHints {
			if az != AvailabilityZone {
				return errs.Named("AvailabilityZoneNotFound", errs.NotFound("AvailabilityZone %s could not be found.", az))
			}
		}
		n.AvailabilityZoneHints = *f.AvailabilityZoneHints
	}
	switch n.NetworkType {
	case "local", "flat", "vlan", "vxlan", "geneve", "gre":
	default:
		return invalidInput("Unknown provider:network_type %s", n.NetworkType)
	}
	return nil
}

// UpdateNetwork changes network id and bumps its revision.
func (s *Service) UpdateNetwork(ctx context.Context, id string, f NetworkFields) (Network, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		n, err := s.getNetwork(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := f.apply(&n); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE networks SET name = ?, description = ?, admin_state_up = ?, shared = ?,
			external = ?, mtu = ?, port_security_enabled = ?, network_type = ?, physical_network = ?, segmentation_id = ?,
			revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
			n.Name, n.Description, n.AdminStateUp, n.Shared, n.External, n.MTU, n.PortSecurity, n.NetworkType,
			nullIfEmpty(n.PhysicalNetwork), nullIfZero(n.SegmentationID), store.Now(), id)
		return err
	})
	if err != nil {
		return Network{}, err
	}
	return s.GetNetwork(ctx, id)
}

// DeleteNetwork deletes network id with its subnets and tags; a network
// with ports is Neutron's NetworkInUse.
func (s *Service) DeleteNetwork(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.getNetwork(ctx, tx, id); err != nil {
			return err
		}
		if s.FloatingIPs != nil {
			if err := s.FloatingIPs.DeleteDisassociated(ctx, tx, id); err != nil {
				return err
			}
		}
		var ports int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM network_ports WHERE network_id = ?`, id).Scan(&ports); err != nil {
			return fmt.Errorf("count ports of network %s: %w", id, err)
		}
		if ports > 0 {
			return networkInUse(id)
		}
		subnets, err := subnetsOf(ctx, tx, "s.network_id = ?", id)
		if err != nil {
			return err
		}
		for _, sn := range subnets {
			if err := deleteTags(ctx, tx, KindSubnets, sn.ID); err != nil {
				return err
			}
		}
		for _, stmt := range []string{`DELETE FROM subnets WHERE network_id = ?`, `DELETE FROM networks WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, stmt, id); err != nil {
				return fmt.Errorf("delete network %s: %w", id, err)
			}
		}
		return deleteTags(ctx, tx, KindNetworks, id)
	})
}

// EnsureExternal makes the external network of the floating range on
// the first start: owned by projectID (the admin project), named name,
// router:external, a flat network with one subnet of cidr without DHCP,
// as DevStack's public network.
func (s *Service) EnsureExternal(ctx context.Context, projectID, name, cidr string) error {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("external network: floating range %q: %w", cidr, err)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		id, now := uuid.NewString(), store.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO networks (id, project_id, name, default_for, external, network_type,
			physical_network, created_at, updated_at) VALUES (?, ?, ?, ?, TRUE, 'flat', 'public', ?, ?) ON CONFLICT DO NOTHING`,
			id, projectID, name, externalMarker, now, now)
		if err != nil {
			return fmt.Errorf("create the external network: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		sn := newSubnet(id, projectID, p.Masked(), now)
		sn.Name, sn.EnableDHCP = name+"-subnet", false
		_, err = insertSubnet(ctx, tx, sn)
		return err
	})
}
