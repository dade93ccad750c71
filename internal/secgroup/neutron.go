package secgroup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// The Neutron face's calls: they find objects whoever owns them (the
// networking API checks the caller's policy against them) and answer
// with Neutron's errors. Both faces share the default group (made on a
// project's first listing or first group, as Neutron makes it), the rules
// and their checks of duplicates.

// TagKind is the kind of security groups in the resource_tags table.
const TagKind = "security_groups"

// Scope is whose objects a listing covers: every project's (All) or
// ProjectID's.
type Scope struct {
	ProjectID string
	All       bool
}

// ListGroups lists the groups of sc with their rules and tags, after
// making the default group of ensureFor ("": none) when it has none, as
// Neutron's listing does for the project asked about or the caller's.
func (s *Service) ListGroups(ctx context.Context, sc Scope, ensureFor string) ([]Group, error) {
	var out []Group
	err := s.listing(ctx, ensureFor, func(tx *store.Tx) error {
		var err error
		if sc.All {
			out, err = loadGroups(ctx, tx, `1 = 1`)
		} else {
			out, err = loadGroups(ctx, tx, `project_id = ?`, sc.ProjectID)
		}
		if err != nil {
			return err
		}
		return fillTags(ctx, tx, out)
	})
	return out, err
}

// listing runs read in one transaction after making ensureFor's default
// group ("": none) when it has none.
func (s *Service) listing(ctx context.Context, ensureFor string, read func(tx *store.Tx) error) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if ensureFor != "" {
			if _, err := EnsureDefault(ctx, tx, ensureFor); err != nil {
				return err
			}
		}
		return read(tx)
	})
}

// fillTags reads the groups' tags.
func fillTags(ctx context.Context, q store.Querier, groups []Group) error {
	for i := range groups {
		tags, err := network.ReadTags(ctx, q, TagKind, groups[i].ID)
		if err != nil {
			return err
		}
		groups[i].Tags = tags
	}
	return nil
}

// GetGroup returns group id with its rules and tags, whoever owns it.
func (s *Service) GetGroup(ctx context.Context, id string) (*Group, error) {
	return getGroup(ctx, s.db, id)
}

func getGroup(ctx context.Context, q store.Querier, id string) (*Group, error) {
	groups, err := loadGroups(ctx, q, `id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, GroupNotFound(id)
	}
	if err := fillTags(ctx, q, groups); err != nil {
		return nil, err
	}
	return &groups[0], nil
}

// GroupFields are the attributes a create or an update sets; nil keeps
// the default (create) or the value (update).
type GroupFields struct {
	Name, Description *string
	Stateful          *bool
}

// CreateGroup makes a group of projectID with Neutron's egress rules,
// after the project's default group. "default" is the default group's
// name alone (name_not_default).
func (s *Service) CreateGroup(ctx context.Context, projectID string, f GroupFields) (*Group, error) {
	if f.Name != nil && strings.EqualFold(*f.Name, DefaultName) {
		return nil, defaultAlreadyExists()
	}
	name, description, stateful := deref(f.Name), deref(f.Description), true
	if f.Stateful != nil {
		stateful = *f.Stateful
	}
	var g *Group
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// Neutron reserves the quota before its plugin makes the default
		// group, so a first group's check does not count that one.
		if err := s.quota.Check(ctx, tx, projectID, netquota.SecurityGroup, 1); err != nil {
			return err
		}
		if _, err := EnsureDefault(ctx, tx, projectID); err != nil {
			return err
		}
		id, now := uuid.NewString(), time.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_groups (id, project_id, name, description, stateful,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, projectID, name, description, stateful, now.UnixMicro(), now.UnixMicro()); err != nil {
			return fmt.Errorf("insert security group: %w", err)
		}
		for _, ether := range []string{"IPv4", "IPv6"} {
			if err := insertRule(ctx, tx, &Rule{GroupID: id, ProjectID: projectID, Direction: "egress", Ethertype: ether}, now); err != nil {
				return err
			}
		}
		var err error
		g, err = getGroup(ctx, tx, id)
		return err
	})
	return g, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// UpdateGroup changes a group's name, description or statefulness. The
// default group keeps its name, no other may take it, and a group with
// ports keeps its statefulness (Neutron's 409s).
func (s *Service) UpdateGroup(ctx context.Context, id string, f GroupFields) (*Group, error) {
	if f.Name != nil && strings.EqualFold(*f.Name, DefaultName) {
		return nil, defaultAlreadyExists()
	}
	var g *Group
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if f.Stateful != nil && *f.Stateful != old.Stateful {
			if err := s.notInUse(ctx, tx, id); err != nil {
				return err
			}
		}
		if f.Name != nil && old.Default {
			return cannotUpdateDefault()
		}
		next := *old
		if f.Name != nil {
			next.Name = *f.Name
		}
		if f.Description != nil {
			next.Description = *f.Description
		}
		if f.Stateful != nil {
			next.Stateful = *f.Stateful
		}
		if next.Name == old.Name && next.Description == old.Description && next.Stateful == old.Stateful {
			g = old
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE security_groups SET name = ?, description = ?, stateful = ?,
			revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
			next.Name, next.Description, next.Stateful, store.Now(), id); err != nil {
			return fmt.Errorf("update security group: %w", err)
		}
		g, err = getGroup(ctx, tx, id)
		return err
	})
	return g, err
}

// DeleteGroup removes a group with its rules, its tags and the rules
// naming it. A group with ports is in use; the default group
// is only an admin's to delete (Neutron's 409s).
func (s *Service) DeleteGroup(ctx context.Context, id string, admin bool) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.notInUse(ctx, tx, id); err != nil {
			return err
		}
		g, err := getGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if g.Name == DefaultName && !admin {
			return cannotRemoveDefault()
		}
		return deleteGroup(ctx, tx, id)
	})
}

// deleteGroup removes a group no port holds: its tags, then the group,
// whose rules and the rules naming it go with it.
func deleteGroup(ctx context.Context, tx *store.Tx, id string) error {
	if err := network.DeleteTags(ctx, tx, TagKind, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM security_groups WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete security group: %w", err)
	}
	return nil
}

// inUse reports whether a port holds the group (a server holds a group
// through its ports).
func (s *Service) inUse(ctx context.Context, q store.Querier, id string) (bool, error) {
	var ports int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM security_group_port_bindings WHERE group_id = ?`, id).Scan(&ports); err != nil {
		return false, fmt.Errorf("count security group ports: %w", err)
	}
	return ports > 0, nil
}

// notInUse is SecurityGroupInUse when a port holds the group.
func (s *Service) notInUse(ctx context.Context, q store.Querier, id string) error {
	used, err := s.inUse(ctx, q, id)
	if err == nil && used {
		err = groupInUse(id)
	}
	return err
}

// InUse reports whether a port holds group id.
func (s *Service) InUse(ctx context.Context, id string) (bool, error) { return s.inUse(ctx, s.db, id) }

// Tags returns the tags of group id.
func (s *Service) Tags(ctx context.Context, id string) ([]string, error) {
	g, err := getGroup(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return g.Tags, nil
}

// ChangeTags applies c to group id's tags and revises the group when
// they change.
func (s *Service) ChangeTags(ctx context.Context, id string, c network.TagChange) ([]string, error) {
	var out []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := getGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = network.ChangeTags(ctx, tx, TagKind, id, c, func() error { return reviseGroup(ctx, tx, id) })
		return err
	})
	return out, err
}

// reviseGroup bumps a group's revision: its tags or rules changed.
func reviseGroup(ctx context.Context, tx *store.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE security_groups SET revision_number = revision_number + 1, updated_at = ?
		WHERE id = ?`, store.Now(), id); err != nil {
		return fmt.Errorf("revise security group: %w", err)
	}
	return nil
}

// ListRules lists the rules of sc (a project's: those of its groups and
// those it made), after making ensureFor's default group as ListGroups.
func (s *Service) ListRules(ctx context.Context, sc Scope, ensureFor string) ([]Rule, error) {
	var out []Rule
	err := s.listing(ctx, ensureFor, func(tx *store.Tx) error {
		var err error
		if sc.All {
			out, err = loadRules(ctx, tx, `1 = 1`)
		} else {
			out, err = loadRules(ctx, tx, `g.project_id = ? OR r.project_id = ?`, sc.ProjectID, sc.ProjectID)
		}
		return err
	})
	return out, err
}

// GetRule returns rule id, whoever owns it.
func (s *Service) GetRule(ctx context.Context, id string) (*Rule, error) {
	rules, err := loadRules(ctx, s.db, `r.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, RuleNotFound(id)
	}
	return &rules[0], nil
}

// NewRule is a Neutron rule to add, its attributes converted
// (ConvertProtocol, ConvertEthertype, ConvertPort, ConvertIPPrefix).
type NewRule struct {
	ProjectID            string
	GroupID              string
	Direction            string
	Ethertype            string
	Protocol             *string
	PortMin, PortMax     *int
	RemoteIPPrefix       *string
	RemoteGroupID        *string
	RemoteAddressGroupID *string
	Description          string
}

// AddRule adds a rule as Neutron's create_security_group_rule does: the
// attributes checked, the remote group and the group found for the
// rule's project (any for an admin), no rule of the group the same.
func (s *Service) AddRule(ctx context.Context, nr NewRule, admin bool) (*Rule, error) {
	if err := validateNeutronRule(&nr); err != nil {
		return nil, err
	}
	var out *Rule
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if nr.RemoteGroupID != nil {
			if _, err := groupFor(ctx, tx, *nr.RemoteGroupID, nr.ProjectID, admin); err != nil {
				return err
			}
		}
		if nr.RemoteAddressGroupID != nil {
			return errs.Named("AddressGroupNotFound", errs.NotFound("Address group %s could not be found.", *nr.RemoteAddressGroupID))
		}
		g, err := groupFor(ctx, tx, nr.GroupID, nr.ProjectID, admin)
		if err != nil {
			return err
		}
		r := Rule{GroupID: g.ID, ProjectID: nr.ProjectID, Direction: nr.Direction, Ethertype: nr.Ethertype,
			Protocol: nr.Protocol, PortMin: nr.PortMin, PortMax: nr.PortMax, RemoteCIDR: nr.RemoteIPPrefix,
			RemoteGroupID: nr.RemoteGroupID, Description: nr.Description}
		key := ruleKey(r)
		for _, old := range g.Rules {
			if ruleKey(old) == key {
				return ruleExists(old.ID)
			}
		}
		if err := s.quota.Check(ctx, tx, nr.ProjectID, netquota.SecurityGroupRule, 1); err != nil {
			return err
		}
		if err := insertRule(ctx, tx, &r, time.Now()); err != nil {
			return err
		}
		if err := reviseGroup(ctx, tx, g.ID); err != nil {
			return err
		}
		rules, err := loadRules(ctx, tx, `r.id = ?`, r.ID)
		if err != nil {
			return err
		}
		out = &rules[0]
		return nil
	})
	return out, err
}

// groupFor is _check_security_group: group id as the project sees it
// (every group for an admin).
func groupFor(ctx context.Context, q store.Querier, id, projectID string, admin bool) (*Group, error) {
	g, err := getGroup(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if !admin && g.ProjectID != projectID {
		return nil, GroupNotFound(id)
	}
	return g, nil
}

// RemoveRule deletes rule id and revises its group.
func (s *Service) RemoveRule(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		rules, err := loadRules(ctx, tx, `r.id = ?`, id)
		if err != nil {
			return err
		}
		if len(rules) == 0 {
			return RuleNotFound(id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM security_group_rules WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete security group rule: %w", err)
		}
		return reviseGroup(ctx, tx, rules[0].GroupID)
	})
}

// CountGroups counts a project's groups for its security_group quota
// (the default group counts), through q: the caller's transaction.
func CountGroups(ctx context.Context, q store.Querier, projectID string) (int, error) {
	return countOwned(ctx, q, "security_groups", projectID)
}

// CountRules counts a project's rules for its security_group_rule quota:
// Neutron counts rules by their own project_id, not their group's.
func CountRules(ctx context.Context, q store.Querier, projectID string) (int, error) {
	return countOwned(ctx, q, "security_group_rules", projectID)
}

// countOwned counts the rows of table that projectID owns.
func countOwned(ctx context.Context, q store.Querier, table, projectID string) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE project_id = ?`, projectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s of project %s: %w", table, projectID, err)
	}
	return n, nil
}
