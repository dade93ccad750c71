package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

const typeColumns = `t.id, t.name, t.description, t.is_public, t.qos_specs_id, t.created_at, t.updated_at`

func scanType(r scanner) (*VolumeType, error) {
	var t VolumeType
	var desc, qos sql.NullString
	var created, updated int64
	if err := r.Scan(&t.ID, &t.Name, &desc, &t.IsPublic, &qos, &created, &updated); err != nil {
		return nil, err
	}
	t.Description, t.QoSSpecsID = store.StringPtr(desc), store.StringPtr(qos)
	t.CreatedAt, t.UpdatedAt = store.Time(created), store.Time(updated)
	return &t, nil
}

// defaultType returns __DEFAULT__, making it on first need as Cinder's
// database migration does.
func (s *Service) defaultType(ctx context.Context, tx *store.Tx) (*VolumeType, error) {
	t, err := scanType(tx.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM volume_types t WHERE t.name = ?`, DefaultTypeName))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read default volume type: %w", err)
	}
	desc := "Default Volume Type"
	now := s.ts()
	t = &VolumeType{ID: uuid.NewString(), Name: DefaultTypeName, Description: &desc, IsPublic: true,
		CreatedAt: store.Time(now), UpdatedAt: store.Time(now), ExtraSpecs: map[string]string{}}
	if _, err := tx.ExecContext(ctx, `INSERT INTO volume_types (id, name, description, is_public, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.ID, t.Name, desc, true, now, now); err != nil {
		return nil, fmt.Errorf("create default volume type: %w", err)
	}
	return t, nil
}

// EnsureDefaultType makes __DEFAULT__ if it is missing (at startup, so
// GET /types lists it before any volume is made).
func (s *Service) EnsureDefaultType(ctx context.Context) error {
	// Reads (every listing) need no write transaction once it exists.
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM volume_types WHERE name = ?`, DefaultTypeName).Scan(&n); err != nil {
		return fmt.Errorf("read default volume type: %w", err)
	}
	if n > 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.defaultType(ctx, tx)
		return err
	})
}

// projectDefaultType is the type a project's volumes get when none is
// asked: its own default (3.62), else __DEFAULT__.
func (s *Service) projectDefaultType(ctx context.Context, tx *store.Tx, projectID string) (*VolumeType, error) {
	t, err := scanType(tx.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM default_volume_types d
		JOIN volume_types t ON t.id = d.volume_type_id WHERE d.project_id = ?`, projectID))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read default type of %s: %w", projectID, err)
	}
	return s.defaultType(ctx, tx)
}

// typeVisible reports whether p may use type t (public, or shared with
// p's project, or p is an admin).
func typeVisible(ctx context.Context, q store.Querier, p *auth.Principal, t *VolumeType) (bool, error) {
	if t.IsPublic || p.IsAdmin() {
		return true, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM volume_type_projects WHERE volume_type_id = ? AND project_id = ?`,
		t.ID, p.ProjectID).Scan(&n); err != nil {
		return false, fmt.Errorf("read type access: %w", err)
	}
	return n > 0, nil
}

// findType looks a type up by id, then by name, as Cinder's
// get_volume_type / get_volume_type_by_name; a private type p may not use
// is not found.
func (s *Service) findType(ctx context.Context, q store.Querier, p *auth.Principal, ref string) (*VolumeType, error) {
	t, err := scanType(q.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM volume_types t WHERE t.id = ?`, ref))
	byName := false
	if errors.Is(err, sql.ErrNoRows) {
		byName = true
		t, err = scanType(q.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM volume_types t WHERE t.name = ?`, ref))
	}
	if errors.Is(err, sql.ErrNoRows) {
		if byName && !isUUID(ref) {
			return nil, typeNotFoundByName(ref)
		}
		return nil, typeNotFound(ref)
	}
	if err != nil {
		return nil, fmt.Errorf("read volume type %s: %w", ref, err)
	}
	ok, err := typeVisible(ctx, q, p, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, typeNotFound(ref)
	}
	if t.ExtraSpecs, err = readMap(ctx, q, "volume_type_extra_specs", "volume_type_id", t.ID); err != nil {
		return nil, err
	}
	return t, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// Type returns a volume type by id (or name) as p may see it.
func (s *Service) Type(ctx context.Context, p *auth.Principal, ref string) (*VolumeType, error) {
	if ref == DefaultTypeName {
		if err := s.EnsureDefaultType(ctx); err != nil {
			return nil, err
		}
	}
	return s.findType(ctx, s.db, p, ref)
}

// TypeQ is Type read through q. It does not make __DEFAULT__, which
// needs a transaction of its own (EnsureDefaultType).
func (s *Service) TypeQ(ctx context.Context, q store.Querier, p *auth.Principal, ref string) (*VolumeType, error) {
	return s.findType(ctx, q, p, ref)
}

// DefaultType is GET /types/default: p's project's default type.
func (s *Service) DefaultType(ctx context.Context, p *auth.Principal) (*VolumeType, error) {
	if err := s.EnsureDefaultType(ctx); err != nil {
		return nil, err
	}
	t, err := scanType(s.db.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM volume_types t WHERE t.id = COALESCE(
		(SELECT d.volume_type_id FROM default_volume_types d WHERE d.project_id = ?),
		(SELECT id FROM volume_types WHERE name = ?))`, p.ProjectID, DefaultTypeName))
	if err != nil {
		return nil, fmt.Errorf("read default type of %s: %w", p.ProjectID, err)
	}
	t.ExtraSpecs, err = readMap(ctx, s.db, "volume_type_extra_specs", "volume_type_id", t.ID)
	return t, err
}

// Types lists the volume types p may see.
func (s *Service) Types(ctx context.Context, p *auth.Principal, opts TypeListOptions) ([]*VolumeType, error) {
	if err := s.EnsureDefaultType(ctx); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if !p.IsAdmin() {
		// Cinder: non-admins see public types and those shared with them.
		where = append(where, `(t.is_public = ? OR EXISTS (SELECT 1 FROM volume_type_projects a WHERE a.volume_type_id = t.id AND a.project_id = ?))`)
		args = append(args, true, p.ProjectID)
		if opts.IsPublic != nil && !*opts.IsPublic {
			where = append(where, `t.is_public = ?`)
			args = append(args, false)
		}
	} else if opts.IsPublic != nil {
		where = append(where, `t.is_public = ?`)
		args = append(args, *opts.IsPublic)
	}
	for k, v := range opts.ExtraSpecs {
		where = append(where, `EXISTS (SELECT 1 FROM volume_type_extra_specs e WHERE e.volume_type_id = t.id AND e.key = ? AND e.value = ?)`)
		args = append(args, k, v)
	}
	page := pageQuery{table: "volume_types", alias: "t", sortable: typeSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	q, qargs, err := page.build(ctx, s.db, `SELECT `+typeColumns+` FROM volume_types t`, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset, typeNotFound)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list volume types: %w", err)
	}
	var out []*VolumeType
	for rows.Next() {
		t, err := scanType(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range out {
		if t.ExtraSpecs, err = readMap(ctx, s.db, "volume_type_extra_specs", "volume_type_id", t.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var typeSortKeys = map[string]string{"id": "t.id", "name": "t.name", "is_public": "t.is_public",
	"description": "t.description", "created_at": "t.created_at", "updated_at": "t.updated_at"}

// CreateType makes a volume type (admin).
func (s *Service) CreateType(ctx context.Context, req TypeCreate) (*VolumeType, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return nil, errs.Invalid("Volume type name can not be empty.")
	}
	public := req.IsPublic == nil || *req.IsPublic
	now := s.ts()
	t := &VolumeType{ID: uuid.NewString(), Name: name, Description: req.Description, IsPublic: public,
		ExtraSpecs: maps.Clone(req.ExtraSpecs), CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
	if t.ExtraSpecs == nil {
		t.ExtraSpecs = map[string]string{}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.defaultType(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO volume_types (id, name, description, is_public, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, t.ID, t.Name, t.Description, t.IsPublic, now, now)
		if store.IsUniqueViolation(err) {
			return errs.Named("VolumeTypeExists", errs.Conflict("Volume Type %s already exists.", name))
		}
		if err != nil {
			return fmt.Errorf("create volume type: %w", err)
		}
		return setMapKeys(ctx, tx, "volume_type_extra_specs", "volume_type_id", t.ID, t.ExtraSpecs)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateType changes a type's name, description or visibility (admin).
func (s *Service) UpdateType(ctx context.Context, id string, req TypeUpdate) (*VolumeType, error) {
	admin := &auth.Principal{Roles: []string{"admin"}}
	var t *VolumeType
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if t, err = s.findType(ctx, tx, admin, id); err != nil {
			return err
		}
		oldName := t.Name
		if req.Name != nil {
			n := strings.TrimSpace(*req.Name)
			if n == "" {
				return errs.Named("InvalidVolumeType", errs.Invalid("Invalid volume type: Volume type name can not be empty."))
			}
			if t.Name == DefaultTypeName && n != t.Name {
				return errs.Named("InvalidVolumeType", errs.Invalid("Invalid volume type: The default volume type cannot be renamed."))
			}
			t.Name = n
		}
		if req.Description != nil {
			t.Description = req.Description
		}
		if req.IsPublic != nil {
			t.IsPublic = *req.IsPublic
		}
		now := s.ts()
		t.UpdatedAt = store.Time(now)
		_, err = tx.ExecContext(ctx, `UPDATE volume_types SET name = ?, description = ?, is_public = ?, updated_at = ? WHERE id = ?`,
			t.Name, t.Description, t.IsPublic, now, t.ID)
		if store.IsUniqueViolation(err) {
			return errs.Named("VolumeTypeExists", errs.Conflict("Volume Type %s already exists.", t.Name))
		}
		if err != nil {
			return fmt.Errorf("update volume type %s: %w", id, err)
		}
		if oldName == t.Name {
			return nil
		}
		// The per-type quotas follow the name (Cinder's update_quota_resource).
		for _, p := range perTypePrefixes {
			for _, table := range []string{"volume_quotas", "volume_quota_classes"} {
				if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET resource = ? WHERE resource = ?`, p+t.Name, p+oldName); err != nil {
					return fmt.Errorf("rename quotas of type %s: %w", oldName, err)
				}
			}
		}
		return nil
	})
	return t, err
}

// DeleteType deletes a type (admin) with Cinder's refusals: the default
// type, a project's default type, a type volumes use.
func (s *Service) DeleteType(ctx context.Context, id string) error {
	admin := &auth.Principal{Roles: []string{"admin"}}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.findType(ctx, tx, admin, id)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM default_volume_types WHERE volume_type_id = ?`, t.ID).Scan(&n); err != nil {
			return fmt.Errorf("read default types: %w", err)
		}
		if n > 0 || t.Name == DefaultTypeName {
			return errs.Named("VolumeTypeDefaultDeletionError", errs.Invalid("The volume type %s is a default volume type and cannot be deleted.", t.ID))
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM volumes WHERE volume_type_id = ?) + (SELECT COUNT(*) FROM snapshots WHERE volume_type_id = ?)`,
			t.ID, t.ID).Scan(&used); err != nil {
			return fmt.Errorf("read volumes of type: %w", err)
		}
		if used > 0 {
			return errs.Named("VolumeTypeInUse", errs.Invalid("Volume Type %s deletion is not allowed with volumes present with the type.", t.ID))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM volume_types WHERE id = ?`, t.ID); err != nil {
			return fmt.Errorf("delete volume type %s: %w", t.ID, err)
		}
		// Per-type quotas go with their type.
		_, err = tx.ExecContext(ctx, `DELETE FROM volume_quotas WHERE resource IN (?, ?, ?)`,
			"volumes_"+t.Name, "gigabytes_"+t.Name, "snapshots_"+t.Name)
		return err
	})
}

// ExtraSpecs returns a type's extra specs.
func (s *Service) ExtraSpecs(ctx context.Context, p *auth.Principal, typeID string) (map[string]string, error) {
	t, err := s.Type(ctx, p, typeID)
	if err != nil {
		return nil, err
	}
	return t.ExtraSpecs, nil
}

// ExtraSpec returns one extra spec.
func (s *Service) ExtraSpec(ctx context.Context, p *auth.Principal, typeID, key string) (string, error) {
	specs, err := s.ExtraSpecs(ctx, p, typeID)
	if err != nil {
		return "", err
	}
	v, ok := specs[key]
	if !ok {
		return "", errs.Named("VolumeTypeExtraSpecsNotFound", errs.NotFound("Volume Type %s has no extra specs with key %s.", typeID, key))
	}
	return v, nil
}

// SetExtraSpecs sets (adds or changes) extra specs of a type (admin).
// Cinder refuses changes to a type volumes use only for some keys of
// encrypted/multiattach types; kumo accepts them.
func (s *Service) SetExtraSpecs(ctx context.Context, typeID string, specs map[string]string) (map[string]string, error) {
	admin := &auth.Principal{Roles: []string{"admin"}}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.findType(ctx, tx, admin, typeID)
		if err != nil {
			return err
		}
		return setMapKeys(ctx, tx, "volume_type_extra_specs", "volume_type_id", t.ID, specs)
	})
	if err != nil {
		return nil, err
	}
	return specs, nil
}

// DeleteExtraSpec removes one extra spec (admin).
func (s *Service) DeleteExtraSpec(ctx context.Context, typeID, key string) error {
	admin := &auth.Principal{Roles: []string{"admin"}}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.findType(ctx, tx, admin, typeID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM volume_type_extra_specs WHERE volume_type_id = ? AND key = ?`, t.ID, key)
		if err != nil {
			return fmt.Errorf("delete extra spec: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Named("VolumeTypeExtraSpecsNotFound", errs.NotFound("Volume Type %s has no extra specs with key %s.", typeID, key))
		}
		return nil
	})
}

// TypeAccess lists the projects of a private type (admin); a public
// type's access cannot be listed, as Cinder answers.
func (s *Service) TypeAccess(ctx context.Context, typeID string) ([]TypeAccess, error) {
	admin := &auth.Principal{Roles: []string{"admin"}}
	t, err := s.findType(ctx, s.db, admin, typeID)
	if err != nil {
		return nil, err
	}
	if t.IsPublic {
		return nil, errs.NotFound("Access list not available for public volume types.")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT project_id FROM volume_type_projects WHERE volume_type_id = ? ORDER BY project_id`, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read type access: %w", err)
	}
	defer rows.Close()
	var out []TypeAccess
	for rows.Next() {
		a := TypeAccess{VolumeTypeID: t.ID}
		if err := rows.Scan(&a.ProjectID); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddTypeAccess shares a private type with a project (admin).
func (s *Service) AddTypeAccess(ctx context.Context, typeID, projectID string) error {
	admin := &auth.Principal{Roles: []string{"admin"}}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.findType(ctx, tx, admin, typeID)
		if err != nil {
			return err
		}
		if t.IsPublic {
			return errs.Invalid("Invalid volume type: Type access modification is not applicable to public volume type.")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO volume_type_projects (volume_type_id, project_id) VALUES (?, ?)`, t.ID, projectID)
		if store.IsUniqueViolation(err) {
			return errs.Named("VolumeTypeAccessExists", errs.Conflict("Volume type access for %s / %s combination already exists.", t.ID, projectID))
		}
		return err
	})
}

// RemoveTypeAccess unshares a private type (admin).
func (s *Service) RemoveTypeAccess(ctx context.Context, typeID, projectID string) error {
	admin := &auth.Principal{Roles: []string{"admin"}}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.findType(ctx, tx, admin, typeID)
		if err != nil {
			return err
		}
		if t.IsPublic {
			return errs.Invalid("Invalid volume type: Type access modification is not applicable to public volume type.")
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM volume_type_projects WHERE volume_type_id = ? AND project_id = ?`, t.ID, projectID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Named("VolumeTypeAccessNotFound", errs.NotFound("Volume type access not found for %s / %s combination.", t.ID, projectID))
		}
		return nil
	})
}

// SetProjectDefaultType sets a project's default type (3.62, admin).
func (s *Service) SetProjectDefaultType(ctx context.Context, projectID, typeRef string) (*DefaultType, error) {
	admin := &auth.Principal{Roles: []string{"admin"}}
	var d *DefaultType
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.defaultType(ctx, tx); err != nil {
			return err
		}
		t, err := s.findType(ctx, tx, admin, typeRef)
		if err != nil {
			return err
		}
		now := s.ts()
		created := now
		var old int64
		err = tx.QueryRowContext(ctx, `SELECT created_at FROM default_volume_types WHERE project_id = ?`, projectID).Scan(&old)
		switch {
		case err == nil:
			created = old
			_, err = tx.ExecContext(ctx, `UPDATE default_volume_types SET volume_type_id = ?, updated_at = ? WHERE project_id = ?`, t.ID, now, projectID)
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO default_volume_types (project_id, volume_type_id, created_at, updated_at) VALUES (?, ?, ?, ?)`,
				projectID, t.ID, now, now)
		}
		if err != nil {
			return fmt.Errorf("set default type of %s: %w", projectID, err)
		}
		d = &DefaultType{ProjectID: projectID, VolumeTypeID: t.ID, CreatedAt: store.Time(created), UpdatedAt: store.Time(now)}
		return nil
	})
	return d, err
}

// ProjectDefaultType returns a project's own default type (3.62).
func (s *Service) ProjectDefaultType(ctx context.Context, projectID string) (*DefaultType, error) {
	ds, err := s.projectDefaults(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, errs.Named("VolumeTypeProjectDefaultNotFound", errs.NotFound("Default type for project %s not found.", projectID))
	}
	return ds[0], nil
}

// ProjectDefaultTypes lists every project's default type (3.62).
func (s *Service) ProjectDefaultTypes(ctx context.Context) ([]*DefaultType, error) {
	return s.projectDefaults(ctx, "")
}

func (s *Service) projectDefaults(ctx context.Context, projectID string) ([]*DefaultType, error) {
	q := `SELECT project_id, volume_type_id, created_at, updated_at FROM default_volume_types`
	var args []any
	if projectID != "" {
		q += ` WHERE project_id = ?`
		args = append(args, projectID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY project_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read default types: %w", err)
	}
	defer rows.Close()
	var out []*DefaultType
	for rows.Next() {
		var d DefaultType
		var c, u int64
		if err := rows.Scan(&d.ProjectID, &d.VolumeTypeID, &c, &u); err != nil {
			return nil, err
		}
		d.CreatedAt, d.UpdatedAt = store.Time(c), store.Time(u)
		out = append(out, &d)
	}
	return out, rows.Err()
}

// UnsetProjectDefaultType removes a project's default type (3.62).
func (s *Service) UnsetProjectDefaultType(ctx context.Context, projectID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM default_volume_types WHERE project_id = ?`, projectID)
	if err != nil {
		return fmt.Errorf("unset default type of %s: %w", projectID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.Named("VolumeTypeProjectDefaultNotFound", errs.NotFound("Default type for project %s not found.", projectID))
	}
	return nil
}
