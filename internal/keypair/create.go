package keypair

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
)

// CreateInput asks for a key pair. A nil PublicKey generates one (the API
// allows that before microversion 2.92).
type CreateInput struct {
	UserID    string // owner
	ProjectID string // the caller's project, for the quota lookup
	Name      string
	Type      string // TypeSSH when empty
	PublicKey *string
}

// Create imports or generates a key pair. privateKey is set only for a
// generated pair and is not stored anywhere. The quota count and the
// insert share one transaction, so concurrent creates never exceed it.
func (s *Service) Create(ctx context.Context, in CreateInput) (kp *KeyPair, privateKey string, err error) {
	if in.Type == "" {
		in.Type = TypeSSH
	}
	if in.Type != TypeSSH && in.Type != TypeX509 {
		return nil, "", invalidKeypair(fmt.Sprintf("unknown key pair type %q", in.Type))
	}
	limit, err := s.limit(ctx, in.ProjectID, in.UserID)
	if err != nil {
		return nil, "", fmt.Errorf("key pair limit for user %s: %w", in.UserID, err)
	}
	// Nova checks the quota before it looks at the key.
	if limit >= 0 {
		n, err := s.Count(ctx, in.UserID)
		if err != nil {
			return nil, "", err
		}
		if quota.Exceeds(limit, n, 1) {
			return nil, "", overQuota()
		}
	}
	var publicKey string
	if in.PublicKey != nil {
		publicKey = *in.PublicKey
	} else {
		g, err := generate(ctx, in.Type, in.UserID)
		if err != nil {
			return nil, "", err
		}
		publicKey, privateKey = g.publicKey, g.privateKey
	}
	fingerprint, err := Fingerprint(in.Type, publicKey)
	if err != nil {
		return nil, "", err
	}
	kp = &KeyPair{UserID: in.UserID, Name: in.Name, Type: in.Type, PublicKey: publicKey, Fingerprint: fingerprint}
	err = s.db.InTx(ctx, func(tx *store.Tx) error { return insert(ctx, tx, kp, limit) })
	if err != nil {
		return nil, "", err
	}
	return kp, privateKey, nil
}

func overQuota() error { return errs.OverQuota("Quota exceeded, too many key pairs.") }

func exists(name string) error { return errs.Conflict("Key pair '%s' already exists.", name) }

// insert stores kp (setting its id and creation time) unless the name is
// taken or the user's count would pass limit (-1: unlimited).
func insert(ctx context.Context, tx *store.Tx, kp *KeyPair, limit int) error {
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ? AND name = ?`,
		kp.UserID, kp.Name).Scan(&taken); err != nil {
		return fmt.Errorf("check key pair name: %w", err)
	}
	if limit >= 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ?`, kp.UserID).Scan(&n); err != nil {
			return fmt.Errorf("count key pairs: %w", err)
		}
		if quota.Exceeds(limit, n, 1) {
			return overQuota()
		}
	}
	if taken > 0 {
		return exists(kp.Name)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM key_pairs`).Scan(&kp.ID); err != nil {
		return fmt.Errorf("next key pair id: %w", err)
	}
	now := store.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO key_pairs (id, user_id, name, type, public_key, fingerprint, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, kp.ID, kp.UserID, kp.Name, kp.Type, kp.PublicKey, kp.Fingerprint, now)
	if store.IsUniqueViolation(err) {
		// A concurrent create of the same name won.
		return exists(kp.Name)
	}
	if err != nil {
		return fmt.Errorf("insert key pair %s: %w", kp.Name, err)
	}
	kp.CreatedAt = store.Time(now)
	return nil
}
