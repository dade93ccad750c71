package compute

import (
	"context"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// MaxServerTags is Nova's per-server tag limit (objects.instance.MAX_TAG_COUNT).
const MaxServerTags = 50

// Tags returns a server's tags, sorted.
func (s *Service) Tags(ctx context.Context, p *auth.Principal, id string) ([]string, error) {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return srv.Tags, nil
}

// AddTag adds one tag; created is false when the server already had it.
// valid checks the tag after the server's state, in Nova's order.
func (s *Service) AddTag(ctx context.Context, p *auth.Principal, id, tag string, valid func(string) error) (created bool, err error) {
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.checkedForMetadata(ctx, tx, p, id, state.ActionUpdateTag)
		if err != nil {
			return err
		}
		if err := valid(tag); err != nil {
			return err
		}
		if len(srv.Tags) >= MaxServerTags {
			return errs.Invalid("The number of tags exceeded the per-server limit %d", MaxServerTags)
		}
		if slices.Contains(srv.Tags, tag) {
			created = false
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO instance_tags (instance_id, tag) VALUES (?, ?)`, id, tag); err != nil {
			return fmt.Errorf("add server tag: %w", err)
		}
		created = true
		return s.touch(ctx, tx, id)
	})
	return created, err
}

// ReplaceTags makes tags the server's whole tag set and returns it.
func (s *Service) ReplaceTags(ctx context.Context, p *auth.Principal, id string, tags []string) ([]string, error) {
	var out []string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.checkedForMetadata(ctx, tx, p, id, state.ActionUpdateTags); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM instance_tags WHERE instance_id = ?`, id); err != nil {
			return fmt.Errorf("replace server tags: %w", err)
		}
		out = []string{}
		for _, t := range tags {
			if slices.Contains(out, t) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_tags (instance_id, tag) VALUES (?, ?)`, id, t); err != nil {
				return fmt.Errorf("replace server tags: %w", err)
			}
			out = append(out, t)
		}
		slices.Sort(out)
		return s.touch(ctx, tx, id)
	})
	return out, err
}

// DeleteTag removes one tag (404 when the server does not have it).
func (s *Service) DeleteTag(ctx context.Context, p *auth.Principal, id, tag string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.checkedForMetadata(ctx, tx, p, id, state.ActionDeleteTag); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM instance_tags WHERE instance_id = ? AND tag = ?`, id, tag)
		if err != nil {
			return fmt.Errorf("delete server tag: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete server tag: %w", err)
		} else if n == 0 {
			return errs.NotFound("Instance %s has no tag '%s'", id, tag)
		}
		return s.touch(ctx, tx, id)
	})
}

// DeleteAllTags removes every tag of a server.
func (s *Service) DeleteAllTags(ctx context.Context, p *auth.Principal, id string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.checkedForMetadata(ctx, tx, p, id, state.ActionDeleteTags); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM instance_tags WHERE instance_id = ?`, id); err != nil {
			return fmt.Errorf("delete server tags: %w", err)
		}
		return s.touch(ctx, tx, id)
	})
}
