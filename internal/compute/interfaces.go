package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/store"
)

// Events of Nova's interface attach and detach (wrap_instance_event).
const (
	eventAttachInterface = "compute_attach_interface"
	eventDetachInterface = "compute_detach_interface"
)

// AttachInterface gives server id one more port (Nova's os-interface
// attach) and returns the port's id. The guest of the fake driver sees
// its NICs at its next boot; there is no hot-plug task. A refused port
// (not found, in use, ...) is recorded as the action's failed event and
// returned, as Nova's compute answers the API's call.
func (s *Service) AttachInterface(ctx context.Context, p *auth.Principal, id, requestID string, req RequestedNetwork) (string, error) {
	var portID string
	var refused error
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		refused = nil
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := state.Check(state.ActionAttachInterface, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		now := s.now()
		actionID, err := startAction(ctx, tx, srv, string(state.ActionAttachInterface), requestID, p, now)
		if err != nil {
			return err
		}
		portID, err = s.Addresses.AttachInterface(ctx, tx, srv.ProjectID, srv.ID, srv.AZ, req)
		if err == nil && req.Port == "" {
			// Nova makes the port without groups: Neutron gives it the
			// project's default group; a given port keeps its own.
			err = secgroup.ApplyToNewPort(ctx, tx, srv.ProjectID, portID)
		}
		if err != nil && errs.KindOf(err) == errs.KindInternal {
			return err
		}
		refused = err
		return recordEvent(ctx, tx, actionID, eventAttachInterface, srv.Host, now, refused, now)
	})
	if err != nil {
		return "", err
	}
	return portID, refused
}

// DetachInterface takes port portID off server id (Nova's os-interface
// detach). Nova casts the detach to the compute host, so a port the
// server does not have is the action's failed event ("Port X is not
// attached"), not the API's error.
func (s *Service) DetachInterface(ctx context.Context, p *auth.Principal, id, requestID, portID string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := state.Check(state.ActionDetachInterface, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		now := s.now()
		actionID, err := startAction(ctx, tx, srv, string(state.ActionDetachInterface), requestID, p, now)
		if err != nil {
			return err
		}
		err = s.Addresses.DetachInterface(ctx, tx, srv.ID, portID)
		if err != nil && errs.KindOf(err) == errs.KindInternal {
			return err
		}
		if err != nil {
			err = fmt.Errorf("Port %s is not attached", portID)
		}
		return recordEvent(ctx, tx, actionID, eventDetachInterface, srv.Host, now, err, now)
	})
}
