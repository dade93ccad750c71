package compute

// The admin migrate action (Nova's cold migration: compute API resize
// without a flavor). A cold migration never stays on the server's host
// (the host lacks Nova's COMPUTE_SAME_HOST_COLD_MIGRATE trait): it moves
// to another host with room (move.go), and when there is none it ends as
// Nova's conductor ends it: "No valid host was found", the server back in
// its state, the migration in error.

import (
	"context"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Migrate accepts a cold migration of server id, to host when it is not
// "": the server (404), lock and state (409), its host up (409), the
// target neither its own host nor unknown (400). The destination is
// chosen and claimed in the transaction that accepts it.
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
	var source string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionMigrate, "migrate", requestID, state.Context{})
		if err != nil {
			return err
		}
		source = b.Server.Host
		// Nova saves auto_disk_config = False with every migrate.
		return s.startMove(ctx, tx, p, b, b.Server.Flavor, b.Server.Flavor, "MANUAL", MigrationTypeMigration, host)
	})
	if err != nil {
		return err
	}
	s.wake(source)
	return nil
}
