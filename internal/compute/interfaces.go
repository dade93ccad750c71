package compute

// Interface attach and detach (Nova's os-interface). The API binds or
// makes the port, then the server's host plugs it into the guest: attach
// is a call the API waits on (Nova's compute RPC attach_interface), and a
// host that cannot plug it deletes or unbinds the port again; detach is a
// cast, and the port goes once the host has unplugged it.

import (
	"context"
	"fmt"
	"time"

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
// attach) and returns the port's id once the server's host has plugged
// it. A refused port (not found, in use, ...) is recorded as the action's
// failed event and returned, as Nova's compute answers the API's call; a
// host that fails to plug it is Nova's InterfaceAttachFailed (500), one
// whose driver cannot hot-plug its AttachInterfaceNotSupported (400).
func (s *Service) AttachInterface(ctx context.Context, p *auth.Principal, id, requestID string, req RequestedNetwork) (string, error) {
	var portID, host, taskID string
	var refused error
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		refused = nil
		b, err := s.beginAction(ctx, tx, p, id, state.ActionAttachInterface, string(state.ActionAttachInterface), requestID, state.Context{})
		if err != nil {
			return err
		}
		srv := b.Server
		host = srv.Host
		portID, err = s.Addresses.AttachInterface(ctx, tx, srv.ProjectID, srv.ID, srv.AZ, req)
		if err == nil && req.Port == "" {
			// Nova makes the port without groups: Neutron gives it the
			// project's default group; a given port keeps its own.
			err = secgroup.ApplyToNewPort(ctx, tx, srv.ProjectID, portID)
		}
		if err != nil && errs.KindOf(err) == errs.KindInternal {
			return err
		}
		if err != nil {
			refused = err
			return recordEvent(ctx, tx, b.ActionID, eventAttachInterface, host, b.Now, refused, b.Now)
		}
		taskID, err = queueCall(ctx, tx, srv, b, CallAttachInterface, eventAttachInterface, requestID,
			&CallParams{PortID: portID}, b.Now)
		return err
	})
	if err != nil {
		return "", err
	}
	if refused != nil {
		return "", refused
	}
	answer, err := s.awaitCall(ctx, host, taskID)
	if err != nil {
		return "", err
	}
	switch answer.Failure {
	case "":
		return portID, nil
	case callNotSupported:
		return "", errs.Invalid("Attaching interfaces is not supported for instance %s.", id)
	}
	return "", &errs.Error{Kind: errs.KindInternal, Message: fmt.Sprintf("Failed to attach network adapter device to %s", id)}
}

// DetachInterface takes port portID off server id (Nova's os-interface
// detach): a cast to the server's host, which unplugs it; the port is
// deleted or unbound once it has. A port the server does not have is the
// action's failed event ("Port X is not attached"), not the API's error.
func (s *Service) DetachInterface(ctx context.Context, p *auth.Principal, id, requestID, portID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionDetachInterface, string(state.ActionDetachInterface), requestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		_, err = queueCall(ctx, tx, b.Server, b, CallDetachInterface, eventDetachInterface, requestID,
			&CallParams{PortID: portID}, b.Now)
		return err
	})
	if err == nil {
		s.wake(host)
	}
	return err
}

// finishInterfaceCall commits what the host did with an interface call,
// as Nova's compute manager does: a port it failed to plug is deallocated
// (deleted if Nova made it, else unbound), a port it unplugged too; the
// event carries the host's result.
func (s *Service) finishInterfaceCall(ctx context.Context, tx *store.Tx, t *Task, started time.Time, opErr error) error {
	portID := CallPort(t)
	release := CallOf(t) == CallAttachInterface && opErr != nil || CallOf(t) == CallDetachInterface && opErr == nil
	if release {
		err := s.Addresses.DetachInterface(ctx, tx, t.InstanceID, portID)
		if err != nil && errs.KindOf(err) == errs.KindInternal {
			return err
		}
		if err != nil && opErr == nil {
			opErr = fmt.Errorf("Port %s is not attached", portID) //nolint:staticcheck // Nova's PortNotFound text
		}
	}
	now := s.now()
	if err := recordEvent(ctx, tx, t.ActionID, t.Plan().Event, t.Host, started, opErr, now); err != nil {
		return err
	}
	return finishTask(ctx, tx, t, opErr != nil, now)
}
