package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Group is a Keystone group: users in a domain that can be granted roles
// together.
type Group struct {
	ID          string
	Name        string
	DomainID    string
	Description string
	// Extra holds attributes Keystone does not define, kept and returned.
	Extra map[string]any
}

// GroupPatch lists the fields an update changes (nil: unchanged).
type GroupPatch struct {
	Name        *string
	Description *string
	// Extra attributes are set (a nil value keeps a JSON null).
	Extra map[string]any
}

// GroupFilter narrows ListGroups; zero fields match everything.
type GroupFilter struct {
	Name     string
	DomainID string
	// Inexact filters on name and domain_id.
	Inexact []Inexact
}

const groupColumns = `id, name, domain_id, description, extra`

func scanGroup(row interface{ Scan(...any) error }) (*Group, error) {
	var g Group
	var extra string
	if err := row.Scan(&g.ID, &g.Name, &g.DomainID, &g.Description, &extra); err != nil {
		return nil, err
	}
	var err error
	if g.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("group %s: %w", g.ID, err)
	}
	return &g, nil
}

func getGroup(ctx context.Context, q store.Querier, id string) (*Group, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM identity_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get group %s: %w", id, err)
	}
	return g, nil
}

func queryGroups(ctx context.Context, q store.Querier, query string, args ...any) ([]Group, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		out = append(out, *g)
	}
	return out, rows.Err()
}

func groupAttr(g *Group, name string) (string, bool) {
	switch name {
	case "name":
		return g.Name, true
	case "domain_id":
		return g.DomainID, true
	}
	return "", false
}

// GetGroup returns a group by id.
func (s *Service) GetGroup(ctx context.Context, id string) (*Group, error) {
	return getGroup(ctx, s.db, id)
}

// ListGroups lists groups matching f, ordered by name.
func (s *Service) ListGroups(ctx context.Context, f GroupFilter) ([]Group, error) {
	var c conds
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.DomainID != "" {
		c.add("domain_id = ?", f.DomainID)
	}
	gs, err := queryGroups(ctx, s.db, `SELECT `+groupColumns+` FROM identity_groups`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, err
	}
	return keepInexact(gs, f.Inexact, groupAttr), nil
}

// CreateGroup stores a new group in its domain (the default domain when
// none is given).
func (s *Service) CreateGroup(ctx context.Context, g Group) (*Group, error) {
	if err := requireName(g.Name, nameMax); err != nil {
		return nil, err
	}
	if g.ID == "" {
		g.ID = newID()
	}
	if g.DomainID == "" {
		g.DomainID = DefaultDomainID
	}
	extra, err := encodeExtra(g.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getDomain(ctx, tx, g.DomainID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_groups (id, name, domain_id, description, extra, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			g.ID, g.Name, g.DomainID, g.Description, extra, s.nowMicros())
		if store.IsUniqueViolation(err) {
			return duplicate("group", g.Name, g.DomainID)
		}
		if err != nil {
			return fmt.Errorf("create group: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// UpdateGroup changes a group's name, description or extra attributes.
func (s *Service) UpdateGroup(ctx context.Context, id string, p GroupPatch) (*Group, error) {
	var out *Group
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := getGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if err := requireName(*p.Name, nameMax); err != nil {
				return err
			}
			g.Name = *p.Name
		}
		if p.Description != nil {
			g.Description = *p.Description
		}
		g.Extra = mergeExtra(g.Extra, p.Extra)
		extra, err := encodeExtra(g.Extra)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE identity_groups SET name = ?, description = ?, extra = ? WHERE id = ?`, g.Name, g.Description, extra, id)
		if store.IsUniqueViolation(err) {
			return duplicate("group", g.Name, g.DomainID)
		}
		if err != nil {
			return fmt.Errorf("update group %s: %w", id, err)
		}
		out = g
		return nil
	})
	return out, err
}

// DeleteGroup deletes a group with its memberships and its grants; its
// members lose the roles they held through it.
func (s *Service) DeleteGroup(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getGroup(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM role_assignments WHERE actor_type = 'group' AND actor_id = ?`,
			`DELETE FROM group_members WHERE group_id = ?`,
			`DELETE FROM identity_groups WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete group %s: %w", id, err)
			}
		}
		return nil
	})
}

// checkMembershipParts reports a missing group, then a missing user, with
// Keystone's 404s.
func checkMembershipParts(ctx context.Context, q store.Querier, groupID, userID string) error {
	if _, err := getGroup(ctx, q, groupID); err != nil {
		return err
	}
	_, err := getUser(ctx, q, userID)
	return err
}

func notMember(groupID, userID string) error {
	return errs.NotFound("User '%s' not found in group '%s'", userID, groupID)
}

// AddUserToGroup makes a user a member of a group; adding twice is a
// no-op.
func (s *Service) AddUserToGroup(ctx context.Context, groupID, userID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkMembershipParts(ctx, tx, groupID, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, groupID, userID); err != nil {
			return fmt.Errorf("add user %s to group %s: %w", userID, groupID, err)
		}
		return nil
	})
}

// CheckUserInGroup reports (as a nil error) that the user is a member.
func (s *Service) CheckUserInGroup(ctx context.Context, groupID, userID string) error {
	if err := checkMembershipParts(ctx, s.db, groupID, userID); err != nil {
		return err
	}
	in, err := exists(ctx, s.db, `SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
	if err != nil {
		return err
	}
	if !in {
		return notMember(groupID, userID)
	}
	return nil
}

// RemoveUserFromGroup ends a membership.
func (s *Service) RemoveUserFromGroup(ctx context.Context, groupID, userID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
		if err != nil {
			return fmt.Errorf("remove user %s from group %s: %w", userID, groupID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n > 0 {
			return nil
		}
		// As Keystone: say which of them is missing before "not a member".
		if err := checkMembershipParts(ctx, tx, groupID, userID); err != nil {
			return err
		}
		return notMember(groupID, userID)
	})
}

// GroupUsers lists the members of a group matching f.
func (s *Service) GroupUsers(ctx context.Context, groupID string, f UserFilter) ([]User, error) {
	if _, err := getGroup(ctx, s.db, groupID); err != nil {
		return nil, err
	}
	var c conds
	c.add("id IN (SELECT user_id FROM group_members WHERE group_id = ?)", groupID)
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.DomainID != "" {
		c.add("domain_id = ?", f.DomainID)
	}
	if f.Enabled != nil {
		c.add("enabled = ?", *f.Enabled)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list users in group %s: %w", groupID, err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users in group %s: %w", groupID, err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users in group %s: %w", groupID, err)
	}
	return keepInexact(out, f.Inexact, userAttr), nil
}

// UserGroups lists the groups a user belongs to, matching f.
func (s *Service) UserGroups(ctx context.Context, userID string, f GroupFilter) ([]Group, error) {
	if _, err := getUser(ctx, s.db, userID); err != nil {
		return nil, err
	}
	var c conds
	c.add("id IN (SELECT group_id FROM group_members WHERE user_id = ?)", userID)
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.DomainID != "" {
		c.add("domain_id = ?", f.DomainID)
	}
	gs, err := queryGroups(ctx, s.db, `SELECT `+groupColumns+` FROM identity_groups`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, err
	}
	return keepInexact(gs, f.Inexact, groupAttr), nil
}
