package identity

// Application credentials, as Keystone's application_credential manager
// and SQL backend keep them: a user's named secret for one project and a
// subset of the user's roles there, optionally expiring and limited by
// access rules. The secret is only shown when it is made; the database
// keeps its password hash.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ApplicationCredential is a user's application credential.
type ApplicationCredential struct {
	ID          string
	Name        string
	Description *string // nil: none given (Keystone's null)
	UserID      string
	ProjectID   string
	// Roles are full roles (id, name, domain, description), in the order given.
	Roles        []Role
	ExpiresAt    *time.Time
	Unrestricted bool
	// AccessRules are nil when the credential has none.
	AccessRules []auth.AccessRule
	// Secret is only set on the credential Create returns.
	Secret string
}

// RoleRef names a role by id or by (global role) name.
type RoleRef struct{ ID, Name string }

// AppCredCreate is a new application credential's attributes.
type AppCredCreate struct {
	Name         string
	Description  *string
	Secret       string // "": generated
	Roles        []RoleRef
	ExpiresAt    *time.Time
	Unrestricted bool
	// AccessRules are new rules, or existing ones by id (ID set).
	AccessRules []auth.AccessRule
}

// AccessRuleFilter narrows ListAccessRules; empty fields match everything.
type AccessRuleFilter struct{ Service, Path, Method string }

// AppCredAuth is the application_credential method of an auth request:
// by id, or by name with the owner's id or name and domain.
type AppCredAuth struct {
	ID, Name, Secret                       string
	UserID, UserName, DomainID, DomainName string
	// UserGiven reports a "user" object in the request.
	UserGiven bool
}

// appCredConflict is Keystone's handle_conflicts 409 for a duplicate name.
func appCredConflict() error {
	return errs.Conflict("Conflict occurred attempting to store application_credential - Duplicate entry.")
}

func appCredInvalid(detail string) error {
	return errs.Invalid("Invalid application credential: %s", detail)
}

// newAppCredSecret is Keystone's _generate_secret: 64 random bytes,
// URL-safe base64 without padding.
func newAppCredSecret() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateApplicationCredential makes an application credential for the
// caller p on the project of p's token, as Keystone's users API and
// manager do: the roles must be among the token's (all of them by
// default) and still held by the user on the project.
func (s *Service) CreateApplicationCredential(ctx context.Context, p *auth.Principal, req AppCredCreate) (*ApplicationCredential, error) {
	if err := requireName(req.Name, nameMax); err != nil {
		return nil, err
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(s.opts.now()) {
		return nil, errs.Invalid("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	secret := req.Secret
	if secret == "" {
		secret = newAppCredSecret()
	}
	// bcrypt outside the transaction: it is the slow part.
	hash, err := s.passwords.hash(secret)
	if err != nil {
		return nil, err
	}
	ac := &ApplicationCredential{
		ID: newID(), Name: req.Name, Description: req.Description, UserID: p.UserID, ProjectID: p.ProjectID,
		Unrestricted: req.Unrestricted, Secret: secret,
	}
	if req.ExpiresAt != nil {
		t := truncMicro(*req.ExpiresAt)
		ac.ExpiresAt = &t
	}
	// Roles are checked before the transaction: rolesOn reads through the
	// service's pool.
	roles, err := s.appCredRoles(ctx, p, req.Roles)
	if err != nil {
		return nil, err
	}
	ac.Roles = roles
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var expires sql.NullInt64
		if ac.ExpiresAt != nil {
			expires = sql.NullInt64{Int64: ac.ExpiresAt.UnixMicro(), Valid: true}
		}
		var desc sql.NullString
		if ac.Description != nil {
			desc = sql.NullString{String: *ac.Description, Valid: true}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO application_credentials
			(id, user_id, project_id, name, description, secret_hash, expires_at, unrestricted, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ac.ID, ac.UserID, ac.ProjectID, ac.Name, desc, hash, expires, ac.Unrestricted, s.nowMicros())
		if store.IsUniqueViolation(err) {
			return appCredConflict()
		}
		if err != nil {
			return fmt.Errorf("create application credential: %w", err)
		}
		for i, r := range roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_credential_roles (app_cred_id, role_id, position) VALUES (?, ?, ?)`,
				ac.ID, r.ID, i); err != nil {
				return fmt.Errorf("create application credential: role %s: %w", r.ID, err)
			}
		}
		ac.AccessRules, err = s.attachAccessRules(ctx, tx, ac, req.AccessRules)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ac, nil
}

// appCredRoles resolves the requested roles (by id or by global name) and
// checks each against the token's roles and the user's roles on the
// project, with Keystone's 404 for an unknown name and 400s otherwise.
func (s *Service) appCredRoles(ctx context.Context, p *auth.Principal, refs []RoleRef) ([]Role, error) {
	q := s.db
	tokenRoles, err := s.principalRoles(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return fullRoles(ctx, q, tokenRoles)
	}
	var ids []string
	for _, ref := range refs {
		id := ref.ID
		if id == "" {
			r, err := roleByGlobalName(ctx, q, ref.Name)
			if err != nil {
				return nil, err
			}
			id = r.ID
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(tokenRoles, func(r Role) bool { return r.ID == id }) {
			return nil, appCredInvalid("Cannot create an application credential with unassigned role")
		}
	}
	held, err := s.rolesOn(ctx, p.UserID, "project", p.ProjectID)
	if err != nil {
		return nil, err
	}
	var out []Role
	for _, id := range ids {
		if !slices.ContainsFunc(held, func(r Role) bool { return r.ID == id }) {
			return nil, appCredInvalid(fmt.Sprintf("Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", id, p.UserID, p.ProjectID))
		}
		out = append(out, Role{ID: id})
	}
	return fullRoles(ctx, q, out)
}

// principalRoles are the roles of p's token: the user's roles on its
// project, narrowed to its application credential's when it has one.
func (s *Service) principalRoles(ctx context.Context, p *auth.Principal) ([]Role, error) {
	roles, err := s.rolesOn(ctx, p.UserID, "project", p.ProjectID)
	if err != nil || p.AppCred == nil {
		return roles, err
	}
	ac, err := getAppCred(ctx, s.db, p.AppCred.ID)
	if err != nil {
		return nil, err
	}
	return intersectRoles(roles, ac.Roles), nil
}

// intersectRoles keeps the roles of have that are in allowed.
func intersectRoles(have, allowed []Role) []Role {
	var out []Role
	for _, r := range have {
		if slices.ContainsFunc(allowed, func(a Role) bool { return a.ID == r.ID }) {
			out = append(out, r)
		}
	}
	return out
}

func fullRoles(ctx context.Context, q store.Querier, roles []Role) ([]Role, error) {
	out := make([]Role, 0, len(roles))
	for _, r := range roles {
		full, err := getRole(ctx, q, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, *full)
	}
	return out, nil
}

// roleByGlobalName is Keystone's get_unique_role_by_name for a role
// without a domain.
func roleByGlobalName(ctx context.Context, q store.Querier, name string) (*Role, error) {
	r, err := scanRole(q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE name = ? AND domain_id = ''`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("role", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", name, err)
	}
	return r, nil
}

// attachAccessRules links the credential to its access rules: an
// existing rule of the user by id, else the user's identical rule, else a
// new one (with the id given, if any), as Keystone's backend does.
func (s *Service) attachAccessRules(ctx context.Context, tx *store.Tx, ac *ApplicationCredential, rules []auth.AccessRule) ([]auth.AccessRule, error) {
	var out []auth.AccessRule
	for i, r := range rules {
		var found auth.AccessRule
		var err error
		ok := false
		if r.ID != "" {
			found, ok, err = findAccessRule(ctx, tx, `id = ? AND user_id = ?`, r.ID, ac.UserID)
			if err != nil {
				return nil, err
			}
		}
		if !ok {
			found, ok, err = findAccessRule(ctx, tx, `user_id = ? AND service = ? AND path = ? AND method = ?`, ac.UserID, r.Service, r.Path, r.Method)
			if err != nil {
				return nil, err
			}
		}
		if !ok && (r.Service == "" || r.Method == "" || r.Path == "") {
			return nil, errs.Invalid("Invalid input for field 'access_rules': no access rule %s; a new rule needs a service, a path and a method", r.ID)
		}
		if !ok {
			found = auth.AccessRule{ID: r.ID, Service: r.Service, Path: r.Path, Method: r.Method}
			if found.ID == "" {
				found.ID = newID()
			} else if taken, err := exists(ctx, tx, `SELECT 1 FROM access_rules WHERE id = ?`, found.ID); err != nil {
				return nil, err
			} else if taken {
				// Another user's rule: never shared across users.
				found.ID = newID()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO access_rules (id, user_id, service, path, method, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				found.ID, ac.UserID, found.Service, found.Path, found.Method, s.nowMicros()); err != nil {
				return nil, fmt.Errorf("create access rule: %w", err)
			}
		}
		if slices.ContainsFunc(out, func(a auth.AccessRule) bool { return a.ID == found.ID }) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_credential_access_rules (app_cred_id, access_rule_id, position) VALUES (?, ?, ?)`,
			ac.ID, found.ID, i); err != nil {
			return nil, fmt.Errorf("link access rule %s: %w", found.ID, err)
		}
		out = append(out, found)
	}
	return out, nil
}

const accessRuleColumns = `id, service, path, method`

func findAccessRule(ctx context.Context, q store.Querier, where string, args ...any) (auth.AccessRule, bool, error) {
	var r auth.AccessRule
	err := q.QueryRowContext(ctx, `SELECT `+accessRuleColumns+` FROM access_rules WHERE `+where, args...).Scan(&r.ID, &r.Service, &r.Path, &r.Method)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("find access rule: %w", err)
	}
	return r, true, nil
}

const appCredColumns = `id, name, description, user_id, project_id, secret_hash, expires_at, unrestricted`

// scanAppCred reads one row of appCredColumns; the hash comes back apart.
func scanAppCred(row interface{ Scan(...any) error }) (*ApplicationCredential, string, error) {
	var ac ApplicationCredential
	var desc sql.NullString
	var expires sql.NullInt64
	var hash string
	if err := row.Scan(&ac.ID, &ac.Name, &desc, &ac.UserID, &ac.ProjectID, &hash, &expires, &ac.Unrestricted); err != nil {
		return nil, "", err
	}
	if desc.Valid {
		ac.Description = &desc.String
	}
	if expires.Valid {
		t := store.Time(expires.Int64).UTC()
		ac.ExpiresAt = &t
	}
	return &ac, hash, nil
}

// fillAppCred loads a credential's roles and access rules.
func fillAppCred(ctx context.Context, q store.Querier, ac *ApplicationCredential) error {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.name, r.domain_id, r.description, r.extra
		FROM application_credential_roles acr JOIN roles r ON r.id = acr.role_id
		WHERE acr.app_cred_id = ? ORDER BY acr.position`, ac.ID)
	if err != nil {
		return fmt.Errorf("roles of application credential %s: %w", ac.ID, err)
	}
	ac.Roles = nil
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("roles of application credential %s: %w", ac.ID, err)
		}
		ac.Roles = append(ac.Roles, *r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("roles of application credential %s: %w", ac.ID, err)
	}
	rows, err = q.QueryContext(ctx, `SELECT ar.id, ar.service, ar.path, ar.method
		FROM application_credential_access_rules acar JOIN access_rules ar ON ar.id = acar.access_rule_id
		WHERE acar.app_cred_id = ? ORDER BY acar.position`, ac.ID)
	if err != nil {
		return fmt.Errorf("access rules of application credential %s: %w", ac.ID, err)
	}
	defer rows.Close()
	ac.AccessRules = nil
	for rows.Next() {
		var r auth.AccessRule
		if err := rows.Scan(&r.ID, &r.Service, &r.Path, &r.Method); err != nil {
			return fmt.Errorf("access rules of application credential %s: %w", ac.ID, err)
		}
		ac.AccessRules = append(ac.AccessRules, r)
	}
	return rows.Err()
}

// getAppCred returns a credential with its roles and rules, or
// Keystone's ApplicationCredentialNotFound.
func getAppCred(ctx context.Context, q store.Querier, id string) (*ApplicationCredential, error) {
	ac, _, err := getAppCredWithHash(ctx, q, id)
	return ac, err
}

func getAppCredWithHash(ctx context.Context, q store.Querier, id string) (*ApplicationCredential, string, error) {
	ac, hash, err := scanAppCred(q.QueryRowContext(ctx, `SELECT `+appCredColumns+` FROM application_credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", notFound("Application Credential", id)
	}
	if err != nil {
		return nil, "", fmt.Errorf("get application credential %s: %w", id, err)
	}
	if err := fillAppCred(ctx, q, ac); err != nil {
		return nil, "", err
	}
	return ac, hash, nil
}

// GetApplicationCredential returns an application credential by id.
func (s *Service) GetApplicationCredential(ctx context.Context, id string) (*ApplicationCredential, error) {
	return getAppCred(ctx, s.db, id)
}

// ListApplicationCredentials lists userID's application credentials,
// oldest first, those named name only when name is not "".
func (s *Service) ListApplicationCredentials(ctx context.Context, userID, name string) ([]ApplicationCredential, error) {
	var c conds
	c.add("user_id = ?", userID)
	if name != "" {
		c.add("name = ?", name)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+appCredColumns+` FROM application_credentials`+c.where()+` ORDER BY created_at, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list application credentials of %s: %w", userID, err)
	}
	var out []ApplicationCredential
	for rows.Next() {
		ac, _, err := scanAppCred(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list application credentials of %s: %w", userID, err)
		}
		out = append(out, *ac)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list application credentials of %s: %w", userID, err)
	}
	for i := range out {
		if err := fillAppCred(ctx, s.db, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteApplicationCredential deletes an application credential; the
// tokens issued from it stop working.
func (s *Service) DeleteApplicationCredential(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getAppCred(ctx, tx, id); err != nil {
			return err
		}
		return deleteAppCreds(ctx, tx, `id = ?`, id)
	})
}

// deleteAppCreds deletes the credentials matching where, with their role
// and access rule links and their tokens.
func deleteAppCreds(ctx context.Context, tx *store.Tx, where string, args ...any) error {
	sub := `SELECT id FROM application_credentials WHERE ` + where
	for _, q := range []string{
		`DELETE FROM application_credential_roles WHERE app_cred_id IN (` + sub + `)`,
		`DELETE FROM application_credential_access_rules WHERE app_cred_id IN (` + sub + `)`,
		`DELETE FROM tokens WHERE app_cred_id <> '' AND app_cred_id IN (` + sub + `)`,
		`DELETE FROM application_credentials WHERE ` + where,
	} {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("delete application credentials: %w", err)
		}
	}
	return nil
}

// deleteUserAppCreds is Keystone's callback on a user's deletion: the
// user's application credentials and access rules go with it.
func deleteUserAppCreds(ctx context.Context, tx *store.Tx, userID string) error {
	if err := deleteAppCreds(ctx, tx, `user_id = ?`, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_rules WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete access rules of %s: %w", userID, err)
	}
	return nil
}

// deleteRoleAppCreds is Keystone's _send_app_cred_notification_for_role_removal:
// before a role goes, every user holding it on a project loses all of
// their application credentials on that project.
func deleteRoleAppCreds(ctx context.Context, tx *store.Tx, roleID string) error {
	return deleteAppCreds(ctx, tx, `EXISTS (SELECT 1 FROM role_assignments a WHERE a.role_id = ?
		AND a.target_type = 'project' AND a.actor_id = application_credentials.user_id
		AND a.target_id = application_credentials.project_id)`, roleID)
}

// GetAccessRule returns userID's access rule id, or Keystone's 404.
func (s *Service) GetAccessRule(ctx context.Context, userID, id string) (*auth.AccessRule, error) {
	r, ok, err := findAccessRule(ctx, s.db, `id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Access Rule", id)
	}
	return &r, nil
}

// ListAccessRules lists userID's access rules, oldest first.
func (s *Service) ListAccessRules(ctx context.Context, userID string, f AccessRuleFilter) ([]auth.AccessRule, error) {
	var c conds
	c.add("user_id = ?", userID)
	if f.Service != "" {
		c.add("service = ?", f.Service)
	}
	if f.Path != "" {
		c.add("path = ?", f.Path)
	}
	if f.Method != "" {
		c.add("method = ?", f.Method)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accessRuleColumns+` FROM access_rules`+c.where()+` ORDER BY created_at, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list access rules of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []auth.AccessRule
	for rows.Next() {
		var r auth.AccessRule
		if err := rows.Scan(&r.ID, &r.Service, &r.Path, &r.Method); err != nil {
			return nil, fmt.Errorf("list access rules of %s: %w", userID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteAccessRule deletes userID's access rule id unless an application
// credential still uses it (Keystone's 403).
func (s *Service) DeleteAccessRule(ctx context.Context, userID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, ok, err := findAccessRule(ctx, tx, `id = ? AND user_id = ?`, id, userID); err != nil {
			return err
		} else if !ok {
			return notFound("Access Rule", id)
		}
		inUse, err := exists(ctx, tx, `SELECT 1 FROM application_credential_access_rules WHERE access_rule_id = ?`, id)
		if err != nil {
			return err
		}
		if inUse {
			return errs.Forbidden("May not delete access rule in use")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_rules WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete access rule %s: %w", id, err)
		}
		return nil
	})
}

// authenticateAppCred is the application_credential auth method: it
// finds the credential (Keystone's 404 for an unknown id, 401 for an
// unknown name), checks its secret and expiry, and returns it with its
// enabled owner. Any user given with an id is ignored (LP#2148477).
func (s *Service) authenticateAppCred(ctx context.Context, a AppCredAuth) (*ApplicationCredential, *User, error) {
	var id string
	switch {
	case a.ID != "":
		id = a.ID
	case a.Name != "":
		if !a.UserGiven {
			return nil, nil, errs.Invalid("Expecting to find user in application credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
		}
		userID, err := s.appCredOwner(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		err = s.db.QueryRowContext(ctx, `SELECT id FROM application_credentials WHERE user_id = ? AND name = ?`, userID, a.Name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, errs.Unauthorized("Could not find application credential: %s", a.Name)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("find application credential %s: %w", a.Name, err)
		}
	default:
		return nil, nil, errs.Invalid("Expecting to find name or ID in application credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	ac, hash, err := getAppCredWithHash(ctx, s.db, id)
	if err != nil {
		return nil, nil, err
	}
	user, err := getUser(ctx, s.db, ac.UserID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil, unauthorized()
	}
	if err != nil {
		return nil, nil, err
	}
	d, err := getDomain(ctx, s.db, user.DomainID)
	if err != nil {
		return nil, nil, err
	}
	if !user.Enabled || !d.Enabled {
		return nil, nil, unauthorized()
	}
	ok, err := s.passwords.check(hash, a.Secret)
	if err != nil {
		return nil, nil, err
	}
	if !ok || (ac.ExpiresAt != nil && !s.opts.now().Before(*ac.ExpiresAt)) {
		return nil, nil, errs.Unauthorized("Invalid application credential ID or secret")
	}
	return ac, user, nil
}

// appCredOwner resolves the user of an auth request by name: its id, or
// its name in a domain given by id or name; an unknown one is a 401.
func (s *Service) appCredOwner(ctx context.Context, a AppCredAuth) (string, error) {
	if a.UserID != "" {
		return a.UserID, nil
	}
	if a.UserName == "" {
		return "", errs.Invalid("Expecting to find id or name in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	var d *Domain
	var err error
	switch {
	case a.DomainID != "":
		d, err = getDomain(ctx, s.db, a.DomainID)
	case a.DomainName != "":
		d, err = getDomainByName(ctx, s.db, a.DomainName)
	default:
		return "", errs.Invalid("Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if errs.Is(err, errs.KindNotFound) {
		return "", unauthorized()
	}
	if err != nil {
		return "", err
	}
	var id string
	err = s.db.QueryRowContext(ctx, `SELECT id FROM users WHERE name = ? AND domain_id = ?`, a.UserName, d.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", unauthorized()
	}
	if err != nil {
		return "", fmt.Errorf("find user %s: %w", a.UserName, err)
	}
	return id, nil
}

// scopeToAppCred scopes t to the credential's project with the
// credential's roles the user still holds there; a deleted project is
// Keystone's 404, a disabled one or no roles left its 401.
func (s *Service) scopeToAppCred(ctx context.Context, t *Token, ac *ApplicationCredential) error {
	p, err := getProject(ctx, s.db, ac.ProjectID)
	if err != nil {
		return err
	}
	if err := s.scopeToProject(ctx, t, p); err != nil {
		return err
	}
	t.Roles = intersectRoles(t.Roles, ac.Roles)
	if len(t.Roles) == 0 {
		return unauthorized()
	}
	t.AppCred = tokenAppCred(ac)
	// A token lives no longer than its credential (CVE-2022-2447).
	if ac.ExpiresAt != nil && t.ExpiresAt.After(*ac.ExpiresAt) {
		t.ExpiresAt = *ac.ExpiresAt
	}
	return nil
}

func tokenAppCred(ac *ApplicationCredential) *auth.AppCredential {
	return &auth.AppCredential{ID: ac.ID, Name: ac.Name, Unrestricted: ac.Unrestricted, AccessRules: ac.AccessRules}
}

// ValidAccessRuleMethod reports whether m is a method an access rule may name.
func ValidAccessRuleMethod(m string) bool {
	return slices.Contains([]string{"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"}, m)
}

// ParseExpiresAt reads an expires_at as Keystone's parse_expiration_date:
// ISO 8601, UTC unless it says otherwise.
func ParseExpiresAt(v string) (time.Time, error) {
	s := v
	if !strings.HasSuffix(s, "Z") && !hasOffset(s) {
		s += "Z"
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errs.Invalid("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
}

// hasOffset reports a trailing ±hh:mm zone.
func hasOffset(s string) bool {
	if len(s) < 6 {
		return false
	}
	z := s[len(s)-6:]
	return (z[0] == '+' || z[0] == '-') && z[3] == ':' && strings.Contains(s, "T")
}

// narrowToAppCred completes a token issued from an application
// credential: its roles are the credential's that the user still holds
// (Keystone's _get_application_credential_roles), and a deleted
// credential invalidates it.
func narrowToAppCred(ctx context.Context, q store.Querier, t *Token) error {
	ac, err := getAppCred(ctx, q, t.AppCred.ID)
	if errs.Is(err, errs.KindNotFound) {
		return errTokenInvalid
	}
	if err != nil {
		return err
	}
	t.Roles = intersectRoles(t.Roles, ac.Roles)
	t.AppCred = tokenAppCred(ac)
	return nil
}

// issueAppCredToken issues a token for the application_credential
// method: scoped to the credential's project, with its roles, never
// longer-lived than it. Such a request may not name a scope, nor combine
// the method with others (kumo authenticates one identity per request).
func (s *Service) issueAppCredToken(ctx context.Context, req AuthRequest) (*Token, error) {
	if len(req.Methods) != 1 {
		return nil, errs.Unauthorized("Attempted to authenticate with an unsupported method.")
	}
	if req.AppCred == nil {
		return nil, errs.Invalid("Invalid input for field 'identity': 'application_credential' is a required property")
	}
	if req.ScopeGiven {
		return nil, errs.Unauthorized("Error authenticating with application credential: Application credentials cannot request a scope.")
	}
	ac, user, err := s.authenticateAppCred(ctx, *req.AppCred)
	if err != nil {
		return nil, err
	}
	now := truncMicro(s.opts.now())
	t := &Token{IssuedAt: now, ExpiresAt: now.Add(s.opts.TokenTTL), Methods: []string{"application_credential"},
		UserID: user.ID, UserName: user.Name, UserDomainID: user.DomainID}
	return s.finishAppCredToken(ctx, t, user, ac, "")
}

// renewAppCredToken is the token method on a token issued from an
// application credential: Keystone forbids a scope and keeps the new
// token bound to the credential (its project and roles).
func (s *Service) renewAppCredToken(ctx context.Context, req AuthRequest, t *Token, user *User, orig *Token, chainID string) (*Token, error) {
	if req.ScopeGiven {
		return nil, errs.Forbidden("You are not authorized to perform the requested action: Using an application credential token to create a scoped token is not allowed.")
	}
	ac, err := getAppCred(ctx, s.db, orig.AppCred.ID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, notFound("token", req.Token)
	}
	if err != nil {
		return nil, err
	}
	t.UserID, t.UserName, t.UserDomainID = user.ID, user.Name, user.DomainID
	return s.finishAppCredToken(ctx, t, user, ac, chainID)
}

func (s *Service) finishAppCredToken(ctx context.Context, t *Token, user *User, ac *ApplicationCredential, chainID string) (*Token, error) {
	ud, err := getDomain(ctx, s.db, user.DomainID)
	if err != nil {
		return nil, err
	}
	t.UserDomainName = ud.Name
	if err := s.scopeToAppCred(ctx, t, ac); err != nil {
		return nil, err
	}
	auditID := newAuditID()
	t.AuditIDs = []string{auditID}
	if chainID != "" {
		t.AuditIDs = append(t.AuditIDs, chainID)
	}
	if err := s.storeToken(ctx, t, auditID, chainID); err != nil {
		return nil, err
	}
	return t, nil
}
