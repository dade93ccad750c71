package identity

// Keystone's credentials API (/v3/credentials): credentials of any type
// with an opaque blob, encrypted at rest. EC2 credentials are the ones of
// type "ec2", whose blob is JSON naming the access key; their id is the
// SHA-256 of that key, so OS-EC2 (ec2.go) and ec2tokens see them too.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Credential is a stored credential with its blob in clear.
type Credential struct {
	ID        string
	UserID    string
	ProjectID string // "" when none
	Type      string
	Blob      string
	Extra     map[string]any
}

const credentialColumns = `id, user_id, project_id, type, encrypted_blob, extra`

func (s *Service) scanCredential(row interface{ Scan(...any) error }) (*Credential, error) {
	var c Credential
	var project sql.NullString
	var sealed, extra string
	if err := row.Scan(&c.ID, &c.UserID, &project, &c.Type, &sealed, &extra); err != nil {
		return nil, err
	}
	c.ProjectID = project.String
	plain, err := s.opts.Secrets.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("decrypt credential %s: %w", c.ID, err)
	}
	c.Blob = plain
	if c.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("credential %s: %w", c.ID, err)
	}
	return &c, nil
}

// ec2Access validates an ec2 credential's blob as Keystone's
// _validate_blob_json and returns its access key.
func ec2Access(blob string) (string, error) {
	var b map[string]any
	if err := json.Unmarshal([]byte(blob), &b); err != nil {
		return "", errs.Invalid("Invalid blob in credential")
	}
	if len(b) == 0 {
		return "", catalogValidation("blob", "credential")
	}
	access, ok := b["access"]
	if !ok || access == nil {
		return "", catalogValidation("access", "credential")
	}
	if s, ok := access.(string); ok {
		return s, nil
	}
	return fmt.Sprint(access), nil
}

// isEC2 is Keystone's test of an ec2 credential's type.
func isEC2(typ string) bool { return strings.EqualFold(typ, credTypeEC2) }

// GetCredential returns a credential.
func (s *Service) GetCredential(ctx context.Context, id string) (*Credential, error) {
	c, err := s.scanCredential(s.db.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("credential", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get credential %s: %w", id, err)
	}
	return c, nil
}

// ListCredentials lists credentials, oldest first, of a user and a type
// when not empty.
func (s *Service) ListCredentials(ctx context.Context, userID, typ string) ([]Credential, error) {
	q, args := `SELECT `+credentialColumns+` FROM credentials WHERE 1 = 1`, []any{}
	if userID != "" {
		q, args = q+` AND user_id = ?`, append(args, userID)
	}
	if typ != "" {
		q, args = q+` AND type = ?`, append(args, typ)
	}
	return listRows(ctx, s.db, "credentials", q+` ORDER BY created_at, id`, args, s.scanCredential)
}

// CreateCredential stores a credential. An ec2 one's id is the hash of
// its access key (a second one with the same key is a 409); others get a
// new id unless given one.
func (s *Service) CreateCredential(ctx context.Context, c Credential) (*Credential, error) {
	if isEC2(c.Type) {
		access, err := ec2Access(c.Blob)
		if err != nil {
			return nil, err
		}
		c.ID = ec2CredentialID(access)
	} else if c.ID == "" {
		c.ID = newID()
	}
	extra, err := encodeExtra(c.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if dup, err := exists(ctx, tx, `SELECT 1 FROM credentials WHERE id = ?`, c.ID); err != nil {
			return err
		} else if dup {
			return errs.Conflict("Conflict occurred attempting to store credential - Duplicate entry.")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO credentials (id, user_id, project_id, type, encrypted_blob, extra, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.ID, c.UserID, nullString(c.ProjectID), c.Type, s.opts.Secrets.Seal(c.Blob), extra, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create credential of user %s: %w", c.UserID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetCredential(ctx, c.ID)
}

// CredentialPatch is an update of a credential; nil fields are left alone.
type CredentialPatch struct {
	UserID, Type, Blob *string
	// SetProject: ProjectID replaces the project ("" clears it).
	SetProject bool
	ProjectID  string
	Extra      map[string]any
}

// UpdateCredential updates a credential. As Keystone's
// _validate_blob_update_keys, an ec2 credential's new blob must be valid
// and keep its trust, application credential and access token.
func (s *Service) UpdateCredential(ctx context.Context, id string, p CredentialPatch) (*Credential, error) {
	cur, err := s.GetCredential(ctx, id)
	if err != nil {
		return nil, err
	}
	if isEC2(cur.Type) && p.Blob != nil {
		if _, err := ec2Access(*p.Blob); err != nil {
			return nil, err
		}
		var oldB, newB map[string]any
		_ = json.Unmarshal([]byte(cur.Blob), &oldB)
		_ = json.Unmarshal([]byte(*p.Blob), &newB)
		for _, k := range []string{"trust_id", "app_cred_id", "access_token_id", "access_id"} {
			if fmt.Sprint(oldB[k]) != fmt.Sprint(newB[k]) {
				return nil, errs.Invalid("%s can not be updated for credential", k)
			}
		}
	}
	if p.UserID != nil {
		cur.UserID = *p.UserID
	}
	if p.Type != nil {
		cur.Type = *p.Type
	}
	if p.Blob != nil {
		cur.Blob = *p.Blob
	}
	if p.SetProject {
		cur.ProjectID = p.ProjectID
	}
	extra, err := encodeExtra(mergeExtra(cur.Extra, p.Extra))
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE credentials SET user_id = ?, project_id = ?, type = ?, encrypted_blob = ?, extra = ?
		WHERE id = ?`, cur.UserID, nullString(cur.ProjectID), cur.Type, s.opts.Secrets.Seal(cur.Blob), extra, id); err != nil {
		return nil, fmt.Errorf("update credential %s: %w", id, err)
	}
	return s.GetCredential(ctx, id)
}

// DeleteCredential deletes a credential.
func (s *Service) DeleteCredential(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM credentials WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete credential %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete credential %s: %w", id, err)
	} else if n == 0 {
		return notFound("credential", id)
	}
	return nil
}
