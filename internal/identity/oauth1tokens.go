package identity

// The OS-OAUTH1 delegation flow, as keystone/api/os_oauth1.py and
// keystone/oauth1 run it: a consumer asks for a request token on a
// project, a user holding roles there authorizes it with some of them
// (the answer is a verifier), the consumer exchanges the request token
// and the verifier for an access token, and signs token requests with it
// (the oauth1 auth method) to act as the user on the project with those
// roles. Secrets are sealed (signatures are checked with them), verifiers
// kept as hashes; each secret is shown once.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Keystone's [oauth1] request_token_duration and access_token_duration.
const (
	RequestTokenDuration = 28800 * time.Second
	AccessTokenDuration  = 86400 * time.Second
)

// verifierChars are the characters of a verifier: letters and digits
// but those easily confused (Keystone's VERIFIER_CHARS).
const verifierChars = "abcdefghkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// OAuthCredential is a request or access token as the consumer receives
// it: its key, its secret and its expiry.
type OAuthCredential struct {
	Key       string
	Secret    string
	ExpiresAt time.Time
}

// AccessToken is an OAuth1 access token, without its secret.
type AccessToken struct {
	ID                string
	ConsumerID        string
	AuthorizingUserID string
	ProjectID         string
	RoleIDs           []string
	ExpiresAt         time.Time
	sealedSecret      string
}

// TokenOAuth1 is what a token issued through an access token shows of it.
type TokenOAuth1 struct {
	AccessTokenID string
	ConsumerID    string
}

// requestToken is a stored request token.
type requestToken struct {
	id, consumerID, projectID, sealedSecret string
	verifierHash, userID                    string
	roleIDs                                 string // JSON list
	expiresAt                               time.Time
}

func requestTokenNotFound() error { return errs.NotFound("Request token not found") }
func accessTokenNotFound() error  { return errs.NotFound("Access token not found") }

func getRequestToken(ctx context.Context, q store.Querier, id string) (*requestToken, error) {
	var rt requestToken
	var expires int64
	err := q.QueryRowContext(ctx, `SELECT id, consumer_id, project_id, sealed_secret, verifier_hash, authorizing_user_id, role_ids, expires_at
		FROM oauth1_request_tokens WHERE id = ?`, id).Scan(&rt.id, &rt.consumerID, &rt.projectID, &rt.sealedSecret,
		&rt.verifierHash, &rt.userID, &rt.roleIDs, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, requestTokenNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("get request token %s: %w", id, err)
	}
	rt.expiresAt = store.Time(expires)
	return &rt, nil
}

const accessTokenColumns = `id, consumer_id, authorizing_user_id, project_id, role_ids, expires_at, sealed_secret`

func scanAccessToken(row interface{ Scan(...any) error }) (*AccessToken, error) {
	var at AccessToken
	var roles string
	var expires int64
	if err := row.Scan(&at.ID, &at.ConsumerID, &at.AuthorizingUserID, &at.ProjectID, &roles, &expires, &at.sealedSecret); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &at.RoleIDs); err != nil {
		return nil, fmt.Errorf("roles of access token %s: %w", at.ID, err)
	}
	at.ExpiresAt = store.Time(expires)
	return &at, nil
}

func getAccessToken(ctx context.Context, q store.Querier, id string) (*AccessToken, error) {
	at, err := scanAccessToken(q.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM oauth1_access_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accessTokenNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("get access token %s: %w", id, err)
	}
	return at, nil
}

// CreateRequestToken answers a consumer's signed request for a request
// token on projectID (its Requested-Project-Id header).
func (s *Service) CreateRequestToken(ctx context.Context, r OAuthRequest, projectID string) (*OAuthCredential, error) {
	sr, err := parseOAuth(r)
	if err != nil {
		return nil, err
	}
	consumerID := sr.oauth["oauth_consumer_key"]
	switch {
	case consumerID == "":
		return nil, validationError("oauth_consumer_key", "request")
	case projectID == "":
		return nil, validationError("Requested-Project-Id", "request")
	}
	if _, err := getProject(ctx, s.db, projectID); err != nil {
		return nil, err
	}
	consumerSecret, err := s.ConsumerSecret(ctx, consumerID)
	if err != nil {
		return nil, err
	}
	if err := sr.checkProtocol(s.opts.now()); err != nil {
		return nil, err
	}
	if sr.oauth["oauth_callback"] == "" {
		return nil, oauthInvalid("Missing callback URI.")
	}
	if !sr.verify(consumerSecret, "") {
		return nil, errs.Unauthorized("Invalid signature")
	}
	cr := &OAuthCredential{Key: newID(), Secret: newID(), ExpiresAt: truncMicro(s.opts.now().Add(RequestTokenDuration))}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oauth1_request_tokens (id, consumer_id, project_id, sealed_secret, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, cr.Key, consumerID, projectID, s.opts.Secrets.Seal(cr.Secret), cr.ExpiresAt.UnixMicro(), s.nowMicros())
	if err != nil {
		return nil, fmt.Errorf("create request token: %w", err)
	}
	return cr, nil
}

// AuthorizeRequestToken has userID authorize a request token with roles
// it holds on the token's project, and returns the verifier the consumer
// needs for its access token.
func (s *Service) AuthorizeRequestToken(ctx context.Context, id, userID string, roles []TrustRoleRef) (string, error) {
	rt, err := getRequestToken(ctx, s.db, id)
	if err != nil {
		return "", err
	}
	if !s.opts.now().Before(rt.expiresAt) {
		return "", errs.Unauthorized("Request token is expired")
	}
	ids, err := s.trustRoleIDs(ctx, s.db, roles)
	if err != nil {
		return "", err
	}
	if _, err := getProject(ctx, s.db, rt.projectID); err != nil {
		return "", err
	}
	held, err := s.trustorRoleIDs(ctx, userID, rt.projectID)
	if err != nil {
		return "", err
	}
	for _, r := range ids {
		if !slices.Contains(held, r) {
			return "", errs.Unauthorized("authorizing user does not have role required")
		}
	}
	verifier := newVerifier()
	roleJSON, err := json.Marshal(append([]string{}, ids...))
	if err != nil {
		return "", err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE oauth1_request_tokens SET authorizing_user_id = ?, verifier_hash = ?, role_ids = ? WHERE id = ?`,
		userID, tokenHash(verifier), string(roleJSON), id)
	if err != nil {
		return "", fmt.Errorf("authorize request token %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("authorize request token %s: %w", id, err)
	} else if n == 0 {
		return "", requestTokenNotFound()
	}
	return verifier, nil
}

// newVerifier is 8 distinct random verifier characters, as Keystone's
// random.sample of them.
func newVerifier() string {
	chars := []byte(verifierChars)
	out := make([]byte, 8)
	for i := range out {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars)))) // crypto/rand never fails (Go 1.24+)
		j := int(n.Int64())
		out[i] = chars[j]
		chars = slices.Delete(chars, j, j+1)
	}
	return string(out)
}

// CreateAccessToken exchanges an authorized request token for an access
// token: the consumer signs the request with the request token's secret
// and names the verifier. The request token is used up.
func (s *Service) CreateAccessToken(ctx context.Context, r OAuthRequest) (*OAuthCredential, error) {
	sr, err := parseOAuth(r)
	if err != nil {
		return nil, err
	}
	consumerID, rtID, verifier := sr.oauth["oauth_consumer_key"], sr.oauth["oauth_token"], sr.oauth["oauth_verifier"]
	switch {
	case consumerID == "":
		return nil, validationError("oauth_consumer_key", "request")
	case rtID == "":
		return nil, validationError("oauth_token", "request")
	case verifier == "":
		return nil, validationError("oauth_verifier", "request")
	}
	rt, err := getRequestToken(ctx, s.db, rtID)
	if err != nil {
		return nil, err
	}
	if !s.opts.now().Before(rt.expiresAt) {
		return nil, errs.Unauthorized("Request token is expired")
	}
	if err := sr.checkProtocol(s.opts.now()); err != nil {
		return nil, err
	}
	if len(verifier) != 8 || strings.Trim(verifier, verifierChars) != "" {
		return nil, oauthInvalid("Invalid verifier format.")
	}
	consumerSecret, err := s.ConsumerSecret(ctx, consumerID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.Unauthorized("Provided consumer does not exist.")
	}
	if err != nil {
		return nil, err
	}
	if rt.consumerID != consumerID {
		return nil, errs.Unauthorized("Provided consumer key does not match stored consumer key.")
	}
	tokenSecret, err := s.opts.Secrets.Open(rt.sealedSecret)
	if err != nil {
		return nil, fmt.Errorf("open secret of request token %s: %w", rtID, err)
	}
	// An unauthorized token has no verifier, so none matches.
	if rt.verifierHash == "" || subtle.ConstantTimeCompare([]byte(tokenHash(verifier)), []byte(rt.verifierHash)) != 1 {
		return nil, errs.Unauthorized("Provided verifier does not match stored verifier")
	}
	if !sr.verify(consumerSecret, tokenSecret) {
		return nil, errs.Unauthorized("Invalid signature")
	}
	cr := &OAuthCredential{Key: newID(), Secret: newID(), ExpiresAt: truncMicro(s.opts.now().Add(AccessTokenDuration))}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oauth1_request_tokens WHERE id = ?`, rtID)
		if err != nil {
			return fmt.Errorf("use request token %s: %w", rtID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("use request token %s: %w", rtID, err)
		} else if n == 0 {
			return requestTokenNotFound() // used by a concurrent exchange
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth1_access_tokens (id, consumer_id, authorizing_user_id, project_id, sealed_secret, role_ids, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, cr.Key, consumerID, rt.userID, rt.projectID, s.opts.Secrets.Seal(cr.Secret), rt.roleIDs,
			cr.ExpiresAt.UnixMicro(), s.nowMicros())
		if err != nil {
			return fmt.Errorf("create access token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cr, nil
}

// verifyAccessTokenRequest checks a token request of the oauth1 method:
// signed by the access token's consumer with the access token.
func (s *Service) verifyAccessTokenRequest(ctx context.Context, r OAuthRequest) (*AccessToken, error) {
	sr, err := parseOAuth(r)
	if err != nil {
		return nil, err
	}
	id := sr.oauth["oauth_token"]
	if id == "" {
		return nil, validationError("oauth_token", "request")
	}
	at, err := getAccessToken(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !s.opts.now().Before(at.ExpiresAt) {
		return nil, errs.Unauthorized("Access token is expired")
	}
	// Keystone says no more of a failure here.
	invalid := errs.Unauthorized("Could not validate the access token")
	if sr.checkProtocol(s.opts.now()) != nil {
		return nil, invalid
	}
	consumerID := sr.oauth["oauth_consumer_key"]
	// Keystone does not check that the consumer is the token's: kumo does.
	if consumerID != at.ConsumerID {
		return nil, invalid
	}
	consumerSecret, err := s.ConsumerSecret(ctx, consumerID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	tokenSecret, err := s.opts.Secrets.Open(at.sealedSecret)
	if err != nil {
		return nil, fmt.Errorf("open secret of access token %s: %w", id, err)
	}
	if !sr.verify(consumerSecret, tokenSecret) {
		return nil, invalid
	}
	return at, nil
}

// issueOAuth1Token issues a token for the oauth1 method: the authorizing
// user's, scoped to the access token's project with the access token's
// roles the user still holds there. Like an application credential, the
// method stands alone and its scope is its own.
func (s *Service) issueOAuth1Token(ctx context.Context, req AuthRequest) (*Token, error) {
	if len(req.Methods) != 1 {
		return nil, errs.Unauthorized("Attempted to authenticate with an unsupported method.")
	}
	if req.OAuth1 == nil {
		return nil, validationError("oauth1", "identity")
	}
	at, err := s.verifyAccessTokenRequest(ctx, *req.OAuth1)
	if err != nil {
		return nil, err
	}
	user, err := getUser(ctx, s.db, at.AuthorizingUserID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, err
	}
	ud, err := getDomain(ctx, s.db, user.DomainID)
	if err != nil {
		return nil, err
	}
	if !user.Enabled || !ud.Enabled {
		return nil, unauthorized()
	}
	p, err := getProject(ctx, s.db, at.ProjectID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, err
	}
	now := truncMicro(s.opts.now())
	t := &Token{IssuedAt: now, ExpiresAt: now.Add(s.opts.TokenTTL), Methods: []string{"oauth1"},
		UserID: user.ID, UserName: user.Name, UserDomainID: user.DomainID, UserDomainName: ud.Name}
	if err := s.scopeToProject(ctx, t, p); err != nil {
		return nil, err
	}
	if err := narrowToAccessToken(ctx, s.db, t, at); err != nil {
		return nil, err
	}
	if len(t.Roles) == 0 {
		return nil, unauthorized()
	}
	auditID := newAuditID()
	t.AuditIDs = []string{auditID}
	if err := s.storeToken(ctx, t, auditID, ""); err != nil {
		return nil, err
	}
	return t, nil
}

// narrowToAccessToken keeps of t's roles those the access token grants,
// with the roles they imply (Keystone's _get_oauth_roles).
func narrowToAccessToken(ctx context.Context, q store.Querier, t *Token, at *AccessToken) error {
	rules, err := impliedRules(ctx, q)
	if err != nil {
		return err
	}
	granted := make([]Assignment, 0, len(at.RoleIDs))
	for _, id := range at.RoleIDs {
		granted = append(granted, Assignment{RoleID: id})
	}
	var allowed []Role
	for _, a := range expandImplied(granted, rules) {
		allowed = append(allowed, Role{ID: a.RoleID})
	}
	t.Roles = intersectRoles(t.Roles, allowed)
	t.OAuth1 = &TokenOAuth1{AccessTokenID: at.ID, ConsumerID: at.ConsumerID}
	return nil
}

// ListAccessTokens lists the access tokens userID authorized, oldest first.
func (s *Service) ListAccessTokens(ctx context.Context, userID string) ([]AccessToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accessTokenColumns+` FROM oauth1_access_tokens WHERE authorizing_user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list access tokens: %w", err)
	}
	defer rows.Close()
	var out []AccessToken
	for rows.Next() {
		at, err := scanAccessToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list access tokens: %w", err)
		}
		out = append(out, *at)
	}
	return out, rows.Err()
}

// GetAccessToken returns an access token without its secret.
func (s *Service) GetAccessToken(ctx context.Context, id string) (*AccessToken, error) {
	return getAccessToken(ctx, s.db, id)
}

// DeleteAccessToken revokes userID's access token and so every token
// issued through it.
func (s *Service) DeleteAccessToken(ctx context.Context, userID, id string) error {
	defer s.tokensChanged()
	at, err := getAccessToken(ctx, s.db, id)
	if err != nil {
		return err
	}
	if at.AuthorizingUserID != userID {
		return errs.Unauthorized("User IDs do not match")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauth1_access_tokens WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete access token %s: %w", id, err)
	}
	return nil
}
