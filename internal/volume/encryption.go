package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Encryption is a volume type's encryption (Cinder's Encryption model):
// what a volume of the type would be encrypted with. kumo has no key
// manager, so no volume of an encrypted type is made (see
// checkTypeEncryption); the record itself is kept and shown as Cinder's.
type Encryption struct {
	VolumeTypeID    string
	EncryptionID    string
	Provider        *string
	Cipher          *string
	KeySize         *int64
	ControlLocation *string
	CreatedAt       time.Time
	UpdatedAt       *time.Time
}

// EncryptionSpec is the body of an encryption create or update; Set
// names the fields given (an update changes only those, null clears).
type EncryptionSpec struct {
	Provider        *string
	Cipher          *string
	KeySize         *int64
	ControlLocation *string
	Set             []string
}

func encryptionNotFound(typeID string) error {
	return errs.Named("VolumeTypeEncryptionNotFound", errs.NotFound("Volume type encryption for type %s does not exist.", typeID))
}

const encryptionColumns = `volume_type_id, encryption_id, provider, cipher, key_size, control_location, created_at, updated_at`

func scanEncryption(r scanner) (*Encryption, error) {
	var e Encryption
	var provider, cipher, location sql.NullString
	var keySize, updated sql.NullInt64
	var created int64
	if err := r.Scan(&e.VolumeTypeID, &e.EncryptionID, &provider, &cipher, &keySize, &location, &created, &updated); err != nil {
		return nil, err
	}
	e.Provider, e.Cipher, e.ControlLocation = store.StringPtr(provider), store.StringPtr(cipher), store.StringPtr(location)
	if keySize.Valid {
		e.KeySize = &keySize.Int64
	}
	e.CreatedAt, e.UpdatedAt = store.Time(created), timePtr(updated)
	return &e, nil
}

// typeEncryption is the encryption of type typeID, nil when it has none.
func typeEncryption(ctx context.Context, q store.Querier, typeID string) (*Encryption, error) {
	e, err := scanEncryption(q.QueryRowContext(ctx, `SELECT `+encryptionColumns+` FROM volume_type_encryption WHERE volume_type_id = ?`, typeID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read encryption of type %s: %w", typeID, err)
	}
	return e, nil
}

// typeInUse is Cinder's _encrypted_type_in_use: a volume has the type.
func typeInUse(ctx context.Context, q store.Querier, typeID string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM volumes WHERE volume_type_id = ?`, typeID).Scan(&n); err != nil {
		return false, fmt.Errorf("read volumes of type %s: %w", typeID, err)
	}
	return n > 0, nil
}

// TypeEncryption returns a type's encryption (admin), nil when it has
// none; the type must exist.
func (s *Service) TypeEncryption(ctx context.Context, typeID string) (*Encryption, error) {
	if _, err := typeByID(ctx, s.db, typeID); err != nil {
		return nil, err
	}
	return typeEncryption(ctx, s.db, typeID)
}

// CreateTypeEncryption gives a type its encryption (admin), with
// Cinder's order of refusals: a type in use, a missing type, a type
// already encrypted.
func (s *Service) CreateTypeEncryption(ctx context.Context, typeID string, spec EncryptionSpec) (*Encryption, error) {
	var e *Encryption
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		used, err := typeInUse(ctx, tx, typeID)
		if err != nil {
			return err
		}
		if used {
			return errs.Invalid("Cannot create encryption specs. Volume type in use.")
		}
		if _, err := typeByID(ctx, tx, typeID); err != nil {
			return err
		}
		old, err := typeEncryption(ctx, tx, typeID)
		if err != nil {
			return err
		}
		if old != nil {
			return errs.Named("VolumeTypeEncryptionExists", errs.Invalid("Volume type encryption for type %s already exists.", typeID))
		}
		e = &Encryption{VolumeTypeID: typeID, EncryptionID: uuid.NewString(), Provider: spec.Provider, Cipher: spec.Cipher,
			KeySize: spec.KeySize, ControlLocation: spec.ControlLocation, CreatedAt: store.Time(s.ts())}
		_, err = tx.ExecContext(ctx, `INSERT INTO volume_type_encryption (`+encryptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			e.VolumeTypeID, e.EncryptionID, e.Provider, e.Cipher, e.KeySize, e.ControlLocation, e.CreatedAt.UnixMicro())
		if err != nil {
			return fmt.Errorf("create encryption of type %s: %w", typeID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// UpdateTypeEncryption changes the fields spec sets (admin).
func (s *Service) UpdateTypeEncryption(ctx context.Context, typeID string, spec EncryptionSpec) (*Encryption, error) {
	var e *Encryption
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := typeByID(ctx, tx, typeID); err != nil {
			return err
		}
		used, err := typeInUse(ctx, tx, typeID)
		if err != nil {
			return err
		}
		if used {
			return errs.Invalid("Cannot update encryption specs. Volume type in use.")
		}
		if e, err = typeEncryption(ctx, tx, typeID); err != nil {
			return err
		}
		if e == nil {
			return encryptionNotFound(typeID)
		}
		set := func(f string) bool { return slices.Contains(spec.Set, f) }
		if set("provider") {
			e.Provider = spec.Provider
		}
		if set("cipher") {
			e.Cipher = spec.Cipher
		}
		if set("key_size") {
			e.KeySize = spec.KeySize
		}
		if set("control_location") {
			e.ControlLocation = spec.ControlLocation
		}
		now := store.Time(s.ts())
		e.UpdatedAt = &now
		_, err = tx.ExecContext(ctx, `UPDATE volume_type_encryption SET provider = ?, cipher = ?, key_size = ?, control_location = ?, updated_at = ?
			WHERE volume_type_id = ?`, e.Provider, e.Cipher, e.KeySize, e.ControlLocation, now.UnixMicro(), typeID)
		if err != nil {
			return fmt.Errorf("update encryption of type %s: %w", typeID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteTypeEncryption removes a type's encryption (admin); as Cinder,
// the type itself is not looked up first.
func (s *Service) DeleteTypeEncryption(ctx context.Context, typeID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		used, err := typeInUse(ctx, tx, typeID)
		if err != nil {
			return err
		}
		if used {
			return errs.Invalid("Cannot delete encryption specs. Volume type in use.")
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM volume_type_encryption WHERE volume_type_id = ?`, typeID)
		if err != nil {
			return fmt.Errorf("delete encryption of type %s: %w", typeID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return encryptionNotFound(typeID)
		}
		return nil
	})
}

// checkTypeEncryption is what Cinder's create flow answers for a volume
// of an encrypted type when it cannot make the volume's key: kumo has no
// key manager (Barbican), and Cinder, when its key manager fails
// (castellan's KeyManagerError: no key-manager endpoint, say), refuses
// the volume with Invalid "Key manager error". A cipher-less encryption
// is refused before the key manager is asked, as Cinder does.
func checkTypeEncryption(ctx context.Context, q store.Querier, typeID string) error {
	e, err := typeEncryption(ctx, q, typeID)
	if err != nil || e == nil {
		return err
	}
	if e.Cipher == nil {
		return errs.Named("InvalidVolumeType", errs.Invalid("Invalid encryption spec"))
	}
	return errs.Named("KeyManagerError", errs.Invalid("Key manager error"))
}

// encryptionChanged is Cinder's volume_types_encryption_changed: the two
// types' encryptions differ, ids and timestamps aside.
func encryptionChanged(ctx context.Context, q store.Querier, typeA, typeB string) (bool, error) {
	a, err := typeEncryption(ctx, q, typeA)
	if err != nil {
		return false, err
	}
	b, err := typeEncryption(ctx, q, typeB)
	if err != nil || a == nil || b == nil {
		return (a == nil) != (b == nil), err
	}
	eq := func(x, y *string) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	sameKey := (a.KeySize == nil && b.KeySize == nil) || (a.KeySize != nil && b.KeySize != nil && *a.KeySize == *b.KeySize)
	return !(eq(a.Provider, b.Provider) && eq(a.Cipher, b.Cipher) && eq(a.ControlLocation, b.ControlLocation) && sameKey), nil
}
