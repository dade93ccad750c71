package compute

// changePassword (Nova's compute API set_admin_password): a synchronous
// call, so the API answers only once the guest has the new password.

import (
	"context"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// eventSetAdminPassword is the event Nova's compute manager records.
const eventSetAdminPassword = "compute_set_admin_password"

// SetAdminPassword changes a server's administrator password and waits
// for the outcome: Nova's lock and state checks (409), task_state
// updating_password and the instance action "changePassword" in one
// transaction, then the call to the server's host with the password
// sealed. A guest that is not running or a failing driver is Nova's 409,
// a driver that cannot set passwords its 501.
func (s *Service) SetAdminPassword(ctx context.Context, p *auth.Principal, id, password, requestID string) error {
	var host, taskID string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionChangePassword, "changePassword", requestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		taskID, err = queueCall(ctx, tx, b.Server, b, CallSetAdminPassword, eventSetAdminPassword, requestID,
			&CallParams{AdminPass: s.Secrets.Seal(password)}, b.Now)
		return err
	})
	if err != nil {
		return err
	}
	answer, err := s.awaitCall(ctx, host, taskID)
	if err != nil {
		return err
	}
	switch answer.Failure {
	case "":
		return nil
	case callNotSupported:
		return &errs.Error{Kind: errs.KindNotImplemented, Message: "Unable to set password on instance"}
	case callNotRunning:
		return errs.Conflict("Failed to set admin password on %s because instance %s is not running", id, id)
	}
	// Nova hides the driver's error, which might show the password.
	return errs.Conflict("Failed to set admin password on %s because error setting admin password", id)
}
