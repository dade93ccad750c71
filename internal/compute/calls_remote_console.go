package compute

// Remote consoles (Nova's compute API get_vnc_console,
// get_serial_console, ...): the server's host, if its console may be
// asked for now; the console service asks that host for the console.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ConsoleHost returns the host of server id for a console the caller
// asks for by Nova's method name (get_vnc_console, ...): Nova's
// check_instance_host (no host: 409 "not ready"), reject_instance_state
// (deleting or migrating: 409, worded as InstanceInvalidState) and, as
// its compute manager answers for a guest still building, not ready.
func (s *Service) ConsoleHost(ctx context.Context, p *auth.Principal, id, method string) (string, error) {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		in := instanceOf(srv)
		switch {
		case in.Host == "" || in.VMState == state.VMBuilding:
			return errs.Conflict("Instance %s is not ready", id)
		case in.TaskState == state.TaskDeleting || in.TaskState == state.TaskMigrating:
			return errs.Conflict("Cannot '%s' instance %s while it is in task_state %s", method, id, in.TaskState)
		}
		host = srv.Host
		return nil
	})
	return host, err
}

// ServerHost is the host of live server id ("" when it has none or is
// gone): where its console is.
func (v *Inventory) ServerHost(ctx context.Context, id string) (string, error) {
	var host string
	err := v.db.QueryRowContext(ctx, `SELECT COALESCE(host, '') FROM instances WHERE id = ? AND deleted = FALSE`, id).Scan(&host)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up the host of server %s: %w", id, err)
	}
	return host, nil
}
