package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// MaxRedelegationCount is Keystone's [trust] max_redelegation_count: the
// depth a redelegatable trust gets when none is asked for.
const MaxRedelegationCount = 3

// Trust is Keystone's OS-TRUST trust: the trustor delegates some of its
// roles on a project to the trustee.
type Trust struct {
	ID                 string
	TrustorUserID      string
	TrusteeUserID      string
	ProjectID          string // "" for a trust without a project
	Impersonation      bool
	ExpiresAt          *time.Time
	RemainingUses      *int
	RedelegatedTrustID string
	RedelegationCount  int
	RoleIDs            []string
	// Extra holds the attributes Keystone does not define, kept and
	// returned as its trust table's extra does.
	Extra map[string]any
}

// TrustRoleRef names a role of a new trust by id or by (global) name.
type TrustRoleRef struct {
	ID   string
	Name string
}

// NewTrust is a trust to create. AllowRedelegation and a nil
// RedelegationCount follow Keystone's defaults.
type NewTrust struct {
	TrustorUserID     string
	TrusteeUserID     string
	ProjectID         string
	Impersonation     bool
	ExpiresAt         *time.Time
	RemainingUses     *int
	AllowRedelegation bool
	RedelegationCount *int
	Roles             []TrustRoleRef
	Extra             map[string]any
}

// TrustFilter narrows ListTrusts (zero: all trusts).
type TrustFilter struct {
	TrustorUserID string
	TrusteeUserID string
}

// CreateTrust makes a trust as Keystone's trust API does once the caller
// is known to be the trustor: the trustee must exist, every role must be
// one the trustor holds on the project, and redelegation excludes a use
// limit.
func (s *Service) CreateTrust(ctx context.Context, n NewTrust) (*Trust, error) {
	if n.ProjectID != "" && len(n.Roles) == 0 {
		return nil, errs.Forbidden("You are not authorized to perform the requested action: At least one role should be specified.")
	}
	t := &Trust{ID: newID(), TrustorUserID: n.TrustorUserID, TrusteeUserID: n.TrusteeUserID, ProjectID: n.ProjectID,
		Impersonation: n.Impersonation, ExpiresAt: n.ExpiresAt, RemainingUses: n.RemainingUses, Extra: n.Extra}
	redelegatable := n.AllowRedelegation && (n.RedelegationCount == nil || *n.RedelegationCount != 0)
	switch {
	case !redelegatable:
		if n.RemainingUses != nil && *n.RemainingUses <= 0 {
			return nil, errs.Invalid("remaining_uses must be a positive integer or null.")
		}
	case n.RedelegationCount != nil && *n.RedelegationCount > MaxRedelegationCount:
		return nil, errs.Forbidden("Requested redelegation depth of %d is greater than allowed %d", *n.RedelegationCount, MaxRedelegationCount)
	case n.RemainingUses != nil:
		return nil, errs.Invalid("remaining_uses must not be set if redelegation is allowed")
	default:
		t.RedelegationCount = MaxRedelegationCount
		if n.RedelegationCount != nil {
			t.RedelegationCount = *n.RedelegationCount
		}
	}
	extra, err := encodeExtra(n.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getUser(ctx, tx, n.TrusteeUserID); err != nil {
			return err
		}
		ids, err := s.trustRoleIDs(ctx, tx, n.Roles)
		if err != nil {
			return err
		}
		if n.ProjectID != "" {
			if _, err := getProject(ctx, tx, n.ProjectID); err != nil {
				return err
			}
		}
		held, err := s.trustorRoleIDs(ctx, n.TrustorUserID, n.ProjectID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.Contains(held, id) {
				return notFound("role", id)
			}
		}
		t.RoleIDs = ids
		_, err = tx.ExecContext(ctx, `INSERT INTO trusts (id, trustor_user_id, trustee_user_id, project_id, impersonation,
			expires_at, remaining_uses, redelegation_count, extra, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TrustorUserID, t.TrusteeUserID, t.ProjectID, t.Impersonation, microsOrNil(t.ExpiresAt), t.RemainingUses,
			t.RedelegationCount, extra, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create trust: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO trust_roles (trust_id, role_id) VALUES (?, ?)`, t.ID, id); err != nil {
				return fmt.Errorf("create trust role: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// trustRoleIDs resolves a new trust's roles, by id as given or by unique
// name, without repeats.
func (s *Service) trustRoleIDs(ctx context.Context, q store.Querier, refs []TrustRoleRef) ([]string, error) {
	var out []string
	for _, r := range refs {
		id := r.ID
		if id == "" {
			var ids []string
			rows, err := q.QueryContext(ctx, `SELECT id FROM roles WHERE name = ? AND domain_id = ''`, r.Name)
			if err != nil {
				return nil, fmt.Errorf("find role %s: %w", r.Name, err)
			}
			for rows.Next() {
				var x string
				if err := rows.Scan(&x); err != nil {
					rows.Close()
					return nil, fmt.Errorf("find role %s: %w", r.Name, err)
				}
				ids = append(ids, x)
			}
			rows.Close()
			if len(ids) != 1 {
				return nil, notFound("role", r.Name)
			}
			id = ids[0]
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// trustorRoleIDs are the roles the trustor holds on the project (none
// without a project): the token's own view of them (rolesOn), so that a
// trust delegates exactly what the trustor's project token would carry,
// as Keystone checks effective assignments.
func (s *Service) trustorRoleIDs(ctx context.Context, userID, projectID string) ([]string, error) {
	if projectID == "" {
		return nil, nil
	}
	roles, err := s.rolesOn(ctx, userID, "project", projectID)
	if err != nil {
		return nil, fmt.Errorf("list roles of trustor %s: %w", userID, err)
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, r.ID)
	}
	return out, nil
}

const trustColumns = `id, trustor_user_id, trustee_user_id, project_id, impersonation, expires_at, remaining_uses,
	redelegated_trust_id, redelegation_count, extra`

// liveTrust is the condition of a usable trust, as Keystone's driver
// filters get_trust: not deleted, not expired, uses left.
const liveTrust = `deleted_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (remaining_uses IS NULL OR remaining_uses > 0)`

func scanTrust(row interface{ Scan(...any) error }) (*Trust, error) {
	var t Trust
	var expires sql.NullInt64
	var uses sql.NullInt64
	var extra string
	if err := row.Scan(&t.ID, &t.TrustorUserID, &t.TrusteeUserID, &t.ProjectID, &t.Impersonation, &expires, &uses,
		&t.RedelegatedTrustID, &t.RedelegationCount, &extra); err != nil {
		return nil, err
	}
	if expires.Valid {
		e := store.Time(expires.Int64)
		t.ExpiresAt = &e
	}
	if uses.Valid {
		u := int(uses.Int64)
		t.RemainingUses = &u
	}
	x, err := decodeExtra(extra)
	if err != nil {
		return nil, err
	}
	t.Extra = x
	return &t, nil
}

// getTrust returns a live trust with its roles, or Keystone's 404.
func (s *Service) getTrust(ctx context.Context, q store.Querier, id string) (*Trust, error) {
	t, err := scanTrust(q.QueryRowContext(ctx, `SELECT `+trustColumns+` FROM trusts WHERE id = ? AND `+liveTrust, id, s.nowMicros()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("trust", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get trust %s: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT role_id FROM trust_roles WHERE trust_id = ? ORDER BY role_id`, id)
	if err != nil {
		return nil, fmt.Errorf("get roles of trust %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("get roles of trust %s: %w", id, err)
		}
		t.RoleIDs = append(t.RoleIDs, r)
	}
	return t, rows.Err()
}

// GetTrust returns a live trust, with its role ids.
func (s *Service) GetTrust(ctx context.Context, id string) (*Trust, error) {
	return s.getTrust(ctx, s.db, id)
}

// ListTrusts lists the live trusts, oldest first, without their roles.
func (s *Service) ListTrusts(ctx context.Context, f TrustFilter) ([]Trust, error) {
	var c conds
	c.add(liveTrust, s.nowMicros())
	if f.TrustorUserID != "" {
		c.add(`trustor_user_id = ?`, f.TrustorUserID)
	}
	if f.TrusteeUserID != "" {
		c.add(`trustee_user_id = ?`, f.TrusteeUserID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+trustColumns+` FROM trusts`+c.where()+` ORDER BY created_at, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list trusts: %w", err)
	}
	defer rows.Close()
	var out []Trust
	for rows.Next() {
		t, err := scanTrust(rows)
		if err != nil {
			return nil, fmt.Errorf("list trusts: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// DeleteTrust marks a live trust deleted, as Keystone's soft delete, and
// with it the tokens issued through it.
func (s *Service) DeleteTrust(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE trusts SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, s.nowMicros(), id)
		if err != nil {
			return fmt.Errorf("delete trust %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete trust %s: %w", id, err)
		} else if n == 0 {
			return notFound("trust", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = TRUE WHERE trust_id = ?`, id); err != nil {
			return fmt.Errorf("revoke tokens of trust %s: %w", id, err)
		}
		return nil
	})
}

// consumeTrustUse takes one use of a limited trust, optimistically as
// Keystone's driver does; a trust without uses left is not found.
func (s *Service) consumeTrustUse(ctx context.Context, tr *Trust) error {
	if tr.RemainingUses == nil {
		return nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE trusts SET remaining_uses = remaining_uses - 1
		WHERE id = ? AND deleted_at IS NULL AND remaining_uses > 0`, tr.ID)
	if err != nil {
		return fmt.Errorf("consume trust %s: %w", tr.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("consume trust %s: %w", tr.ID, err)
	} else if n == 0 {
		return notFound("trust", tr.ID)
	}
	return nil
}

// TokenTrust is the trust a token was issued through, as the token's
// OS-TRUST:trust block shows it.
type TokenTrust struct {
	ID            string
	TrustorUserID string
	TrusteeUserID string
	Impersonation bool
}

// scopeToTrust scopes t, issued to user, to the trust's project with the
// trust's roles the trustor still holds there. Only the trustee may use a
// trust.
func (s *Service) scopeToTrust(ctx context.Context, t *Token, user *User, trustID string) (*Trust, error) {
	tr, err := s.getTrust(ctx, s.db, trustID)
	if err != nil {
		return nil, err
	}
	if tr.TrusteeUserID != user.ID {
		return nil, errs.Forbidden("User is not a trustee.")
	}
	t.Trust = &TokenTrust{ID: tr.ID, TrustorUserID: tr.TrustorUserID, TrusteeUserID: tr.TrusteeUserID, Impersonation: tr.Impersonation}
	if tr.ProjectID != "" {
		p, err := getProject(ctx, s.db, tr.ProjectID)
		if err != nil {
			return nil, err
		}
		d, err := getDomain(ctx, s.db, p.DomainID)
		if err != nil {
			return nil, err
		}
		t.ProjectID, t.ProjectName, t.ProjectDomainID, t.ProjectDomainName = p.ID, p.Name, d.ID, d.Name
	}
	if err := s.applyTrust(ctx, s.db, t, tr); err != nil {
		return nil, err
	}
	if tr.ExpiresAt != nil && tr.ExpiresAt.Before(t.ExpiresAt) {
		t.ExpiresAt = truncMicro(*tr.ExpiresAt)
	}
	return tr, nil
}

// applyTrust gives a trust-scoped token the trust's roles the trustor
// still holds on its project, and the trustor as its user when the trust
// impersonates. The trustor must be enabled.
func (s *Service) applyTrust(ctx context.Context, q store.Querier, t *Token, tr *Trust) error {
	trustor, err := getUser(ctx, q, tr.TrustorUserID)
	if err != nil {
		return errs.Forbidden("Trustor is disabled.")
	}
	if !trustor.Enabled {
		return errs.Forbidden("Trustor is disabled.")
	}
	held, err := s.trustorRoleIDs(ctx, tr.TrustorUserID, tr.ProjectID)
	if err != nil {
		return err
	}
	t.Roles = nil
	for _, id := range tr.RoleIDs {
		if !slices.Contains(held, id) {
			continue
		}
		r, err := getRole(ctx, q, id)
		if errs.Is(err, errs.KindNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		t.Roles = append(t.Roles, Role{ID: r.ID, Name: r.Name})
	}
	if len(t.Roles) == 0 {
		return errs.Forbidden("Trustee has no delegated roles.")
	}
	if tr.Impersonation {
		d, err := getDomain(ctx, q, trustor.DomainID)
		if err != nil {
			return err
		}
		t.UserID, t.UserName, t.UserDomainID, t.UserDomainName = trustor.ID, trustor.Name, d.ID, d.Name
	}
	return nil
}

func microsOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}
