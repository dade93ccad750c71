package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// tokenQuery loads a live token with its user, scope and the roles the
// user holds on that scope, in one query (token checks are the hot path):
// tokens, users, projects, domains and roles by primary key, and the
// effective roles as rolesOnProjectQuery and rolesOnTargetQuery compute
// them, from the token's row. One row per role.
const tokenQuery = `WITH RECURSIVE
tok(user_id, project_id, domain_id, system_scope) AS (SELECT user_id, project_id, domain_id, system_scope FROM tokens WHERE hash = ?),
ancestors(id) AS (
	SELECT p.parent_id FROM projects p JOIN tok ON p.id = tok.project_id WHERE p.parent_id IS NOT NULL
	UNION
	SELECT p.parent_id FROM projects p JOIN ancestors an ON p.id = an.id WHERE p.parent_id IS NOT NULL),
granted(role_id) AS (
	SELECT a.role_id FROM role_assignments a JOIN tok ON ((a.actor_type = 'user' AND a.actor_id = tok.user_id)
		OR (a.actor_type = 'group' AND a.actor_id IN (SELECT group_id FROM group_members WHERE user_id = tok.user_id)))
	WHERE (tok.project_id <> '' AND ((a.inherited = FALSE AND a.target_type = 'project' AND a.target_id = tok.project_id)
			OR (a.inherited = TRUE AND a.target_type = 'domain' AND a.target_id = (SELECT domain_id FROM projects WHERE id = tok.project_id))
			OR (a.inherited = TRUE AND a.target_type = 'project' AND a.target_id IN (SELECT id FROM ancestors))))
		OR (tok.domain_id <> '' AND a.inherited = FALSE AND a.target_type = 'domain' AND a.target_id = tok.domain_id)
		OR (tok.system_scope <> '' AND a.inherited = FALSE AND a.target_type = 'system')
	UNION
	SELECT ir.implied_role_id FROM implied_roles ir JOIN granted g ON ir.prior_role_id = g.role_id)
SELECT t.user_id, u.name, u.domain_id, ud.name, u.enabled, ud.enabled,
	t.project_id, p.name, p.domain_id, pd.name, p.enabled, pd.enabled,
	t.domain_id, sd.name, sd.enabled,
	t.methods, t.audit_id, t.audit_chain_id, t.issued_at, t.expires_at,
	r.id, r.name, t.app_cred_id, t.trust_id, t.system_scope, t.oauth1_access_token_id
FROM tokens t
JOIN users u ON u.id = t.user_id
JOIN domains ud ON ud.id = u.domain_id
LEFT JOIN projects p ON t.project_id <> '' AND p.id = t.project_id
LEFT JOIN domains pd ON pd.id = p.domain_id
LEFT JOIN domains sd ON t.domain_id <> '' AND sd.id = t.domain_id
LEFT JOIN roles r ON r.domain_id = '' AND r.id IN (SELECT role_id FROM granted)
WHERE t.hash = ? AND t.revoked = FALSE AND t.expires_at > ?`

// errTokenInvalid marks a token that is unknown, expired, revoked, or
// whose user or scope is no longer usable.
var errTokenInvalid = errs.NotFound("token is not valid")

// loadToken returns the live token with hash, or errTokenInvalid.
func (s *Service) loadToken(ctx context.Context, q store.Querier, hash string) (*Token, error) {
	rows, err := q.QueryContext(ctx, tokenQuery, hash, hash, s.nowMicros())
	if err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	defer rows.Close()
	var t *Token
	userOK := true
	for rows.Next() {
		var (
			userEnabled, userDomainEnabled                    bool
			projectName, projectDomainID, projectDomainName   sql.NullString
			projectEnabled, projectDomainEnabled, domainEnabl sql.NullBool
			domainName, roleID, roleName                      sql.NullString
			methods, auditID, chainID, appCredID, system      string
			issued, expires                                   int64
			tok                                               Token
		)
		if err := rows.Scan(&tok.UserID, &tok.UserName, &tok.UserDomainID, &tok.UserDomainName, &userEnabled, &userDomainEnabled,
			&tok.ProjectID, &projectName, &projectDomainID, &projectDomainName, &projectEnabled, &projectDomainEnabled,
			&tok.DomainID, &domainName, &domainEnabl,
			&methods, &auditID, &chainID, &issued, &expires,
			&roleID, &roleName, &appCredID, &tok.trustID, &system, &tok.accessTokenID); err != nil {
			return nil, fmt.Errorf("load token: %w", err)
		}
		if t == nil {
			tok.ProjectName, tok.ProjectDomainID, tok.ProjectDomainName = projectName.String, projectDomainID.String, projectDomainName.String
			tok.DomainName = domainName.String
			tok.System = system != ""
			tok.Methods = strings.Split(methods, ",")
			tok.AuditIDs = []string{auditID}
			if chainID != "" && chainID != auditID {
				tok.AuditIDs = append(tok.AuditIDs, chainID)
			}
			tok.IssuedAt, tok.ExpiresAt = store.Time(issued), store.Time(expires)
			if appCredID != "" {
				tok.AppCred = &auth.AppCredential{ID: appCredID}
			}
			t = &tok
			userOK = userEnabled && userDomainEnabled
			if tok.ProjectID != "" && !(projectEnabled.Valid && projectEnabled.Bool && projectDomainEnabled.Bool) {
				userOK = false
			}
			if tok.DomainID != "" && !(domainEnabl.Valid && domainEnabl.Bool) {
				userOK = false
			}
		}
		if roleID.Valid {
			t.Roles = append(t.Roles, Role{ID: roleID.String, Name: roleName.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	rows.Close()
	if t != nil && t.AppCred != nil {
		if err := narrowToAppCred(ctx, q, t); err != nil {
			return nil, err
		}
	}
	if t != nil && t.trustID != "" && userOK {
		// A trust token lives while its trust does, with the trust's
		// roles the trustor still holds.
		tr, err := s.getTrust(ctx, q, t.trustID)
		if errs.Is(err, errs.KindNotFound) {
			return nil, errTokenInvalid
		}
		if err != nil {
			return nil, err
		}
		t.Trust = &TokenTrust{ID: tr.ID, TrustorUserID: tr.TrustorUserID, TrusteeUserID: tr.TrusteeUserID, Impersonation: tr.Impersonation}
		if err := s.applyTrust(ctx, q, t, tr); err != nil {
			if errs.Is(err, errs.KindForbidden) {
				return nil, errTokenInvalid
			}
			return nil, err
		}
	}
	if t != nil && t.accessTokenID != "" && userOK {
		// An OAuth1 token lives while its access token does, with the
		// access token's roles the user still holds.
		at, err := getAccessToken(ctx, q, t.accessTokenID)
		if errs.Is(err, errs.KindNotFound) {
			return nil, errTokenInvalid
		}
		if err != nil {
			return nil, err
		}
		if err := narrowToAccessToken(ctx, q, t, at); err != nil {
			return nil, err
		}
	}
	// A scoped token whose user lost every role on the scope is dead.
	if t == nil || !userOK || (t.Scoped() && len(t.Roles) == 0) {
		return nil, errTokenInvalid
	}
	return t, nil
}

// Authenticate implements auth.Authenticator for compute and image calls.
func (s *Service) Authenticate(ctx context.Context, token string) (*auth.Principal, error) {
	hash, now := tokenHash(token), s.opts.now()
	if p, ok := s.principals.get(hash, now); ok {
		return p, nil
	}
	gen := s.principals.generation()
	t, err := s.loadToken(ctx, s.db, hash)
	if err != nil {
		if errors.Is(err, errTokenInvalid) {
			return nil, unauthorized()
		}
		return nil, err
	}
	p := &auth.Principal{
		UserID: t.UserID, UserName: t.UserName, UserDomain: t.UserDomainID,
		ProjectID: t.ProjectID, ProjectName: t.ProjectName, ProjectDomainID: t.ProjectDomainID, DomainID: t.DomainID,
		System: t.System, ExpiresAt: t.ExpiresAt, Roles: make([]string, 0, len(t.Roles)), AppCred: t.AppCred,
		Delegated: t.Trust != nil || t.OAuth1 != nil,
	}
	for _, r := range t.Roles {
		p.Roles = append(p.Roles, r.Name)
	}
	if s.opts.TokenCacheTTL > 0 {
		until := now.Add(s.opts.TokenCacheTTL)
		if t.ExpiresAt.Before(until) {
			until = t.ExpiresAt
		}
		s.principals.put(hash, p, until, gen)
	}
	return p, nil
}

// ValidateToken returns the token's current description, or Keystone's
// 404 when it is invalid, expired or revoked.
func (s *Service) ValidateToken(ctx context.Context, token string) (*Token, error) {
	t, err := s.loadToken(ctx, s.db, tokenHash(token))
	if errors.Is(err, errTokenInvalid) {
		return nil, notFound("token", token)
	}
	return t, err
}

// RevokeToken revokes a valid token.
func (s *Service) RevokeToken(ctx context.Context, token string) error {
	defer s.tokensChanged()
	hash := tokenHash(token)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.loadToken(ctx, tx, hash); err != nil {
			if errors.Is(err, errTokenInvalid) {
				return notFound("token", token)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = TRUE WHERE hash = ?`, hash); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		return nil
	})
}

// PurgeExpired deletes expired tokens and reports how many went.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= ?`, s.nowMicros())
	if err != nil {
		return 0, fmt.Errorf("purge expired tokens: %w", err)
	}
	return res.RowsAffected()
}

// storeToken records a new token and returns its id.
func (s *Service) storeToken(ctx context.Context, t *Token, auditID, chainID string) error {
	t.ID = newTokenID()
	appCredID := ""
	if t.AppCred != nil {
		appCredID = t.AppCred.ID
	}
	// A trust token belongs to the trustee, whoever it shows as its user.
	user, trust, accessToken := t.UserID, "", ""
	if t.Trust != nil {
		user, trust = t.Trust.TrusteeUserID, t.Trust.ID
	}
	system := ""
	if t.System {
		system = "all"
	}
	if t.OAuth1 != nil {
		accessToken = t.OAuth1.AccessTokenID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (hash, user_id, project_id, domain_id, system_scope, methods, audit_id, audit_chain_id, issued_at, expires_at, revoked, app_cred_id, trust_id, oauth1_access_token_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?)`,
		tokenHash(t.ID), user, t.ProjectID, t.DomainID, system, strings.Join(t.Methods, ","), auditID, chainID,
		t.IssuedAt.UnixMicro(), t.ExpiresAt.UnixMicro(), appCredID, trust, accessToken)
	if err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	return nil
}

// truncMicro drops sub-microsecond precision so stored and returned times agree.
func truncMicro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// mergeMethods puts method first, then the earlier methods, without repeats.
func mergeMethods(method string, earlier []string) []string {
	out := []string{method}
	for _, m := range earlier {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
