package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// EC2Credential is a user's EC2-style access and secret key pair for a
// project (Keystone's OS-EC2 credentials). The secret is shown to whoever
// may read the credential, as Keystone does; at rest it is encrypted.
type EC2Credential struct {
	Access    string
	Secret    string
	UserID    string
	ProjectID string
	// TrustID is the trust the credential was made through, which
	// Keystone records from a trust token; kumo does not (always "").
	TrustID string
}

// credTypeEC2 is Keystone's credential type of EC2 credentials.
const credTypeEC2 = "ec2"

// ec2Blob is the credential blob Keystone keeps, as JSON.
type ec2Blob struct {
	Access  string  `json:"access"`
	Secret  string  `json:"secret"`
	TrustID *string `json:"trust_id"`
}

// ec2CredentialID is the credential's id: the SHA-256 of its access key
// in hex, as Keystone's hash_access_key, so a lookup by access key needs
// no decryption.
func ec2CredentialID(access string) string { return tokenHash(access) }

// CreateEC2Credential makes a new access and secret key pair for userID
// on projectID. Like Keystone it checks the user, then the project.
func (s *Service) CreateEC2Credential(ctx context.Context, userID, projectID string) (*EC2Credential, error) {
	cred := &EC2Credential{Access: newID(), Secret: newID(), UserID: userID, ProjectID: projectID}
	blob, err := json.Marshal(ec2Blob{Access: cred.Access, Secret: cred.Secret})
	if err != nil {
		return nil, fmt.Errorf("encode EC2 credential: %w", err)
	}
	sealed := s.opts.Secrets.Seal(string(blob))
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getUser(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := getProject(ctx, tx, projectID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO credentials (id, user_id, project_id, type, encrypted_blob, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, ec2CredentialID(cred.Access), userID, projectID, credTypeEC2, sealed, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create EC2 credential of user %s: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cred, nil
}

// ListEC2Credentials lists userID's EC2 credentials, oldest first; a
// missing user is a 404.
func (s *Service) ListEC2Credentials(ctx context.Context, userID string) ([]EC2Credential, error) {
	if _, err := getUser(ctx, s.db, userID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, project_id, type, encrypted_blob FROM credentials
		WHERE user_id = ? AND type = ? ORDER BY created_at, id`, userID, credTypeEC2)
	if err != nil {
		return nil, fmt.Errorf("list EC2 credentials of user %s: %w", userID, err)
	}
	defer rows.Close()
	var out []EC2Credential
	for rows.Next() {
		c, err := s.scanEC2Credential(rows)
		if err != nil {
			return nil, fmt.Errorf("list EC2 credentials of user %s: %w", userID, err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list EC2 credentials of user %s: %w", userID, err)
	}
	return out, nil
}

// GetEC2Credential returns the credential of an access key. A missing one
// is Keystone's 404 naming the hashed id; a credential of another type
// is its 401 "EC2 access key not found.".
func (s *Service) GetEC2Credential(ctx context.Context, access string) (*EC2Credential, error) {
	id := ec2CredentialID(access)
	c, err := s.scanEC2Credential(s.db.QueryRowContext(ctx, `SELECT user_id, project_id, type, encrypted_blob
		FROM credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("credential", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get EC2 credential %s: %w", id, err)
	}
	return c, nil
}

// DeleteEC2Credential deletes the credential of an access key.
func (s *Service) DeleteEC2Credential(ctx context.Context, access string) error {
	id := ec2CredentialID(access)
	res, err := s.db.ExecContext(ctx, `DELETE FROM credentials WHERE id = ? AND type = ?`, id, credTypeEC2)
	if err != nil {
		return fmt.Errorf("delete EC2 credential %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete EC2 credential %s: %w", id, err)
	} else if n == 0 {
		return notFound("credential", id)
	}
	return nil
}

// scanEC2Credential reads and decrypts one credentials row.
func (s *Service) scanEC2Credential(row interface{ Scan(...any) error }) (*EC2Credential, error) {
	var c EC2Credential
	var project sql.NullString
	var typ, sealed string
	if err := row.Scan(&c.UserID, &project, &typ, &sealed); err != nil {
		return nil, err
	}
	if typ != credTypeEC2 {
		return nil, errs.Unauthorized("EC2 access key not found.")
	}
	c.ProjectID = project.String
	plain, err := s.opts.Secrets.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("decrypt credential of user %s: %w", c.UserID, err)
	}
	var b ec2Blob
	if err := json.Unmarshal([]byte(plain), &b); err != nil {
		return nil, fmt.Errorf("decode credential of user %s: %w", c.UserID, err)
	}
	c.Access, c.Secret = b.Access, b.Secret
	if b.TrustID != nil {
		c.TrustID = *b.TrustID
	}
	return &c, nil
}
