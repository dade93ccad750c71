package compute

// The admin migrate action (Nova's cold migration: compute API resize
// without a flavor). A cold migration never stays on the server's host
// (the host lacks Nova's COMPUTE_SAME_HOST_COLD_MIGRATE trait), so with
// one compute host it always ends as Nova's conductor ends it: "No valid
// host was found", the server back in its state, the migration in error.

import (
	"context"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// Migrate accepts a cold migration of server id, to host when it is not
// "": the server (404), lock and state (409), its host up (409), the
// target neither its own host nor unknown (400). Moving a guest between
// two kumo hosts is not built yet: when another host could take the
// server the request is refused with a 409 saying so, rather than
// pretending no host fits.
func (s *Service) Migrate(ctx context.Context, p *auth.Principal, id, host, requestID string) error {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if err := state.Check(state.ActionMigrate, instanceOf(srv), p.IsAdmin()); err != nil {
		return err
	}
	if err := s.checkHostUp(ctx, s.DB, srv.Host, s.now()); err != nil {
		return err
	}
	if host != "" {
		if host == srv.Host {
			return errs.Invalid("Cannot migrate to the host where the server exists.")
		}
		var n int
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM compute_hosts WHERE hostname = ?`, host).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalid("Compute host %s could not be found.", host)
		}
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionMigrate, "migrate", requestID, state.Context{})
		if err != nil {
			return err
		}
		c, err := s.requestSpec(ctx, tx, b.Server, b.Server.Flavor)
		if err != nil {
			return err
		}
		other, err := scheduler.OtherHostFits(ctx, tx, c, b.Server.Host, host, b.Now)
		if err != nil {
			return err
		}
		if other {
			return errs.Conflict("Cold migration between compute hosts is not supported by this cloud yet.")
		}
		// Nova saves auto_disk_config = False with every migrate.
		return s.startMove(ctx, tx, p, b, b.Server.Flavor, b.Server.Flavor, "MANUAL", MigrationTypeMigration)
	})
}
