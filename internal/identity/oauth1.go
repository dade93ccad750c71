package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Consumer is an OAuth1 consumer (OS-OAUTH1). Its secret signs the
// consumer's OAuth requests, so it is kept sealed, not hashed: kumo must
// be able to check HMAC signatures with it. It is shown once, when the
// consumer is made.
type Consumer struct {
	ID          string
	Description *string
	// Secret is only set on the consumer CreateConsumer returns.
	Secret string
	// Extra holds attributes Keystone does not define, kept and returned.
	Extra map[string]any
}

// consumerNotFound is the 404 of Keystone's OAuth1 driver, which does
// not name the consumer.
func consumerNotFound(string) error { return errs.NotFound("Consumer not found") }

// CreateConsumer makes a consumer with a fresh id and secret.
func (s *Service) CreateConsumer(ctx context.Context, c Consumer) (*Consumer, error) {
	c.ID, c.Secret = newID(), newID()
	extra, err := encodeExtra(c.Extra)
	if err != nil {
		return nil, err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oauth1_consumers (id, description, sealed_secret, extra, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.Description, s.opts.Secrets.Seal(c.Secret), extra, s.nowMicros())
	if err != nil {
		return nil, fmt.Errorf("create consumer: %w", err)
	}
	return &c, nil
}

func scanConsumer(row interface{ Scan(...any) error }) (*Consumer, error) {
	var c Consumer
	var desc sql.NullString
	var extra string
	if err := row.Scan(&c.ID, &desc, &extra); err != nil {
		return nil, err
	}
	if desc.Valid {
		c.Description = &desc.String
	}
	x, err := decodeExtra(extra)
	if err != nil {
		return nil, err
	}
	c.Extra = x
	return &c, nil
}

func getConsumer(ctx context.Context, q store.Querier, id string) (*Consumer, error) {
	c, err := scanConsumer(q.QueryRowContext(ctx, `SELECT id, description, extra FROM oauth1_consumers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, consumerNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get consumer %s: %w", id, err)
	}
	return c, nil
}

// GetConsumer returns a consumer without its secret.
func (s *Service) GetConsumer(ctx context.Context, id string) (*Consumer, error) {
	return getConsumer(ctx, s.db, id)
}

// ConsumerSecret opens a consumer's sealed secret (for signature checks).
func (s *Service) ConsumerSecret(ctx context.Context, id string) (string, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, `SELECT sealed_secret FROM oauth1_consumers WHERE id = ?`, id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", consumerNotFound(id)
	}
	if err != nil {
		return "", fmt.Errorf("get consumer %s: %w", id, err)
	}
	plain, err := s.opts.Secrets.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("open secret of consumer %s: %w", id, err)
	}
	return plain, nil
}

// ListConsumers lists the consumers, oldest first, without secrets.
func (s *Service) ListConsumers(ctx context.Context) ([]Consumer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, description, extra FROM oauth1_consumers ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list consumers: %w", err)
	}
	defer rows.Close()
	var out []Consumer
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, fmt.Errorf("list consumers: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// ConsumerPatch lists the changes of an update.
type ConsumerPatch struct {
	Description    *string
	SetDescription bool
	// Extra attributes are merged in (a nil value keeps a JSON null).
	Extra map[string]any
}

// UpdateConsumer changes a consumer's description and extra attributes.
func (s *Service) UpdateConsumer(ctx context.Context, id string, p ConsumerPatch) (*Consumer, error) {
	var out *Consumer
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := getConsumer(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.SetDescription {
			c.Description = p.Description
		}
		c.Extra = mergeExtra(c.Extra, p.Extra)
		extra, err := encodeExtra(c.Extra)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth1_consumers SET description = ?, extra = ? WHERE id = ?`, c.Description, extra, id); err != nil {
			return fmt.Errorf("update consumer %s: %w", id, err)
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteConsumer deletes a consumer, its request and access tokens, and
// so the tokens issued through them.
func (s *Service) DeleteConsumer(ctx context.Context, id string) error {
	defer s.tokensChanged()
	res, err := s.db.ExecContext(ctx, `DELETE FROM oauth1_consumers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete consumer %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete consumer %s: %w", id, err)
	} else if n == 0 {
		return consumerNotFound(id)
	}
	return nil
}
