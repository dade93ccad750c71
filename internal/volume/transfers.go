package volume

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// StatusAwaitingTransfer is a volume offered for transfer.
const StatusAwaitingTransfer = "awaiting-transfer"

// Transfer is a volume transfer: an offer of a volume (and by default its
// snapshots) to whichever project accepts it with the auth key.
type Transfer struct {
	ID          string
	VolumeID    string
	Name        *string
	ProjectID   string // the source project
	NoSnapshots bool
	// AuthKey is shown once, when the transfer is created.
	AuthKey string
	// DestinationProjectID and Accepted are set by an accept.
	DestinationProjectID *string
	Accepted             bool
	CreatedAt            time.Time
}

// TransferCreate offers a volume.
type TransferCreate struct {
	VolumeID    string
	Name        *string
	NoSnapshots bool // 3.55
}

// TransferListOptions page the transfers listing.
type TransferListOptions struct {
	AllTenants bool
	Filters    map[string]string // name, volume_id, id
	Sort       []SortKey
	Marker     string
	Limit      int
	Offset     int
}

func transferNotFound(id string) error {
	return errs.Named("TransferNotFound", errs.NotFound("Transfer %s could not be found.", id))
}

// randomHex is Cinder's _get_random_string: n hex characters.
func randomHex(n int) (string, error) {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b)[:n], nil
}

// cryptHash is Cinder's _get_crypt_hash: HMAC-SHA1 of the key under the
// salt.
func cryptHash(salt, key string) string {
	m := hmac.New(sha1.New, []byte(salt))
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

const transferColumns = `x.id, x.volume_id, x.name, x.project_id, x.no_snapshots, x.created_at`

func scanTransfer(r scanner) (*Transfer, error) {
	var t Transfer
	var name sql.NullString
	var created int64
	if err := r.Scan(&t.ID, &t.VolumeID, &name, &t.ProjectID, &t.NoSnapshots, &created); err != nil {
		return nil, err
	}
	t.Name, t.CreatedAt = store.StringPtr(name), store.Time(created)
	return &t, nil
}

// CreateTransfer offers an available volume (whose snapshots, unless
// NoSnapshots, are all available): the volume is "awaiting-transfer" and
// the answer carries the auth key.
func (s *Service) CreateTransfer(ctx context.Context, p *auth.Principal, req TransferCreate) (*Transfer, error) {
	var t *Transfer
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, req.VolumeID, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Status != StatusAvailable {
			return invalidVolume("status must be available")
		}
		if !req.NoSnapshots {
			var bad string
			err := tx.QueryRowContext(ctx, `SELECT id FROM snapshots WHERE volume_id = ? AND status <> ? LIMIT 1`, v.ID, SnapshotAvailable).Scan(&bad)
			if err == nil {
				return invalidSnapshot("snapshot: %s status must be available", bad)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		salt, err := randomHex(8)
		if err != nil {
			return err
		}
		key, err := randomHex(16)
		if err != nil {
			return err
		}
		now := s.ts()
		t = &Transfer{ID: uuid.NewString(), VolumeID: v.ID, Name: req.Name, ProjectID: v.ProjectID, NoSnapshots: req.NoSnapshots,
			AuthKey: key, CreatedAt: store.Time(now)}
		if _, err := tx.ExecContext(ctx, `INSERT INTO volume_transfers (id, volume_id, project_id, name, salt, crypt_hash,
			no_snapshots, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)`,
			t.ID, t.VolumeID, t.ProjectID, t.Name, salt, cryptHash(salt, key), t.NoSnapshots, now, now); err != nil {
			return fmt.Errorf("create transfer: %w", err)
		}
		return s.setStatus(ctx, tx, v.ID, StatusAwaitingTransfer)
	})
	return t, err
}

// Transfer returns a transfer of p's project (any, for admins).
func (s *Service) Transfer(ctx context.Context, p *auth.Principal, id string) (*Transfer, error) {
	t, err := scanTransfer(s.db.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM volume_transfers x WHERE x.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.IsAdmin() && t.ProjectID != p.ProjectID) {
		return nil, transferNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read transfer %s: %w", id, err)
	}
	return t, nil
}

var transferSortKeys = map[string]string{"id": "x.id", "created_at": "x.created_at", "name": "COALESCE(x.name, '')",
	"volume_id": "x.volume_id"}

var transferFilterColumns = map[string]string{"id": "x.id", "name": "x.name", "display_name": "x.name",
	"volume_id": "x.volume_id", "source_project_id": "x.project_id"}

// Transfers lists the pending transfers of p's project (every project's
// with AllTenants, which the API allows admins).
func (s *Service) Transfers(ctx context.Context, p *auth.Principal, opts TransferListOptions) ([]*Transfer, error) {
	var where []string
	var args []any
	if !opts.AllTenants {
		where, args = append(where, "x.project_id = ?"), append(args, p.ProjectID)
	}
	for k, v := range opts.Filters {
		col, ok := transferFilterColumns[k]
		if !ok {
			return nil, nil
		}
		where, args = append(where, col+" = ?"), append(args, v)
	}
	page := pageQuery{table: "volume_transfers", alias: "x", sortable: transferSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	q, qargs, err := page.build(ctx, s.db, `SELECT `+transferColumns+` FROM volume_transfers x`, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset, transferNotFound)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list transfers: %w", err)
	}
	defer rows.Close()
	var out []*Transfer
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTransfer withdraws an offer: the volume is available again.
func (s *Service) DeleteTransfer(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := scanTransfer(tx.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM volume_transfers x WHERE x.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.IsAdmin() && t.ProjectID != p.ProjectID) {
			return transferNotFound(id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM volume_transfers WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete transfer %s: %w", id, err)
		}
		_, err = s.casStatus(ctx, tx, t.VolumeID, []string{StatusAwaitingTransfer}, StatusAvailable)
		return err
	})
}

// AcceptTransfer gives the volume (and its snapshots unless the offer
// excluded them) to p's project, within its quotas; the offer goes.
func (s *Service) AcceptTransfer(ctx context.Context, p *auth.Principal, id, authKey string) (*Transfer, error) {
	var t *Transfer
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var salt, hash string
		var err error
		row := tx.QueryRowContext(ctx, `SELECT `+transferColumns+`, x.salt, x.crypt_hash FROM volume_transfers x WHERE x.id = ?`, id)
		var name sql.NullString
		var created int64
		t = &Transfer{}
		err = row.Scan(&t.ID, &t.VolumeID, &name, &t.ProjectID, &t.NoSnapshots, &created, &salt, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return transferNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("read transfer %s: %w", id, err)
		}
		t.Name, t.CreatedAt = store.StringPtr(name), store.Time(created)
		if !hmac.Equal([]byte(cryptHash(salt, authKey)), []byte(hash)) {
			return errs.Named("InvalidAuthKey", errs.Invalid("Invalid auth key: Attempt to transfer %s with invalid auth key.", id))
		}
		v, err := getVolume(ctx, tx, t.VolumeID, "", true)
		if err != nil {
			return err
		}
		if err := s.reserve(ctx, tx, p.ProjectID, v.VolumeTypeName, usageDelta{volumes: 1, gigabytes: int64(v.Size)}, int64(v.Size)); err != nil {
			return err
		}
		now := s.ts()
		if !t.NoSnapshots {
			var n, gb int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size_gb), 0) FROM snapshots WHERE volume_id = ?`, v.ID).Scan(&n, &gb); err != nil {
				return err
			}
			if n > 0 {
				if err := s.reserve(ctx, tx, p.ProjectID, v.VolumeTypeName, usageDelta{snapshots: n, gigabytes: gb}, 0); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE snapshots SET project_id = ?, user_id = ?, updated_at = ? WHERE volume_id = ?`,
				p.ProjectID, p.UserID, now, v.ID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET project_id = ?, user_id = ?, status = ?, updated_at = ? WHERE id = ?`,
			p.ProjectID, p.UserID, StatusAvailable, now, v.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE volume_attachments SET project_id = ? WHERE volume_id = ?`, p.ProjectID, v.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM volume_transfers WHERE id = ?`, id); err != nil {
			return err
		}
		dest := p.ProjectID
		t.DestinationProjectID, t.Accepted = &dest, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
