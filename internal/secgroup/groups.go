package secgroup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// isUUID is oslo's is_uuid_like, which Nova's validate_id uses.
func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// EnsureDefault returns the id of the project's default group, creating
// it with Neutron's default rules when the project has none yet. The
// UNIQUE default_of column makes concurrent first uses agree on one.
func EnsureDefault(ctx context.Context, tx *store.Tx, projectID string) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM security_groups WHERE default_of = ?`, projectID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("look up default security group: %w", err)
	}
	id, now := uuid.NewString(), time.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO security_groups (id, project_id, name, description, default_of,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (default_of) DO NOTHING`,
		id, projectID, DefaultName, "Default security group", projectID, now.UnixMicro(), now.UnixMicro())
	if err != nil {
		return "", fmt.Errorf("create default security group: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 { // created meanwhile by another request
		if err := tx.QueryRowContext(ctx, `SELECT id FROM security_groups WHERE default_of = ?`, projectID).Scan(&id); err != nil {
			return "", fmt.Errorf("look up default security group: %w", err)
		}
		return id, nil
	}
	// Neutron's default group: all egress, and ingress from its own
	// members, for both IP versions.
	for _, r := range []Rule{
		{Direction: "egress", Ethertype: "IPv4"}, {Direction: "egress", Ethertype: "IPv6"},
		{Direction: "ingress", Ethertype: "IPv4", RemoteGroupID: &id}, {Direction: "ingress", Ethertype: "IPv6", RemoteGroupID: &id},
	} {
		r.GroupID, r.ProjectID = id, projectID
		if err := insertRule(ctx, tx, &r, now); err != nil {
			return "", err
		}
	}
	return id, nil
}

// insertRule writes a rule, giving it an id.
func insertRule(ctx context.Context, tx *store.Tx, r *Rule, now time.Time) error {
	r.ID = uuid.NewString()
	if _, err := tx.ExecContext(ctx, `INSERT INTO security_group_rules (id, group_id, project_id, direction, ethertype,
		protocol, port_min, port_max, remote_cidr, remote_group_id, description, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.GroupID, r.ProjectID, r.Direction, r.Ethertype, r.Protocol, r.PortMin, r.PortMax, r.RemoteCIDR,
		r.RemoteGroupID, r.Description, now.UnixMicro(), now.UnixMicro()); err != nil {
		return fmt.Errorf("insert security group rule: %w", err)
	}
	return nil
}

// Create makes a group in the caller's project with Neutron's egress
// rules. "default" is taken by the project's default group (Neutron's
// 409, which Nova answers with 403).
func (s *Service) Create(ctx context.Context, p *auth.Principal, name, description string) (*Group, error) {
	if strings.EqualFold(name, DefaultName) {
		return nil, defaultExists()
	}
	var g *Group
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := EnsureDefault(ctx, tx, p.ProjectID); err != nil {
			return err
		}
		id, now := uuid.NewString(), time.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_groups (id, project_id, name, description,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, p.ProjectID, name, description, now.UnixMicro(), now.UnixMicro()); err != nil {
			return fmt.Errorf("insert security group: %w", err)
		}
		for _, ether := range []string{"IPv4", "IPv6"} {
			if err := insertRule(ctx, tx, &Rule{GroupID: id, ProjectID: p.ProjectID, Direction: "egress", Ethertype: ether}, now); err != nil {
				return err
			}
		}
		var err error
		g, err = visibleGroup(ctx, tx, p, id)
		return err
	})
	return g, err
}

// Update renames a group and sets its description. Neutron refuses the
// name "default" and renaming the default group (409s Nova does not
// translate; kumo answers 400).
func (s *Service) Update(ctx context.Context, p *auth.Principal, id, name, description string) (*Group, error) {
	if !isUUID(id) {
		return nil, invalidID()
	}
	var g *Group
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := visibleGroup(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if old == nil {
			return groupNotFound(id)
		}
		if strings.EqualFold(name, DefaultName) {
			return errs.Invalid("Default security group already exists.")
		}
		if old.Default {
			return errs.Invalid("Updating default security group not allowed.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE security_groups SET name = ?, description = ?, updated_at = ?,
			revision_number = revision_number + 1 WHERE id = ?`, name, description, time.Now().UnixMicro(), id); err != nil {
			return fmt.Errorf("update security group: %w", err)
		}
		g, err = visibleGroup(ctx, tx, p, id)
		return err
	})
	return g, err
}

// Delete removes a group and its rules (and other groups' rules naming
// it, as Neutron cascades). The default group is only an admin's to
// delete; a group with ports is in use (Neutron's 409s,
// Nova's 400s).
func (s *Service) Delete(ctx context.Context, p *auth.Principal, id string) error {
	if !isUUID(id) {
		return invalidID()
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := visibleGroup(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if g == nil {
			return groupNotFound(id)
		}
		if g.Default && !p.IsAdmin() {
			return errs.Invalid("Insufficient rights for removing default security group.")
		}
		used, err := s.inUse(ctx, tx, id)
		if err != nil {
			return err
		}
		if used {
			return errs.Invalid("Security Group %s in use.", id)
		}
		if err := deleteGroup(ctx, tx, id); err != nil {
			return err
		}
		return nil
	})
}
