package floatingip

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// The networking API's face of the pool: the same rows Nova's proxies
// read and write, shown as Neutron's floatingips. An association is a
// fixed IP of a port, so binding through addFloatingIp and setting
// port_id to the server's port are the same write.

// KindFloatingIPs is the tag kind of floating IPs.
const KindFloatingIPs = "floatingips"

// External names a floating IP's external network, for Neutron's checks
// and messages.
type External struct {
	NetworkID string
}

// Record is a floating IP with the attributes the networking API shows.
type Record struct {
	FloatingIP
	// PortID is the port of the fixed IP it is bound to and RouterID the
	// router that serves the association ("": none).
	PortID, RouterID     string
	Description          string
	Revision             int
	CreatedAt, UpdatedAt time.Time
	Tags                 []string
}

// CountFloatingIPs counts projectID's floating IPs (the networking
// quota's floatingip counter).
func CountFloatingIPs(ctx context.Context, q store.Querier, projectID string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM floating_ips WHERE project_id = ? AND gateway_of IS NULL`, projectID).Scan(&n)
	return n, err
}

// FloatingIPNotFound is Neutron's 404 for a floating IP.
func FloatingIPNotFound(id string) error {
	return errs.Named("FloatingIPNotFound", errs.NotFound("Floating IP %s could not be found", id))
}

// BadRequest is Neutron's BadRequest(resource=floatingip).
func BadRequest(format string, args ...any) error {
	return errs.Named("BadRequest", errs.Invalid("Bad floatingip request: "+format+".", args...))
}

const selectRecord = `SELECT fl.id, COALESCE(fl.network_id, ''), COALESCE(fl.port_id, ''), fl.pool, fl.address, fl.project_id,
	COALESCE(fl.fixed_network_id, ''), COALESCE(fl.fixed_address, ''), COALESCE(f.instance_id, ''),
	COALESCE(f.port_id, ''), COALESCE(fl.router_id, ''), fl.description, fl.revision_number, fl.created_at, fl.updated_at
	FROM floating_ips fl
	LEFT JOIN fixed_ips f ON f.network_id = fl.fixed_network_id AND f.address = fl.fixed_address
	WHERE fl.gateway_of IS NULL`

func scanRecord(row interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var created, updated int64
	if err := row.Scan(&r.ID, &r.NetworkID, &r.port, &r.Pool, &r.Address, &r.ProjectID, &r.FixedNetworkID, &r.FixedAddress, &r.InstanceID,
		&r.PortID, &r.RouterID, &r.Description, &r.Revision, &created, &updated); err != nil {
		return Record{}, err
	}
	r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
	return r, nil
}

// Records lists the floating IPs of projectID, or all with all, oldest
// first, with their tags.
func (s *Service) Records(ctx context.Context, projectID string, all bool) ([]Record, error) {
	q, args := selectRecord+` AND fl.project_id = ?`, []any{projectID}
	if all {
		q, args = selectRecord, nil
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY fl.created_at, fl.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list floating IPs: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("scan floating IP: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list floating IPs: %w", err)
	}
	for i := range out {
		if out[i].Tags, err = network.ReadTags(ctx, s.db, KindFloatingIPs, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Record returns the floating IP id whoever asks (the API checks the
// rules), or FloatingIPNotFound.
func (s *Service) Record(ctx context.Context, id string) (Record, error) {
	return recordIn(ctx, s.db, id)
}

func recordIn(ctx context.Context, q store.Querier, id string) (Record, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, selectRecord+` AND fl.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, FloatingIPNotFound(id)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read floating IP %s: %w", id, err)
	}
	r.Tags, err = network.ReadTags(ctx, q, KindFloatingIPs, id)
	return r, err
}

// Binding is the association a create or update asks for: a port, and
// optionally which of its fixed IPs. Admin lifts the check that the port
// belongs to the floating IP's project (Neutron's is_admin).
type Binding struct {
	PortID, FixedAddress string
	Admin                bool
}

// Create is a floating IP the networking API allocates on the external
// network NetworkID (the API checked it is one), of SubnetID when given.
type Create struct {
	ProjectID   string
	NetworkID   string
	SubnetID    string
	Address     string // "": any free address
	Description string
	Bind        *Binding
}

// CreateRecord allocates a floating IP on c.NetworkID, within the
// project's floatingip quota, bound to c.Bind's port if given.
func (s *Service) CreateRecord(ctx context.Context, c Create) (Record, error) {
	ext := External{NetworkID: c.NetworkID}
	var out Record
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.quota.Check(ctx, tx, c.ProjectID, netquota.FloatingIP, 1); err != nil {
			return err
		}
		f := &FloatingIP{ID: uuid.NewString(), NetworkID: c.NetworkID, ProjectID: c.ProjectID}
		if err := tx.QueryRowContext(ctx, `SELECT name FROM networks WHERE id = ?`, c.NetworkID).Scan(&f.Pool); err != nil {
			return fmt.Errorf("read network %s: %w", c.NetworkID, err)
		}
		req, err := fixedRequest(c)
		if err != nil {
			return err
		}
		if err := s.claim(ctx, tx, f, req); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE floating_ips SET description = ? WHERE id = ?`, c.Description, f.ID); err != nil {
			return fmt.Errorf("describe floating IP %s: %w", f.ID, err)
		}
		if c.Bind != nil {
			r, err := recordIn(ctx, tx, f.ID)
			if err != nil {
				return err
			}
			if err := s.bindToPort(ctx, tx, ext, r, *c.Bind); err != nil {
				return err
			}
			// Made bound, it is at its first revision.
			if _, err := tx.ExecContext(ctx, `UPDATE floating_ips SET revision_number = 1 WHERE id = ?`, f.ID); err != nil {
				return fmt.Errorf("create floating IP %s: %w", f.ID, err)
			}
		}
		out, err = recordIn(ctx, tx, f.ID)
		return err
	})
	return out, err
}

// fixedRequest is the address of the floating IP's port c asks for (nil:
// any), as Neutron's _create_floatingip builds it.
func fixedRequest(c Create) (*network.FixedIPRequest, error) {
	if c.Address == "" && c.SubnetID == "" {
		return nil, nil
	}
	req := &network.FixedIPRequest{SubnetID: c.SubnetID}
	if c.Address != "" {
		a, err := netip.ParseAddr(c.Address)
		if err != nil || !a.Is4() {
			return nil, errs.Named("InvalidInput", errs.Invalid("Invalid input for floating_ip_address. Reason: '%s' is not a valid IP address.", c.Address))
		}
		req.IPAddress = a.String()
	}
	return req, nil
}

// portFixedIP is an address of a port.
type portFixedIP struct {
	networkID, address string
	version            int
}

// portOf reads the owner, device owner and fixed IPs of a port.
func portOf(ctx context.Context, q store.Querier, portID string) (project, owner string, fixed []portFixedIP, err error) {
	err = q.QueryRowContext(ctx, `SELECT project_id, device_owner FROM network_ports WHERE id = ?`, portID).Scan(&project, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil, network.PortNotFound(portID)
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("read port %s: %w", portID, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT network_id, address, version FROM fixed_ips WHERE port_id = ? ORDER BY version, address`, portID)
	if err != nil {
		return "", "", nil, fmt.Errorf("read fixed IPs of port %s: %w", portID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var f portFixedIP
		if err := rows.Scan(&f.networkID, &f.address, &f.version); err != nil {
			return "", "", nil, fmt.Errorf("scan fixed IP: %w", err)
		}
		fixed = append(fixed, f)
	}
	return project, owner, fixed, rows.Err()
}

// fipServiced is Neutron's utils.is_fip_serviced: any port but a DHCP
// port takes a floating IP.
func fipServiced(owner string) bool { return owner != "network:dhcp" }

// bindToPort associates r with a fixed IP of b's port, with the checks
// of Neutron's _internal_fip_assoc_data and _check_and_get_fip_assoc.
func (s *Service) bindToPort(ctx context.Context, tx *store.Tx, ext External, r Record, b Binding) error {
	project, owner, fixed, err := portOf(ctx, tx, b.PortID)
	if err != nil {
		return err
	}
	if project != r.ProjectID && !b.Admin {
		return BadRequest("Cannot process floating IP association with Port %s, since that port is owned by a different project", b.PortID)
	}
	if !fipServiced(owner) {
		return BadRequest("Port %s is unable to be assigned a floating IP", b.PortID)
	}
	target, err := chooseForPort(fixed, b)
	if err != nil {
		return err
	}
	if r.FixedNetworkID == target.networkID && r.FixedAddress == target.address {
		return nil
	}
	var holder string
	err = tx.QueryRowContext(ctx, `SELECT id FROM floating_ips WHERE fixed_network_id = ? AND fixed_address = ? AND network_id = ?`,
		target.networkID, target.address, r.NetworkID).Scan(&holder)
	if err == nil {
		return errs.Named("FloatingIPPortAlreadyAssociated", errs.Conflict("Cannot associate floating IP %s (%s) with port %s "+
			"using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
			r.Address, r.ID, b.PortID, target.address, ext.NetworkID))
	}
	if !isNoRows(err) {
		return fmt.Errorf("find the floating IP of %s: %w", target.address, err)
	}
	routerID, err := s.routerFor(ctx, tx, ext, target.networkID, target.address, b.PortID)
	if err != nil {
		return err
	}
	return setFixed(ctx, tx, r.ID, &target, routerID)
}

// chooseForPort picks the fixed IP of a port to bind: the one named, else
// its only IPv4 address.
func chooseForPort(fixed []portFixedIP, b Binding) (portFixedIP, error) {
	if b.FixedAddress != "" {
		a, err := netip.ParseAddr(b.FixedAddress)
		if err != nil {
			return portFixedIP{}, errs.Named("InvalidInput", errs.Invalid("Invalid input for fixed_ip_address. Reason: '%s' is not a valid IP address.", b.FixedAddress))
		}
		if !a.Is4() {
			return portFixedIP{}, BadRequest("Cannot process floating IP association with %s, since that is not an IPv4 address", b.FixedAddress)
		}
		for _, f := range fixed {
			if sameAddr(f.address, b.FixedAddress) {
				return f, nil
			}
		}
		return portFixedIP{}, BadRequest("Port %s does not have fixed ip %s", b.PortID, b.FixedAddress)
	}
	var v4 []portFixedIP
	for _, f := range fixed {
		if f.version == 4 {
			v4 = append(v4, f)
		}
	}
	switch len(v4) {
	case 0:
		return portFixedIP{}, BadRequest("Cannot add floating IP to port %s that has no fixed IPv4 addresses", b.PortID)
	case 1:
		return v4[0], nil
	}
	return portFixedIP{}, BadRequest("Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP", b.PortID)
}

// setFixed binds floating IP id to target through routerID (nil:
// unbinds it) and revises it.
func setFixed(ctx context.Context, tx *store.Tx, id string, target *portFixedIP, routerID string) error {
	var netID, addr, router any
	if target != nil {
		netID, addr, router = target.networkID, target.address, routerID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE floating_ips SET fixed_network_id = ?, fixed_address = ?, router_id = ?,
		revision_number = revision_number + 1, updated_at = ? WHERE id = ?`, netID, addr, router, store.Now(), id); err != nil {
		return fmt.Errorf("associate floating IP %s: %w", id, err)
	}
	return nil
}

// Update is a change of a floating IP: its association when Bind is set
// (Bind.PortID "": disassociate), its description when set.
type Update struct {
	Bind        *Binding
	Description *string
}

// UpdateRecord applies u to floating IP id.
func (s *Service) UpdateRecord(ctx context.Context, id string, u Update) (Record, error) {
	var out Record
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := recordIn(ctx, tx, id)
		if err != nil {
			return err
		}
		ext := External{NetworkID: r.NetworkID}
		if u.Bind != nil && u.Bind.PortID == "" {
			if u.Bind.FixedAddress != "" {
				return BadRequest("fixed_ip_address cannot be specified without a port_id")
			}
			if r.FixedAddress != "" {
				if err := setFixed(ctx, tx, id, nil, ""); err != nil {
					return err
				}
			}
		} else if u.Bind != nil {
			if err := s.bindToPort(ctx, tx, ext, r, *u.Bind); err != nil {
				return err
			}
		}
		if u.Description != nil && *u.Description != r.Description {
			// One revision per update, whatever else it changed.
			if _, err := tx.ExecContext(ctx, `UPDATE floating_ips SET description = ?, revision_number = ?,
				updated_at = ? WHERE id = ?`, *u.Description, r.Revision+1, store.Now(), id); err != nil {
				return fmt.Errorf("update floating IP %s: %w", id, err)
			}
		}
		out, err = recordIn(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteRecord releases floating IP id (bound or not) with its port and
// tags.
func (s *Service) DeleteRecord(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := recordIn(ctx, tx, id)
		if err != nil {
			return err
		}
		return remove(ctx, tx, r.ID, r.port)
	})
}

// Tags returns the tags of floating IP id.
func (s *Service) Tags(ctx context.Context, id string) ([]string, error) {
	r, err := s.Record(ctx, id)
	return r.Tags, err
}

// ChangeTags applies c to the tags of floating IP id, revising it when
// they change.
func (s *Service) ChangeTags(ctx context.Context, id string, c network.TagChange) ([]string, error) {
	var out []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := recordIn(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = network.ChangeTags(ctx, tx, KindFloatingIPs, id, c, func() error {
			_, err := tx.ExecContext(ctx, `UPDATE floating_ips SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
				store.Now(), id)
			return err
		})
		return err
	})
	return out, err
}
