package keypair

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

const columns = `id, user_id, name, type, public_key, fingerprint, created_at`

type scanner interface{ Scan(dest ...any) error }

func scan(row scanner) (*KeyPair, error) {
	var kp KeyPair
	var created int64
	if err := row.Scan(&kp.ID, &kp.UserID, &kp.Name, &kp.Type, &kp.PublicKey, &kp.Fingerprint, &created); err != nil {
		return nil, err
	}
	kp.CreatedAt = store.Time(created)
	return &kp, nil
}

// Get returns userID's key pair called name.
func (s *Service) Get(ctx context.Context, userID, name string) (*KeyPair, error) {
	kp, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM key_pairs WHERE user_id = ? AND name = ?`, userID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(userID, name)
	}
	if err != nil {
		return nil, fmt.Errorf("get key pair %s: %w", name, err)
	}
	return kp, nil
}

// List returns userID's key pairs ordered by name: at most limit of them
// (-1: all), after the one named *marker when marker is not nil. An
// unknown marker is a 400, as the os-keypairs API reports it.
func (s *Service) List(ctx context.Context, userID string, limit int, marker *string) ([]*KeyPair, error) {
	q := `SELECT ` + columns + ` FROM key_pairs WHERE user_id = ?`
	args := []any{userID}
	if marker != nil {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ? AND name = ?`,
			userID, *marker).Scan(&n); err != nil {
			return nil, fmt.Errorf("find key pair marker: %w", err)
		}
		if n == 0 {
			return nil, errs.Invalid("Marker %s could not be found.", *marker)
		}
		q += ` AND name > ?`
		args = append(args, *marker)
	}
	q += ` ORDER BY name`
	if limit >= 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list key pairs: %w", err)
	}
	defer rows.Close()
	var out []*KeyPair
	for rows.Next() {
		kp, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("read key pair: %w", err)
		}
		out = append(out, kp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list key pairs: %w", err)
	}
	return out, nil
}

// Count is how many key pairs userID owns (what the key_pairs quota counts).
func (s *Service) Count(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count key pairs: %w", err)
	}
	return n, nil
}

// Delete removes userID's key pair called name.
func (s *Service) Delete(ctx context.Context, userID, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM key_pairs WHERE user_id = ? AND name = ?`, userID, name)
	if err != nil {
		return fmt.Errorf("delete key pair %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete key pair %s: %w", name, err)
	}
	if n == 0 {
		return notFound(userID, name)
	}
	return nil
}
