package identity

// Keystone's policy API: documents (blob, type) it stores and returns,
// never enforces.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// Policy is a stored policy document.
type Policy struct {
	ID    string
	Type  string
	Blob  string
	Extra map[string]any
}

const policyColumns = `id, type, blob, extra`

func scanPolicy(row interface{ Scan(...any) error }) (*Policy, error) {
	var p Policy
	var extra string
	if err := row.Scan(&p.ID, &p.Type, &p.Blob, &extra); err != nil {
		return nil, err
	}
	var err error
	if p.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("policy %s: %w", p.ID, err)
	}
	return &p, nil
}

func getPolicy(ctx context.Context, q store.Querier, id string) (*Policy, error) {
	p, err := scanPolicy(q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("policy", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get policy %s: %w", id, err)
	}
	return p, nil
}

// GetPolicy returns a policy.
func (s *Service) GetPolicy(ctx context.Context, id string) (*Policy, error) {
	return getPolicy(ctx, s.db, id)
}

// ListPolicies lists policies, oldest first, of a type when not empty
// and passing Keystone's inexact filters on type.
func (s *Service) ListPolicies(ctx context.Context, typ string, inexact ...Inexact) ([]Policy, error) {
	q, args := `SELECT `+policyColumns+` FROM policies`, []any{}
	if typ != "" {
		q, args = q+` WHERE type = ?`, append(args, typ)
	}
	out, err := listRows(ctx, s.db, "policies", q+` ORDER BY created_at, id`, args, scanPolicy)
	if err != nil {
		return nil, err
	}
	return keepInexact(out, inexact, func(p *Policy, name string) (string, bool) { return p.Type, name == "type" }), nil
}

// CreatePolicy stores a policy.
func (s *Service) CreatePolicy(ctx context.Context, p Policy) (*Policy, error) {
	if p.ID == "" {
		p.ID = newID()
	}
	extra, err := encodeExtra(p.Extra)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO policies (id, type, blob, extra, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, p.Type, p.Blob, extra, s.nowMicros()); err != nil {
		return nil, fmt.Errorf("create policy: %w", err)
	}
	return s.GetPolicy(ctx, p.ID)
}

// PolicyPatch is an update of a policy; nil fields are left alone.
type PolicyPatch struct {
	Type, Blob *string
	Extra      map[string]any
}

// UpdatePolicy updates a policy.
func (s *Service) UpdatePolicy(ctx context.Context, id string, pp PolicyPatch) (*Policy, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := getPolicy(ctx, tx, id)
		if err != nil {
			return err
		}
		if pp.Type != nil {
			p.Type = *pp.Type
		}
		if pp.Blob != nil {
			p.Blob = *pp.Blob
		}
		extra, err := encodeExtra(mergeExtra(p.Extra, pp.Extra))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policies SET type = ?, blob = ?, extra = ? WHERE id = ?`, p.Type, p.Blob, extra, id); err != nil {
			return fmt.Errorf("update policy %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetPolicy(ctx, id)
}

// DeletePolicy deletes a policy.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM policies WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete policy %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete policy %s: %w", id, err)
	} else if n == 0 {
		return notFound("policy", id)
	}
	return nil
}
