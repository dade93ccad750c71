package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// QoSSpecs is Cinder's quality of service specs: a named set of
// key/value specs for a consumer (front-end: the hypervisor, back-end:
// the storage, both). A volume type has at most one.
type QoSSpecs struct {
	ID       string
	Name     string
	Consumer string
	// Specs' values may be null (PUT /qos-specs/{id} accepts null).
	Specs     map[string]*string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// QoSAssociation is one entity a QoS specs is associated with (only
// volume types, as in Cinder).
type QoSAssociation struct {
	AssociationType string
	Name            string
	ID              string
}

// QoSListOptions page and filter GET /qos-specs. NoMatch is a filter
// Cinder's query cannot answer (name, consumer: not columns of its
// model), which lists nothing.
type QoSListOptions struct {
	ID      string
	NoMatch bool
	Sort    []SortKey
	Marker  string
	Limit   int
	Offset  int
}

// QoSConsumers are the consumers Cinder accepts; back-end is the default.
var QoSConsumers = []string{"back-end", "front-end", "both"}

func qosNotFound(id string) error {
	return errs.Named("QoSSpecsNotFound", errs.NotFound("No such QoS spec %s.", id))
}

// invalidConsumer is what Cinder says for an unknown consumer: its
// message prints the oslo.versionedobjects enum field's repr.
func invalidConsumer() error {
	return errs.Named("InvalidQoSSpecs", errs.Invalid("Invalid qos specs: Valid consumer of QoS specs are: "+
		"QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>,nullable=False,"+
		"valid_values=('back-end', 'front-end', 'both'))"))
}

// checkSpecStrings is utils.validate_dictionary_string_length: keys of
// 1 to 255 characters, values (unless null) of at most 255.
func checkSpecStrings(specs map[string]*string) error {
	for _, k := range slices.Sorted(maps.Keys(specs)) {
		if n := len([]rune(k)); n < 1 {
			return invalidInput("Key \"%s\" has %d characters, less than 1.", k, n)
		} else if n > 255 {
			return invalidInput("Key \"%s\" has %d characters, more than 255.", k, n)
		}
		if v := specs[k]; v != nil {
			if n := len([]rune(*v)); n > 255 {
				return invalidInput("Value for key \"%s\" has %d characters, more than 255.", k, n)
			}
		}
	}
	return nil
}

const qosColumns = `q.id, q.name, q.consumer, q.created_at, q.updated_at`

func scanQoS(r scanner) (*QoSSpecs, error) {
	var q QoSSpecs
	var created, updated int64
	if err := r.Scan(&q.ID, &q.Name, &q.Consumer, &created, &updated); err != nil {
		return nil, err
	}
	q.CreatedAt, q.UpdatedAt = store.Time(created), store.Time(updated)
	q.Specs = map[string]*string{}
	return &q, nil
}

// fillQoSSpecs reads the specs of qs.
func fillQoSSpecs(ctx context.Context, q store.Querier, qs []*QoSSpecs) error {
	if len(qs) == 0 {
		return nil
	}
	byID := make(map[string]*QoSSpecs, len(qs))
	ids := make([]string, 0, len(qs))
	for _, s := range qs {
		byID[s.ID] = s
		ids = append(ids, s.ID)
	}
	in, args := inList(ids)
	rows, err := q.QueryContext(ctx, `SELECT qos_specs_id, key, value FROM qos_spec_items WHERE qos_specs_id IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("read qos specs items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, k string
		var v sql.NullString
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		byID[id].Specs[k] = store.StringPtr(v)
	}
	return rows.Err()
}

func getQoS(ctx context.Context, q store.Querier, id string) (*QoSSpecs, error) {
	s, err := scanQoS(q.QueryRowContext(ctx, `SELECT `+qosColumns+` FROM qos_specs q WHERE q.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qosNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read qos specs %s: %w", id, err)
	}
	if err := fillQoSSpecs(ctx, q, []*QoSSpecs{s}); err != nil {
		return nil, err
	}
	return s, nil
}

func setQoSItems(ctx context.Context, tx *store.Tx, id string, specs map[string]*string) error {
	for k, v := range specs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM qos_spec_items WHERE qos_specs_id = ? AND key = ?`, id, k); err != nil {
			return fmt.Errorf("set qos spec %s: %w", k, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO qos_spec_items (qos_specs_id, key, value) VALUES (?, ?, ?)`, id, k, v); err != nil {
			return fmt.Errorf("set qos spec %s: %w", k, err)
		}
	}
	return nil
}

// CreateQoSSpecs makes a QoS specs (admin): name is trimmed and unique;
// "consumer" in specs is the consumer (back-end when absent), the rest
// are its specs.
func (s *Service) CreateQoSSpecs(ctx context.Context, name string, specs map[string]*string) (*QoSSpecs, error) {
	name = strings.TrimSpace(name)
	if err := checkSpecStrings(specs); err != nil {
		return nil, err
	}
	specs = maps.Clone(specs)
	consumer := "back-end"
	if c, ok := specs["consumer"]; ok {
		delete(specs, "consumer")
		// Null is the field's default (oslo coerces None to it).
		if c != nil {
			consumer = *c
		}
	}
	if !slices.Contains(QoSConsumers, consumer) {
		return nil, invalidConsumer()
	}
	now := s.ts()
	q := &QoSSpecs{ID: uuid.NewString(), Name: name, Consumer: consumer, Specs: specs,
		CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
	if q.Specs == nil {
		q.Specs = map[string]*string{}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO qos_specs (id, name, consumer, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			q.ID, q.Name, q.Consumer, now, now)
		if store.IsUniqueViolation(err) {
			return errs.Named("QoSSpecsExists", errs.Conflict("QoS Specs %s already exists.", name))
		}
		if err != nil {
			return fmt.Errorf("create qos specs: %w", err)
		}
		return setQoSItems(ctx, tx, q.ID, q.Specs)
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// QoSSpecs returns one QoS specs (admin).
func (s *Service) QoSSpecs(ctx context.Context, id string) (*QoSSpecs, error) {
	return getQoS(ctx, s.db, id)
}

var qosSortKeys = map[string]string{"id": "q.id", "created_at": "q.created_at", "updated_at": "q.updated_at"}

// ListQoSSpecs lists the QoS specs (admin), by default newest first.
func (s *Service) ListQoSSpecs(ctx context.Context, opts QoSListOptions) ([]*QoSSpecs, error) {
	if opts.NoMatch {
		return nil, nil
	}
	var where []string
	var args []any
	if opts.ID != "" {
		where = append(where, `q.id = ?`)
		args = append(args, opts.ID)
	}
	page := pageQuery{table: "qos_specs", alias: "q", sortable: qosSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	query, qargs, err := page.build(ctx, s.db, `SELECT `+qosColumns+` FROM qos_specs q`, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset, qosNotFound)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list qos specs: %w", err)
	}
	var out []*QoSSpecs
	for rows.Next() {
		q, err := scanQoS(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, fillQoSSpecs(ctx, s.db, out)
}

// UpdateQoSSpecs sets specs (added or changed; "consumer" changes the
// consumer) of a QoS specs (admin).
func (s *Service) UpdateQoSSpecs(ctx context.Context, id string, specs map[string]*string) (*QoSSpecs, error) {
	var q *QoSSpecs
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if q, err = getQoS(ctx, tx, id); err != nil {
			return err
		}
		if err := checkSpecStrings(specs); err != nil {
			// Cinder's update turns InvalidInput into InvalidQoSSpecs.
			return errs.Named("InvalidQoSSpecs", errs.Invalid("Invalid qos specs: %s", errs.Message(err)))
		}
		specs = maps.Clone(specs)
		if c, ok := specs["consumer"]; ok {
			delete(specs, "consumer")
			// Null is the field's default (oslo coerces None to it).
			q.Consumer = "back-end"
			if c != nil {
				q.Consumer = *c
			}
			if !slices.Contains(QoSConsumers, q.Consumer) {
				return invalidConsumer()
			}
		}
		now := s.ts()
		q.UpdatedAt = store.Time(now)
		if _, err := tx.ExecContext(ctx, `UPDATE qos_specs SET consumer = ?, updated_at = ? WHERE id = ?`, q.Consumer, now, q.ID); err != nil {
			return fmt.Errorf("update qos specs %s: %w", id, err)
		}
		maps.Copy(q.Specs, specs)
		return setQoSItems(ctx, tx, q.ID, specs)
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// DeleteQoSSpecs deletes a QoS specs (admin); one still associated with
// volume types is refused unless force, which disassociates it first.
func (s *Service) DeleteQoSSpecs(ctx context.Context, id string, force bool) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getQoS(ctx, tx, id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM volume_types WHERE qos_specs_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("read qos associations: %w", err)
		}
		if n > 0 && !force {
			return errs.Named("QoSSpecsInUse", errs.Invalid("Qos specs still in use."))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE volume_types SET qos_specs_id = NULL, updated_at = ? WHERE qos_specs_id = ?`, s.ts(), id); err != nil {
			return fmt.Errorf("disassociate qos specs %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM qos_specs WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete qos specs %s: %w", id, err)
		}
		return nil
	})
}

// DeleteQoSKeys removes keys of a QoS specs (admin). As Cinder, keys are
// removed in order up to the first one the specs lack, which is not found.
func (s *Service) DeleteQoSKeys(ctx context.Context, id string, keys []string) error {
	var missing error
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getQoS(ctx, tx, id); err != nil {
			return err
		}
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `DELETE FROM qos_spec_items WHERE qos_specs_id = ? AND key = ?`, id, k)
			if err != nil {
				return fmt.Errorf("delete qos spec %s: %w", k, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// Committed: the keys before it stay deleted.
				missing = errs.Named("QoSSpecsKeyNotFound", errs.NotFound("QoS spec %s has no spec with key %s.", id, k))
				break
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE qos_specs SET updated_at = ? WHERE id = ?`, s.ts(), id)
		return err
	})
	if err != nil {
		return err
	}
	return missing
}

// QoSAssociations lists the volume types a QoS specs is associated with
// (admin).
func (s *Service) QoSAssociations(ctx context.Context, id string) ([]QoSAssociation, error) {
	if _, err := getQoS(ctx, s.db, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name FROM volume_types WHERE qos_specs_id = ? ORDER BY created_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("read qos associations: %w", err)
	}
	defer rows.Close()
	out := []QoSAssociation{}
	for rows.Next() {
		a := QoSAssociation{AssociationType: "volume_type"}
		if err := rows.Scan(&a.ID, &a.Name); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// typeByID is Cinder's _volume_type_get: by id only.
func typeByID(ctx context.Context, q store.Querier, id string) (*VolumeType, error) {
	t, err := scanType(q.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM volume_types t WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, typeNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read volume type %s: %w", id, err)
	}
	return t, nil
}

// AssociateQoSSpecs associates a QoS specs with a volume type (admin); a
// type already associated with another specs is refused.
func (s *Service) AssociateQoSSpecs(ctx context.Context, id, typeID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getQoS(ctx, tx, id); err != nil {
			return err
		}
		t, err := typeByID(ctx, tx, typeID)
		if err != nil {
			return err
		}
		if t.QoSSpecsID != nil {
			if *t.QoSSpecsID != id {
				return errs.Named("InvalidVolumeType", errs.Invalid("Invalid volume type: Type %s is already associated with another qos specs: %s", typeID, *t.QoSSpecsID))
			}
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE volume_types SET qos_specs_id = ?, updated_at = ? WHERE id = ?`, id, s.ts(), t.ID)
		return err
	})
}

// DisassociateQoSSpecs removes a QoS specs from a volume type (admin); a
// type associated with none (or another) is left as it is.
func (s *Service) DisassociateQoSSpecs(ctx context.Context, id, typeID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getQoS(ctx, tx, id); err != nil {
			return err
		}
		t, err := typeByID(ctx, tx, typeID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE volume_types SET qos_specs_id = NULL, updated_at = ? WHERE id = ? AND qos_specs_id = ?`, s.ts(), t.ID, id)
		return err
	})
}

// DisassociateAllQoSSpecs removes a QoS specs from every type (admin).
func (s *Service) DisassociateAllQoSSpecs(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getQoS(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE volume_types SET qos_specs_id = NULL, updated_at = ? WHERE qos_specs_id = ?`, s.ts(), id)
		return err
	})
}

// perGBTuneOpts are the specs Cinder's initialize_connection may scale
// by the volume's size (<opt>_per_gb, floored by <opt>_per_gb_min and
// capped by <opt>_max).
var perGBTuneOpts = []string{"read_iops_sec", "read_bytes_sec", "write_iops_sec", "write_bytes_sec", "total_iops_sec", "total_bytes_sec"}

// connectionQoS is the qos_specs of a volume's connection info, as
// Cinder's initialize_connection makes it: the specs of its type's QoS
// specs when they are for the front-end (or both), with the per-GB
// options computed; nil otherwise. kumo's compute side does not apply
// them.
func connectionQoS(ctx context.Context, q store.Querier, v *Volume) (map[string]any, error) {
	var id sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT qos_specs_id FROM volume_types WHERE id = ?`, v.VolumeTypeID).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("read qos specs of type %s: %w", v.VolumeTypeID, err)
	}
	if !id.Valid {
		return nil, nil
	}
	qs, err := getQoS(ctx, q, id.String)
	if err != nil {
		return nil, err
	}
	if qs.Consumer != "front-end" && qs.Consumer != "both" {
		return nil, nil
	}
	specs := make(map[string]any, len(qs.Specs))
	for k, val := range qs.Specs {
		if val == nil {
			specs[k] = nil
		} else {
			specs[k] = *val
		}
	}
	num := func(k string) (int64, bool) {
		s, ok := specs[k].(string)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	for _, opt := range perGBTuneOpts {
		perGB, ok := num(opt + "_per_gb")
		if !ok {
			continue
		}
		minimum, _ := num(opt + "_per_gb_min")
		value := max(minimum, perGB*int64(v.Size))
		limit := value
		if m, ok := num(opt + "_max"); ok {
			limit = m
		}
		delete(specs, opt+"_per_gb_min")
		delete(specs, opt+"_max")
		delete(specs, opt+"_per_gb")
		specs[opt] = min(value, limit)
	}
	return specs, nil
}
