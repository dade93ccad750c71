package identity

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Target is what a role is granted on: a project or a domain, or, when
// Inherited, the projects below it (OS-INHERIT); or the system.
type Target struct {
	Project   string
	Domain    string
	Inherited bool
	System    bool
}

// systemTarget is the target id of system assignments, as Keystone
// names the system in its messages.
const systemTarget = "system"

func (t Target) kind() (typ, id string) {
	if t.System {
		return "system", systemTarget
	}
	if t.Project != "" {
		return "project", t.Project
	}
	return "domain", t.Domain
}

// Actor is who holds a role: a user or a group.
type Actor struct {
	Group bool
	ID    string
}

// UserActor and GroupActor name an actor.
func UserActor(id string) Actor  { return Actor{ID: id} }
func GroupActor(id string) Actor { return Actor{Group: true, ID: id} }

func (a Actor) typ() string {
	if a.Group {
		return "group"
	}
	return "user"
}

// checkGrantParts makes sure the target, actor and role exist, reporting
// the first missing one with Keystone's 404.
func checkGrantParts(ctx context.Context, q store.Querier, t Target, a Actor, roleID string) error {
	if t.System {
		// The system always exists.
	} else if t.Project != "" {
		if _, err := getProject(ctx, q, t.Project); err != nil {
			return err
		}
	} else if _, err := getDomain(ctx, q, t.Domain); err != nil {
		return err
	}
	if a.Group {
		if _, err := getGroup(ctx, q, a.ID); err != nil {
			return err
		}
	} else if _, err := getUser(ctx, q, a.ID); err != nil {
		return err
	}
	if roleID != "" {
		if _, err := getRole(ctx, q, roleID); err != nil {
			return err
		}
	}
	return nil
}

// checkRoleDomain refuses a domain-specific role on a project of another
// domain (Keystone's DomainSpecificRoleMismatch).
func checkRoleDomain(ctx context.Context, q store.Querier, t Target, roleID string) error {
	if t.Project == "" {
		return nil
	}
	r, err := getRole(ctx, q, roleID)
	if err != nil || r.DomainID == "" {
		return err
	}
	p, err := getProject(ctx, q, t.Project)
	if err != nil {
		return err
	}
	if p.DomainID != r.DomainID {
		return errs.Forbidden("Project %s must be in the same domain as the role %s being assigned.", t.Project, roleID)
	}
	return nil
}

// Grant gives a user a role on a target; granting twice is a no-op.
func (s *Service) Grant(ctx context.Context, t Target, userID, roleID string) error {
	return s.GrantActor(ctx, t, UserActor(userID), roleID)
}

// GrantActor gives a user or a group a role on a target; granting twice
// is a no-op.
func (s *Service) GrantActor(ctx context.Context, t Target, a Actor, roleID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkGrantParts(ctx, tx, t, a, roleID); err != nil {
			return err
		}
		if err := checkRoleDomain(ctx, tx, t, roleID); err != nil {
			return err
		}
		typ, id := t.kind()
		// Granting twice, even concurrently, is a no-op.
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (actor_type, actor_id, target_type, target_id, role_id, inherited)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, a.typ(), a.ID, typ, id, roleID, t.Inherited); err != nil {
			return fmt.Errorf("grant role %s: %w", roleID, err)
		}
		return nil
	})
}

func assignmentNotFound(t Target, actorID, roleID string) error {
	_, id := t.kind()
	return errs.NotFound("Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", roleID, actorID, id)
}

// CheckGrant reports (as a nil error) that the user holds the role on the
// target, or a 404.
func (s *Service) CheckGrant(ctx context.Context, t Target, userID, roleID string) error {
	return s.CheckGrantActor(ctx, t, UserActor(userID), roleID)
}

// CheckGrantActor reports (as a nil error) that the user or group was
// granted the role on the target, or a 404.
func (s *Service) CheckGrantActor(ctx context.Context, t Target, a Actor, roleID string) error {
	if err := checkGrantParts(ctx, s.db, t, a, roleID); err != nil {
		return err
	}
	typ, id := t.kind()
	has, err := exists(ctx, s.db, `SELECT 1 FROM role_assignments WHERE actor_type = ? AND actor_id = ? AND target_type = ? AND target_id = ? AND role_id = ? AND inherited = ?`,
		a.typ(), a.ID, typ, id, roleID, t.Inherited)
	if err != nil {
		return err
	}
	if !has {
		return assignmentNotFound(t, a.ID, roleID)
	}
	return nil
}

// RevokeGrant removes a user's role assignment.
func (s *Service) RevokeGrant(ctx context.Context, t Target, userID, roleID string) error {
	return s.RevokeGrantActor(ctx, t, UserActor(userID), roleID)
}

// RevokeGrantActor removes a user's or a group's role assignment.
func (s *Service) RevokeGrantActor(ctx context.Context, t Target, a Actor, roleID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkGrantParts(ctx, tx, t, a, roleID); err != nil {
			return err
		}
		typ, id := t.kind()
		res, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE actor_type = ? AND actor_id = ? AND target_type = ? AND target_id = ? AND role_id = ? AND inherited = ?`,
			a.typ(), a.ID, typ, id, roleID, t.Inherited)
		if err != nil {
			return fmt.Errorf("revoke role %s: %w", roleID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return assignmentNotFound(t, a.ID, roleID)
		}
		return nil
	})
}

// GrantedRoles lists the roles a user was granted on a target.
func (s *Service) GrantedRoles(ctx context.Context, t Target, userID string) ([]Role, error) {
	return s.GrantedRolesOf(ctx, t, UserActor(userID))
}

// GrantedRolesOf lists the roles a user or a group was granted on a
// target (directly, or inherited when t.Inherited).
func (s *Service) GrantedRolesOf(ctx context.Context, t Target, a Actor) ([]Role, error) {
	if err := checkGrantParts(ctx, s.db, t, a, ""); err != nil {
		return nil, err
	}
	typ, id := t.kind()
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.name, r.domain_id, r.description, r.extra FROM role_assignments a
		JOIN roles r ON r.id = a.role_id
		WHERE a.actor_type = ? AND a.actor_id = ? AND a.target_type = ? AND a.target_id = ? AND a.inherited = ? ORDER BY r.name, r.id`,
		a.typ(), a.ID, typ, id, t.Inherited)
	if err != nil {
		return nil, fmt.Errorf("list granted roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("list granted roles: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// ListAssignments lists role assignments matching f: the stored ones, or
// with f.Effective what they amount to for users (see AssignmentFilter).
func (s *Service) ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error) {
	var projects []string // the projects asked about, nil: any
	if f.ProjectID != "" {
		projects = []string{f.ProjectID}
		if f.IncludeSubtree {
			sub, err := s.ProjectSubtree(ctx, f.ProjectID)
			if err != nil {
				return nil, err
			}
			for _, p := range sub {
				projects = append(projects, p.ID)
			}
		}
	}
	var as []Assignment
	var err error
	if f.Effective {
		as, err = s.effectiveAssignments(ctx, f, projects)
	} else {
		as, err = s.storedAssignments(ctx, f, projects)
	}
	if err != nil {
		return nil, err
	}
	if f.Names {
		if err := s.fillAssignmentNames(ctx, as); err != nil {
			return nil, err
		}
	}
	return as, nil
}

// storedAssignments lists the assignments as granted.
func (s *Service) storedAssignments(ctx context.Context, f AssignmentFilter, projects []string) ([]Assignment, error) {
	var c conds
	if f.UserID != "" {
		c.add("actor_type = 'user' AND actor_id = ?", f.UserID)
	}
	if f.GroupID != "" {
		c.add("actor_type = 'group' AND actor_id = ?", f.GroupID)
	}
	if projects != nil {
		c.add("target_type = 'project'")
		c.in("target_id", projects)
	}
	if f.DomainID != "" {
		c.add("target_type = 'domain' AND target_id = ?", f.DomainID)
	}
	if f.RoleID != "" {
		c.add("role_id = ?", f.RoleID)
	}
	if f.Inherited != nil {
		c.add("inherited = ?", *f.Inherited)
	}
	if f.System {
		c.add("target_type = 'system'")
	}
	return queryAssignments(ctx, s.db, c)
}

func queryAssignments(ctx context.Context, q store.Querier, c conds) ([]Assignment, error) {
	rows, err := q.QueryContext(ctx, `SELECT actor_type, actor_id, target_type, target_id, role_id, inherited FROM role_assignments`+
		c.where()+` ORDER BY actor_type DESC, actor_id, target_type, target_id, role_id, inherited`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		var actorType, actorID, targetType, targetID string
		if err := rows.Scan(&actorType, &actorID, &targetType, &targetID, &a.RoleID, &a.Inherited); err != nil {
			return nil, fmt.Errorf("list role assignments: %w", err)
		}
		if actorType == "group" {
			a.GroupID = actorID
		} else {
			a.UserID = actorID
		}
		switch targetType {
		case "project":
			a.ProjectID = targetID
		case "system":
			a.System = true
		default:
			a.DomainID = targetID
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// effectiveAssignments expands the stored assignments as Keystone's
// effective mode does: groups to their members, inherited assignments to
// the projects below their target, roles to those they imply; then drops
// domain-specific roles, which only serve to imply others.
func (s *Service) effectiveAssignments(ctx context.Context, f AssignmentFilter, projects []string) ([]Assignment, error) {
	var c conds
	if f.UserID != "" {
		c.add("((actor_type = 'user' AND actor_id = ?) OR (actor_type = 'group' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = ?)))", f.UserID, f.UserID)
	}
	stored, err := queryAssignments(ctx, s.db, c)
	if err != nil {
		return nil, err
	}
	var users []Assignment
	for _, a := range stored {
		if a.GroupID == "" {
			users = append(users, a)
			continue
		}
		members, err := s.groupMemberIDs(ctx, a.GroupID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if f.UserID != "" && m != f.UserID {
				continue
			}
			u := a
			u.UserID, u.GroupID, u.ViaGroup = m, "", a.GroupID
			users = append(users, u)
		}
	}
	var targeted []Assignment
	for _, a := range users {
		if !a.Inherited {
			targeted = append(targeted, a)
			continue
		}
		below, err := s.projectsBelow(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, p := range below {
			e := a
			if a.ProjectID != "" {
				e.ViaProject = a.ProjectID
			} else {
				e.ViaDomain = a.DomainID
			}
			e.ProjectID, e.DomainID = p, ""
			targeted = append(targeted, e)
		}
	}
	rules, err := impliedRules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	global, err := globalRoleIDs(ctx, s.db)
	if err != nil {
		return nil, err
	}
	inProjects := map[string]bool{}
	for _, p := range projects {
		inProjects[p] = true
	}
	var out []Assignment
	for _, a := range expandImplied(targeted, rules) {
		switch {
		case !global[a.RoleID]:
		case projects != nil && !inProjects[a.ProjectID]:
		case f.DomainID != "" && a.DomainID != f.DomainID:
		case f.System && !a.System:
		case f.RoleID != "" && a.RoleID != f.RoleID:
		case f.Inherited != nil && a.Inherited != *f.Inherited:
		default:
			out = append(out, a)
		}
	}
	return out, nil
}

// projectsBelow lists the projects an inherited assignment reaches: all
// the projects of its domain, or the subtree under its project (not the
// project itself).
func (s *Service) projectsBelow(ctx context.Context, a Assignment) ([]string, error) {
	var ps []Project
	var err error
	if a.ProjectID != "" {
		ps, err = s.ProjectSubtree(ctx, a.ProjectID)
	} else {
		ps, err = queryProjects(ctx, s.db, `SELECT `+projectColumns+` FROM projects WHERE domain_id = ? ORDER BY name, id`, a.DomainID)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids, nil
}

func (s *Service) groupMemberIDs(ctx context.Context, groupID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id`, groupID)
	if err != nil {
		return nil, fmt.Errorf("list members of group %s: %w", groupID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list members of group %s: %w", groupID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// globalRoleIDs is the set of roles without a domain.
func globalRoleIDs(ctx context.Context, q store.Querier) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM roles WHERE domain_id = ''`)
	if err != nil {
		return nil, fmt.Errorf("list global roles: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list global roles: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// expandImplied adds, after each assignment, one for every role its role
// implies, directly or through other implied roles, as Keystone's
// add_implied_roles does: each copy names the role that implied it, and a
// cycle of rules stops where a role comes back.
func expandImplied(as []Assignment, rules map[string][]string) []Assignment {
	if len(rules) == 0 {
		return as
	}
	var out []Assignment
	for _, a := range as {
		out = append(out, a)
		seen := map[string]bool{a.RoleID: true}
		queue := []Assignment{a}
		for len(queue) > 0 {
			next := queue[0]
			queue = queue[1:]
			for _, implied := range rules[next.RoleID] {
				if seen[implied] {
					continue
				}
				seen[implied] = true
				e := next
				e.RoleID, e.PriorRoleID = implied, next.RoleID
				out = append(out, e)
				queue = append(queue, e)
			}
		}
	}
	return out
}

// fillAssignmentNames sets the names of the actors, roles and scopes.
func (s *Service) fillAssignmentNames(ctx context.Context, as []Assignment) error {
	domains := map[string]*Domain{}
	domain := func(id string) (*Domain, error) {
		if d, ok := domains[id]; ok {
			return d, nil
		}
		d, err := getDomain(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		domains[id] = d
		return d, nil
	}
	for i := range as {
		a := &as[i]
		if a.UserID != "" {
			u, err := getUser(ctx, s.db, a.UserID)
			if err != nil {
				return err
			}
			d, err := domain(u.DomainID)
			if err != nil {
				return err
			}
			a.UserName, a.UserDomainID, a.UserDomainName = u.Name, d.ID, d.Name
		}
		if a.GroupID != "" {
			g, err := getGroup(ctx, s.db, a.GroupID)
			if err != nil {
				return err
			}
			d, err := domain(g.DomainID)
			if err != nil {
				return err
			}
			a.GroupName, a.GroupDomainID, a.GroupDomainName = g.Name, d.ID, d.Name
		}
		r, err := getRole(ctx, s.db, a.RoleID)
		if err != nil {
			return err
		}
		a.RoleName, a.RoleDomainID = r.Name, r.DomainID
		if a.System {
			continue
		}
		if a.ProjectID != "" {
			p, err := getProject(ctx, s.db, a.ProjectID)
			if err != nil {
				return err
			}
			d, err := domain(p.DomainID)
			if err != nil {
				return err
			}
			a.ScopeName, a.ScopeDomainID, a.ScopeDomainName = p.Name, d.ID, d.Name
		} else {
			d, err := domain(a.DomainID)
			if err != nil {
				return err
			}
			a.ScopeName = d.Name
		}
	}
	return nil
}

// The roles a token carries, in one query each (token checks are the hot
// path): the grants to the user or to the user's groups, on the target
// or, for a project, inherited from its domain or a project above it
// (ancestors, walked up recursively), then the roles these imply
// (recursively; UNION stops at a cycle); domain-specific roles only imply
// others and are left out, as Keystone's _strip_domain_roles does.
const (
	rolesActor = `((a.actor_type = 'user' AND a.actor_id = ?)
			OR (a.actor_type = 'group' AND a.actor_id IN (SELECT group_id FROM group_members WHERE user_id = ?)))`
	rolesImplied = `
		UNION
		SELECT ir.implied_role_id FROM implied_roles ir JOIN granted g ON ir.prior_role_id = g.role_id)
	SELECT r.id, r.name FROM roles r WHERE r.id IN (SELECT role_id FROM granted) AND r.domain_id = '' ORDER BY r.name, r.id`

	rolesOnProjectQuery = `WITH RECURSIVE
	ancestors(id) AS (
		SELECT parent_id FROM projects WHERE id = ? AND parent_id IS NOT NULL
		UNION
		SELECT p.parent_id FROM projects p JOIN ancestors an ON p.id = an.id WHERE p.parent_id IS NOT NULL),
	granted(role_id) AS (
		SELECT a.role_id FROM role_assignments a WHERE ` + rolesActor + `
			AND ((a.inherited = FALSE AND a.target_type = 'project' AND a.target_id = ?)
			OR (a.inherited = TRUE AND a.target_type = 'domain' AND a.target_id = (SELECT domain_id FROM projects WHERE id = ?))
			OR (a.inherited = TRUE AND a.target_type = 'project' AND a.target_id IN (SELECT id FROM ancestors)))` + rolesImplied

	// rolesOnTargetQuery is for a domain or the system: only the
	// assignments on the target itself count.
	rolesOnTargetQuery = `WITH RECURSIVE
	granted(role_id) AS (
		SELECT a.role_id FROM role_assignments a WHERE ` + rolesActor + `
			AND a.inherited = FALSE AND a.target_type = ? AND a.target_id = ?` + rolesImplied
)

// effectiveRolesOn lists the id and name of the roles a user holds on a
// project, a domain or the system, as a token carries them (see
// rolesOnProjectQuery).
func effectiveRolesOn(ctx context.Context, q store.Querier, userID, targetType, targetID string) ([]Role, error) {
	var rows *sql.Rows
	var err error
	if targetType == "project" {
		rows, err = q.QueryContext(ctx, rolesOnProjectQuery, targetID, userID, userID, targetID, targetID)
	} else {
		rows, err = q.QueryContext(ctx, rolesOnTargetQuery, userID, userID, targetType, targetID)
	}
	if err != nil {
		return nil, fmt.Errorf("list roles on %s %s: %w", targetType, targetID, err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r.ID, &r.Name); err != nil {
			return nil, fmt.Errorf("list roles on %s %s: %w", targetType, targetID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// HasSystemRole reports whether a user holds a role on the system,
// directly or through a group: whether it may ask for a system token.
func (s *Service) HasSystemRole(ctx context.Context, userID string) (bool, error) {
	roles, err := s.rolesOn(ctx, userID, "system", systemTarget)
	return len(roles) > 0, err
}
