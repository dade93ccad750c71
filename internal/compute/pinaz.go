package compute

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// PinnedAZKey is the system metadata key holding the zone a server is
// pinned to: the one asked for at boot, or set with 2.104's update (Nova
// keeps it as the request spec's availability_zone).
const PinnedAZKey = "pinned_availability_zone"

// PinnedAZ is the zone the server is pinned to, nil when none.
func (s *Server) PinnedAZ() *string {
	if az, ok := s.SystemMetadata[PinnedAZKey]; ok && az != "" {
		return &az
	}
	return nil
}

// SetPinnedAZ pins a server to az or, with nil, unpins it, with Nova's
// 2.104 rules: a server is pinned only to the zone it is in, and a pinned
// zone changes only through unpinning.
func (s *Service) SetPinnedAZ(ctx context.Context, p *auth.Principal, id string, az *string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if !canSee(p, srv) {
			return notFound(id)
		}
		current := srv.PinnedAZ()
		sysmeta := map[string]string{}
		for k, v := range srv.SystemMetadata {
			sysmeta[k] = v
		}
		switch {
		case az == nil:
			if current == nil {
				return nil
			}
			delete(sysmeta, PinnedAZKey)
		case current != nil:
			if *az != *current {
				return errs.Conflict("Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.")
			}
			return nil
		case *az != srv.AZ:
			return errs.Conflict("Server can only be pinned to its current availability zone '%s', but '%s' was requested.", srv.AZ, *az)
		default:
			sysmeta[PinnedAZKey] = *az
		}
		b, err := json.Marshal(sysmeta)
		if err != nil {
			return fmt.Errorf("encode system metadata: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET system_metadata = ?, updated_at = ? WHERE id = ?`,
			string(b), s.now().UnixMicro(), id); err != nil {
			return fmt.Errorf("pin availability zone: %w", err)
		}
		return nil
	})
}
