package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// AttachInterface gives instanceID one more port (Nova's os-interface
// attach): the given port req.PortID, or a new one on req.NetworkID (the
// project's default network when empty) with req.FixedIP. It returns the
// port's id; errors are Allocate's.
func (m *Manager) AttachInterface(ctx context.Context, tx *store.Tx, projectID, instanceID, zone string, req NetworkRequest) (string, error) {
	plans, err := m.plan(ctx, tx, projectID, Request{Networks: []NetworkRequest{req}})
	if err != nil {
		return "", err
	}
	var next int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), -1) + 1 FROM network_ports WHERE instance_id = ?`,
		instanceID).Scan(&next); err != nil {
		return "", fmt.Errorf("count the ports of instance %s: %w", instanceID, err)
	}
	p := plans[0]
	if p.given != nil {
		_, err := bindPort(ctx, tx, *p.given, instanceID, deviceOwner(zone), p.tag, next)
		return p.given.id, err
	}
	id, _, err := m.allocatePort(ctx, tx, projectID, instanceID, deviceOwner(zone), next, store.Now(), p)
	if err != nil && id != "" && errs.KindOf(err) != errs.KindInternal {
		// Leave the transaction usable for the caller's failed event.
		if derr := deletePorts(ctx, tx, []string{id}); derr != nil {
			return "", derr
		}
	}
	return id, err
}

// DetachInterface takes port portID off instanceID (Nova's os-interface
// detach): a port Nova made is deleted, a given one unbound. A port the
// instance does not have is Nova's PortNotFound.
func (m *Manager) DetachInterface(ctx context.Context, tx *store.Tx, instanceID, portID string) error {
	var preserved bool
	err := tx.QueryRowContext(ctx, `SELECT preserve_on_delete FROM network_ports WHERE id = ? AND instance_id = ?`,
		portID, instanceID).Scan(&preserved)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return portNotFound(portID)
	case err != nil:
		return fmt.Errorf("look up port %s: %w", portID, err)
	case preserved:
		return unbindWhere(ctx, tx, "id = ?", portID)
	}
	return deletePorts(ctx, tx, []string{portID})
}
