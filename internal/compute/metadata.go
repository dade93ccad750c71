package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// MetadataLimit checks a server's metadata item count against the
// project's metadata_items quota (Nova: 403 on breach).
type MetadataLimit func(ctx context.Context, projectID string, n int) error

// Metadata returns a server's metadata.
func (s *Service) Metadata(ctx context.Context, p *auth.Principal, id string) (map[string]string, error) {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return srv.Metadata, nil
}

// SetMetadata changes a server's metadata: with replace, items becomes the
// whole metadata (PUT on the collection); otherwise items are merged in
// (POST, PUT on one key). limit checks the resulting item count.
func (s *Service) SetMetadata(ctx context.Context, p *auth.Principal, id string, items map[string]string, replace bool, limit MetadataLimit) (map[string]string, error) {
	var out map[string]string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.checkedForMetadata(ctx, tx, p, id, state.ActionUpdateMetadata)
		if err != nil {
			return err
		}
		merged := map[string]string{}
		if !replace {
			for k, v := range srv.Metadata {
				merged[k] = v
			}
		}
		for k, v := range items {
			merged[k] = v
		}
		if limit != nil {
			if err := limit(ctx, srv.ProjectID, len(merged)); err != nil {
				return err
			}
		}
		if replace {
			if _, err := tx.ExecContext(ctx, `DELETE FROM instance_metadata WHERE instance_id = ?`, id); err != nil {
				return fmt.Errorf("clear metadata: %w", err)
			}
		}
		for k, v := range items {
			if _, err := tx.ExecContext(ctx, `DELETE FROM instance_metadata WHERE instance_id = ? AND key = ?`, id, k); err != nil {
				return fmt.Errorf("set metadata: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_metadata (instance_id, key, value) VALUES (?, ?, ?)`, id, k, v); err != nil {
				return fmt.Errorf("set metadata: %w", err)
			}
		}
		if err := s.touch(ctx, tx, id); err != nil {
			return err
		}
		out = merged
		return nil
	})
	return out, err
}

// DeleteMetadataItem removes one key (404 when absent, as Nova).
func (s *Service) DeleteMetadataItem(ctx context.Context, p *auth.Principal, id, key string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		// Nova looks for the key before it checks the server's state.
		srv, err := s.get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if !canSee(p, srv) {
			return notFound(id)
		}
		if _, ok := srv.Metadata[key]; !ok {
			return errs.NotFound("Metadata item was not found")
		}
		if err := state.Check(state.ActionDeleteMetadata, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM instance_metadata WHERE instance_id = ? AND key = ?`, id, key); err != nil {
			return fmt.Errorf("delete metadata: %w", err)
		}
		return s.touch(ctx, tx, id)
	})
}

func (s *Service) checkedForMetadata(ctx context.Context, tx *store.Tx, p *auth.Principal, id string, a state.Action) (*Server, error) {
	srv, err := s.get(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	if !canSee(p, srv) {
		return nil, notFound(id)
	}
	if err := state.Check(a, instanceOf(srv), p.IsAdmin()); err != nil {
		return nil, err
	}
	return srv, nil
}

func (s *Service) touch(ctx context.Context, tx *store.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET updated_at = ? WHERE id = ?`, s.now().UnixMicro(), id); err != nil {
		return fmt.Errorf("touch server: %w", err)
	}
	return nil
}
