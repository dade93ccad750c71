package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// givenPort is a port a server create names ("port" in Nova's networks),
// made before through the networking API.
type givenPort struct {
	id, networkID, network, mac string
	fixedIPs                    int
}

// Nova's errors for a given port (nova/exception.py), as server create
// answers them: PortInUse is 409, PortRequiresFixedIP 400.

func portInUse(id string) error {
	return errs.Conflict("Port %s is still in use.", id)
}

func portRequiresFixedIP(id string) error {
	return errs.Invalid("Port %s requires a FixedIP in order to be used.", id)
}

// checkGivenPort loads port id for a server of projectID and checks it
// as Nova does: it must be the project's (else PortNotFound, as Neutron
// hides others' ports), free (PortInUse) and have an address
// (PortRequiresFixedIP: a port on a network without subnets).
func checkGivenPort(ctx context.Context, tx *store.Tx, projectID, id string) (givenPort, error) {
	var p givenPort
	var owner, device string
	err := tx.QueryRowContext(ctx, `SELECT p.id, p.network_id, n.name, p.mac, p.project_id, p.instance_id,
			(SELECT COUNT(*) FROM fixed_ips f WHERE f.port_id = p.id)
		FROM network_ports p JOIN networks n ON n.id = p.network_id WHERE p.id = ?`, id).
		Scan(&p.id, &p.networkID, &p.network, &p.mac, &owner, &device, &p.fixedIPs)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return p, portNotFound(id)
	case err != nil:
		return p, fmt.Errorf("look up port %s: %w", id, err)
	case owner != projectID:
		return p, portNotFound(id)
	case device != "":
		return p, portInUse(id)
	case p.fixedIPs == 0:
		return p, portRequiresFixedIP(id)
	}
	return p, nil
}

// bindPort makes the given port instanceID's: device_id, device_owner
// "compute:<zone>", its position among the server's NICs and device tag,
// and marks it to survive the server. It is PortInUse when someone bound
// it since it was checked.
func bindPort(ctx context.Context, tx *store.Tx, p givenPort, instanceID, owner, tag string, position int) ([]Address, error) {
	var tagArg any
	if tag != "" {
		tagArg = tag
	}
	res, err := tx.ExecContext(ctx, `UPDATE network_ports SET instance_id = ?, device_owner = ?, tag = ?, position = ?,
		preserve_on_delete = TRUE, revision_number = revision_number + 1, updated_at = ? WHERE id = ? AND instance_id = ''`,
		instanceID, owner, tagArg, position, store.Now(), p.id)
	if err != nil {
		return nil, fmt.Errorf("bind port %s: %w", p.id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("bind port %s: %w", p.id, err)
	} else if n == 0 {
		return nil, portInUse(p.id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fixed_ips SET instance_id = ? WHERE port_id = ?`, instanceID, p.id); err != nil {
		return nil, fmt.Errorf("bind the addresses of port %s: %w", p.id, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT address, version FROM fixed_ips WHERE port_id = ? ORDER BY version, address`, p.id)
	if err != nil {
		return nil, fmt.Errorf("addresses of port %s: %w", p.id, err)
	}
	defer rows.Close()
	var out []Address
	for rows.Next() {
		a := Address{NetworkID: p.networkID, Network: p.network, PortID: p.id, MAC: p.mac, Type: "fixed", Tag: tag}
		if err := rows.Scan(&a.Addr, &a.Version); err != nil {
			return nil, fmt.Errorf("scan address of port %s: %w", p.id, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// unbindPorts detaches the preserved ports of instanceID: they keep
// their addresses and MAC but lose their device, owner, tag and binding
// (host and profile), as Nova leaves a port it did not make.
func unbindPorts(ctx context.Context, tx *store.Tx, instanceID string) error {
	return unbindWhere(ctx, tx, "instance_id = ? AND preserve_on_delete", instanceID)
}

// unbindWhere unbinds the ports matching where (over network_ports).
func unbindWhere(ctx context.Context, tx *store.Tx, where string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `UPDATE fixed_ips SET instance_id = '' WHERE port_id IN
		(SELECT id FROM network_ports WHERE `+where+`)`, args...); err != nil {
		return fmt.Errorf("unbind port addresses: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET instance_id = '', device_owner = '', tag = NULL,
		binding_host = '', binding_profile = '{}', preserve_on_delete = FALSE, revision_number = revision_number + 1, updated_at = ?
		WHERE `+where, append([]any{store.Now()}, args...)...); err != nil {
		return fmt.Errorf("unbind ports: %w", err)
	}
	return nil
}
