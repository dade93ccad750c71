package volume

import (
	"context"
	"strconv"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

// Cinder's provisioning size limits of a type (volume_types.MIN_SIZE_KEY
// and MAX_SIZE_KEY).
const (
	specMinSize = "provisioning:min_vol_size"
	specMaxSize = "provisioning:max_vol_size"
)

// IsMultiattach is Cinder's _is_multiattach: the type's extra spec
// multiattach is "<is> True".
func (t *VolumeType) IsMultiattach() bool {
	return t != nil && t.ExtraSpecs["multiattach"] == "<is> True"
}

// TypeElevated is a type by id or name whatever its access, as Cinder
// looks up os-retype's new type and get_pools' volume_type with an
// elevated context.
func (s *Service) TypeElevated(ctx context.Context, ref string) (*VolumeType, error) {
	return s.findType(ctx, s.db, elevated(nil), ref)
}

// elevated is Cinder's context.elevated(): p with the admin role.
func elevated(p *auth.Principal) *auth.Principal {
	e := &auth.Principal{Roles: []string{"admin"}}
	if p != nil {
		c := *p
		c.Roles = append(append([]string(nil), p.Roles...), "admin")
		e = &c
	}
	return e
}

// checkTypeSize is Cinder's provision_filter_on_size: the volume's size
// within the type's provisioning:min_vol_size / max_vol_size.
func checkTypeSize(t *VolumeType, size int) error {
	if v := t.ExtraSpecs[specMinSize]; v != "" {
		if n, err := strconv.Atoi(v); err == nil && size < n {
			return invalidInput("Specified volume size of '%d' is less than the minimum required size of '%s' for volume type '%s'.", size, v, t.Name)
		}
	}
	if v := t.ExtraSpecs[specMaxSize]; v != "" {
		if n, err := strconv.Atoi(v); err == nil && size > n {
			return invalidInput("Specified volume size of '%d' is greater than the maximum allowable size of '%s' for volume type '%s'.", size, v, t.Name)
		}
	}
	return nil
}

// Retype is os-retype (Cinder's volume API retype): an available or
// in-use volume changes type. kumo's types all share the one backend, so
// the scheduler would always keep the volume where it is and the manager
// change the type in place (a retype without migration, whatever the
// migration policy): the type changes here, after Cinder's checks. The
// per-type quotas (volumes_<type>, gigabytes_<type>) move with it, as
// usage is counted from the volumes' types; the new type's must hold the
// volume. A change of multiattach needs an available volume; the caller
// (the API) authorizes volume:multiattach before, when the new type is
// multiattach and the volume is not.
func (s *Service) Retype(ctx context.Context, p *auth.Principal, id, newType string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		t, err := s.findType(ctx, tx, elevated(p), newType)
		if err != nil {
			return err
		}
		if err := checkTypeSize(t, v.Size); err != nil {
			return err
		}
		multi := t.IsMultiattach()
		if multi != v.Multiattach && v.Status != StatusAvailable {
			return invalidInput("Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: %s.", v.Status)
		}
		if v.ConsumesQuota {
			if err := s.checkTypeQuota(ctx, tx, v, t); err != nil {
				return err
			}
		}
		if (v.Status != StatusAvailable && v.Status != StatusInUse) || t.ID == v.VolumeTypeID || migrating(v) {
			return invalidVolume("Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.")
		}
		if changed, err := encryptionChanged(ctx, tx, v.VolumeTypeID, t.ID); err != nil || changed {
			// Cinder accepts the retype (202), then its manager fails it
			// and the volume keeps its type: a change of encryption
			// needs a migration (refused by the default policy never, and
			// otherwise a new key kumo has no key manager to make).
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE volumes SET volume_type_id = ?, multiattach = ?, updated_at = ? WHERE id = ? AND status = ?`,
			t.ID, multi, s.ts(), id, v.Status)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return invalidVolume("Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.")
		}
		return nil
	})
}

// migrating is Cinder's check of AVAILABLE_MIGRATION_STATUS (None, "",
// "success", "error" allow a retype).
func migrating(v *Volume) bool {
	if v.MigrationStatus == nil {
		return false
	}
	switch *v.MigrationStatus {
	case "", "success", "error":
		return false
	}
	return true
}

// checkTypeQuota is Cinder's get_volume_type_reservation with
// reserve_vol_type_only: the new type's volumes_<type> and
// gigabytes_<type> must hold the volume.
func (s *Service) checkTypeQuota(ctx context.Context, tx *store.Tx, v *Volume, t *VolumeType) error {
	lim, err := s.limits(ctx, tx, v.ProjectID)
	if err != nil {
		return err
	}
	use, err := s.usage(ctx, tx, v.ProjectID)
	if err != nil {
		return err
	}
	if l, ok := lim["gigabytes_"+t.Name]; ok && l >= 0 && use["gigabytes_"+t.Name]+int64(v.Size) > l {
		return sizeExceedsQuota("gigabytes_"+t.Name, int64(v.Size), l, use["gigabytes_"+t.Name])
	}
	if l, ok := lim["volumes_"+t.Name]; ok && l >= 0 && use["volumes_"+t.Name]+1 > l {
		return volumeLimitExceeded(l, "volumes_"+t.Name)
	}
	return nil
}
