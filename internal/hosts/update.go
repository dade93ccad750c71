package hosts

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ServiceChange is an update of a host's compute service flags; nil
// fields are left alone. Reason is written whenever Disabled is set.
type ServiceChange struct {
	Disabled   *bool
	Reason     *string
	ForcedDown *bool
}

// UpdateService applies the change to the host's service and returns the
// host as stored. A disabled or forced-down host gets no new servers:
// the scheduler reads these flags.
func (d *Directory) UpdateService(ctx context.Context, hostname string, c ServiceChange) (Host, error) {
	now := d.Now()
	err := d.db.InTx(ctx, func(tx *store.Tx) error {
		sets, args := "updated_at = ?", []any{now.UnixMicro()}
		if c.Disabled != nil {
			sets += ", disabled = ?, disabled_reason = ?"
			args = append(args, *c.Disabled, c.Reason)
		}
		if c.ForcedDown != nil {
			sets += ", forced_down = ?"
			args = append(args, *c.ForcedDown)
		}
		res, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET `+sets+` WHERE hostname = ?`, append(args, hostname)...)
		if err != nil {
			return fmt.Errorf("update service of %s: %w", hostname, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update service of %s: %w", hostname, err)
		} else if n == 0 {
			return errs.NotFound("Compute host %s could not be found.", hostname)
		}
		return nil
	})
	if err != nil {
		return Host{}, err
	}
	return d.GetByName(ctx, hostname)
}

// hostingServersMessage is why a host holding servers cannot be deleted.
const hostingServersMessage = "Unable to delete compute service that is hosting instances. Migrate or delete the instances first."

// Delete removes the host's record, refusing (errs.Conflict) while live
// servers are placed there, as Nova does for its compute service.
func (d *Directory) Delete(ctx context.Context, hostname string) error {
	return d.db.InTx(ctx, func(tx *store.Tx) error {
		l, err := d.servers.HostLoad(ctx, tx, hostname)
		if err != nil {
			return err
		}
		if l.Servers > 0 {
			return errs.Conflict(hostingServersMessage)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM compute_hosts WHERE hostname = ?`, hostname)
		if err != nil {
			return fmt.Errorf("delete host %s: %w", hostname, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete host %s: %w", hostname, err)
		} else if n == 0 {
			return errs.NotFound("Compute host %s could not be found.", hostname)
		}
		return nil
	})
}
