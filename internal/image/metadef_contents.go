package image

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// The contents of a namespace: objects, properties, tags and resource
// type associations. Reading needs a namespace the caller sees, writing
// one it may change; deleting one item of a protected namespace is
// refused as Glance refuses it.

// ---- objects

func insertObject(ctx context.Context, tx *store.Tx, ns *Namespace, o *MetadefObject) error {
	if o.Name == "" {
		return errs.Invalid("Object name must not be empty.")
	}
	if o.Required == nil {
		o.Required = []string{}
	}
	if o.Properties == nil {
		o.Properties = map[string]map[string]any{}
	}
	req, props, err := objectJSON(o)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO metadef_objects (id, namespace_id, name, description, required, properties,
		created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`, uuid.NewString(), ns.ID, o.Name, o.Description, req, props, o.CreatedAt, o.UpdatedAt)
	if store.IsUniqueViolation(err) {
		return errs.Conflict("A metadata definition object with name=%s already exists in namespace=%s.", o.Name, ns.Namespace)
	}
	if err != nil {
		return fmt.Errorf("create object %s: %w", o.Name, err)
	}
	return nil
}

func objectJSON(o *MetadefObject) (string, string, error) {
	req, err := json.Marshal(o.Required)
	if err != nil {
		return "", "", fmt.Errorf("encode object required: %w", err)
	}
	props, err := json.Marshal(o.Properties)
	if err != nil {
		return "", "", fmt.Errorf("encode object properties: %w", err)
	}
	return string(req), string(props), nil
}

func objects(ctx context.Context, q store.Querier, nsID string) ([]MetadefObject, error) {
	return queryObjects(ctx, q, `WHERE namespace_id = ? ORDER BY created_at, name`, nsID)
}

func queryObjects(ctx context.Context, q store.Querier, where string, args ...any) ([]MetadefObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, description, required, properties, created_at, updated_at FROM metadef_objects `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	defer rows.Close()
	out := []MetadefObject{}
	for rows.Next() {
		var (
			o          MetadefObject
			desc       sql.NullString
			req, props string
		)
		if err := rows.Scan(&o.Name, &desc, &req, &props, &o.CreatedAt, &o.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan object: %w", err)
		}
		o.Description = store.StringPtr(desc)
		if err := json.Unmarshal([]byte(req), &o.Required); err != nil {
			return nil, fmt.Errorf("decode object %s: %w", o.Name, err)
		}
		if err := json.Unmarshal([]byte(props), &o.Properties); err != nil {
			return nil, fmt.Errorf("decode object %s: %w", o.Name, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func objectNotFound(name, ns string) error {
	return errs.NotFound("The metadata definition object with name=%s was not found in namespace=%s.", name, ns)
}

// ListObjects lists a namespace's objects.
func (s *Service) ListObjects(ctx context.Context, p *auth.Principal, namespace string) ([]MetadefObject, error) {
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	return objects(ctx, s.db, ns.ID)
}

// GetObject returns one object of a namespace.
func (s *Service) GetObject(ctx context.Context, p *auth.Principal, namespace, name string) (*MetadefObject, error) {
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	return getObject(ctx, s.db, ns, name)
}

func getObject(ctx context.Context, q store.Querier, ns *Namespace, name string) (*MetadefObject, error) {
	os, err := queryObjects(ctx, q, `WHERE namespace_id = ? AND name = ?`, ns.ID, name)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, objectNotFound(name, ns.Namespace)
	}
	return &os[0], nil
}

// CreateObject adds an object to a namespace.
func (s *Service) CreateObject(ctx context.Context, p *auth.Principal, namespace string, o MetadefObject) (*MetadefObject, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		o.CreatedAt = store.Now()
		o.UpdatedAt = o.CreatedAt
		return insertObject(ctx, tx, ns, &o)
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// UpdateObject replaces an object (its name too).
func (s *Service) UpdateObject(ctx context.Context, p *auth.Principal, namespace, name string, o MetadefObject) (*MetadefObject, error) {
	var out *MetadefObject
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		old, err := getObject(ctx, tx, ns, name)
		if err != nil {
			return err
		}
		if o.Required == nil {
			o.Required = []string{}
		}
		if o.Properties == nil {
			o.Properties = map[string]map[string]any{}
		}
		o.CreatedAt, o.UpdatedAt = old.CreatedAt, store.Now()
		req, props, err := objectJSON(&o)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE metadef_objects SET name = ?, description = ?, required = ?, properties = ?,
			updated_at = ? WHERE namespace_id = ? AND name = ?`, o.Name, o.Description, req, props, o.UpdatedAt, ns.ID, name)
		if store.IsUniqueViolation(err) {
			return errs.Conflict("A metadata definition object with name=%s already exists in namespace=%s.", o.Name, namespace)
		}
		if err != nil {
			return fmt.Errorf("update object %s: %w", name, err)
		}
		out = &o
		return nil
	})
	return out, err
}

// DeleteObject removes an object from a namespace that is not protected.
func (s *Service) DeleteObject(ctx context.Context, p *auth.Principal, namespace, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		if _, err := getObject(ctx, tx, ns, name); err != nil {
			return err
		}
		if ns.Protected {
			return errs.Forbidden("Metadata definition object %s is protected and cannot be deleted.", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_objects WHERE namespace_id = ? AND name = ?`, ns.ID, name); err != nil {
			return fmt.Errorf("delete object %s: %w", name, err)
		}
		return nil
	})
}

// ---- properties

func insertProperty(ctx context.Context, tx *store.Tx, ns *Namespace, pr MetadefProperty, now int64) error {
	if pr.Name == "" {
		return errs.Invalid("Property name must not be empty.")
	}
	doc, err := json.Marshal(pr.Schema)
	if err != nil {
		return fmt.Errorf("encode property %s: %w", pr.Name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO metadef_properties (id, namespace_id, name, json_schema, created_at, updated_at)
		VALUES (?,?,?,?,?,?)`, uuid.NewString(), ns.ID, pr.Name, string(doc), now, now)
	if store.IsUniqueViolation(err) {
		return errs.Conflict("A metadata definition property with name=%s already exists in namespace=%s.", pr.Name, ns.Namespace)
	}
	if err != nil {
		return fmt.Errorf("create property %s: %w", pr.Name, err)
	}
	return nil
}

func properties(ctx context.Context, q store.Querier, nsID string) ([]MetadefProperty, error) {
	return queryProperties(ctx, q, `WHERE namespace_id = ? ORDER BY name`, nsID)
}

func queryProperties(ctx context.Context, q store.Querier, where string, args ...any) ([]MetadefProperty, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, json_schema FROM metadef_properties `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list properties: %w", err)
	}
	defer rows.Close()
	out := []MetadefProperty{}
	for rows.Next() {
		var (
			pr  MetadefProperty
			doc string
		)
		if err := rows.Scan(&pr.Name, &doc); err != nil {
			return nil, fmt.Errorf("scan property: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &pr.Schema); err != nil {
			return nil, fmt.Errorf("decode property %s: %w", pr.Name, err)
		}
		out = append(out, pr)
	}
	return out, rows.Err()
}

func propertyNotFound(name, ns string) error {
	return errs.NotFound("The metadata definition property with name=%s was not found in namespace=%s.", name, ns)
}

func getProperty(ctx context.Context, q store.Querier, ns *Namespace, name string) (*MetadefProperty, error) {
	ps, err := queryProperties(ctx, q, `WHERE namespace_id = ? AND name = ?`, ns.ID, name)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, propertyNotFound(name, ns.Namespace)
	}
	return &ps[0], nil
}

// ListProperties lists a namespace's properties, by name.
func (s *Service) ListProperties(ctx context.Context, p *auth.Principal, namespace string) ([]MetadefProperty, error) {
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	return properties(ctx, s.db, ns.ID)
}

// GetProperty returns one property. With resourceType, name carries
// that resource type's prefix (hw_cpu_cores for cpu_cores on images).
func (s *Service) GetProperty(ctx context.Context, p *auth.Principal, namespace, name, resourceType string) (*MetadefProperty, error) {
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	if resourceType != "" {
		as, err := associations(ctx, s.db, ns.ID)
		if err != nil {
			return nil, err
		}
		i := sort.Search(len(as), func(i int) bool { return as[i].Name >= resourceType })
		if i == len(as) || as[i].Name != resourceType {
			return nil, associationNotFound(resourceType, namespace)
		}
		prefix := ""
		if as[i].Prefix != nil {
			prefix = *as[i].Prefix
		}
		if prefix == "" || !strings.HasPrefix(name, prefix) {
			return nil, errs.NotFound("Property %s does not start with the expected resource type association prefix of '%s'.", name, prefix)
		}
		name = strings.TrimPrefix(name, prefix)
	}
	return getProperty(ctx, s.db, ns, name)
}

// CreateProperty adds a property to a namespace.
func (s *Service) CreateProperty(ctx context.Context, p *auth.Principal, namespace string, pr MetadefProperty) (*MetadefProperty, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		return insertProperty(ctx, tx, ns, pr, store.Now())
	})
	if err != nil {
		return nil, err
	}
	return &pr, nil
}

// UpdateProperty replaces a property (its name too).
func (s *Service) UpdateProperty(ctx context.Context, p *auth.Principal, namespace, name string, pr MetadefProperty) (*MetadefProperty, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		if _, err := getProperty(ctx, tx, ns, name); err != nil {
			return err
		}
		doc, err := json.Marshal(pr.Schema)
		if err != nil {
			return fmt.Errorf("encode property %s: %w", pr.Name, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE metadef_properties SET name = ?, json_schema = ?, updated_at = ?
			WHERE namespace_id = ? AND name = ?`, pr.Name, string(doc), store.Now(), ns.ID, name)
		if store.IsUniqueViolation(err) {
			return errs.Conflict("A metadata definition property with name=%s already exists in namespace=%s.", pr.Name, namespace)
		}
		if err != nil {
			return fmt.Errorf("update property %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pr, nil
}

// DeleteProperty removes a property from a namespace that is not
// protected.
func (s *Service) DeleteProperty(ctx context.Context, p *auth.Principal, namespace, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		if _, err := getProperty(ctx, tx, ns, name); err != nil {
			return err
		}
		if ns.Protected {
			return errs.Forbidden("Metadata definition property %s is protected and cannot be deleted.", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_properties WHERE namespace_id = ? AND name = ?`, ns.ID, name); err != nil {
			return fmt.Errorf("delete property %s: %w", name, err)
		}
		return nil
	})
}

// ---- tags

// TagQuery pages a namespace's tags.
type TagQuery struct {
	Marker  string
	Limit   int
	SortKey string // created_at, updated_at or name
	SortDir string
}

func tagConflict(name, ns string) error {
	return errs.Conflict("A metadata tag with name=%s already exists in namespace=%s. (Please note that metadata tag names are case insensitive).", name, ns)
}

func insertTag(ctx context.Context, tx *store.Tx, ns *Namespace, t MetadefTag) error {
	if t.Name == "" {
		return errs.Invalid("Tag name must not be empty.")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO metadef_tags (id, namespace_id, name, name_key, created_at, updated_at)
		VALUES (?,?,?,?,?,?)`, uuid.NewString(), ns.ID, t.Name, strings.ToLower(t.Name), t.CreatedAt, t.UpdatedAt)
	if store.IsUniqueViolation(err) {
		return tagConflict(t.Name, ns.Namespace)
	}
	if err != nil {
		return fmt.Errorf("create tag %s: %w", t.Name, err)
	}
	return nil
}

func tags(ctx context.Context, q store.Querier, nsID string, tq TagQuery) ([]MetadefTag, error) {
	where, args := "namespace_id = ?", []any{nsID}
	if tq.Marker != "" {
		var m MetadefTag
		var id string
		err := q.QueryRowContext(ctx, `SELECT id, name, created_at, updated_at FROM metadef_tags WHERE namespace_id = ? AND name_key = ?`,
			nsID, strings.ToLower(tq.Marker)).Scan(&id, &m.Name, &m.CreatedAt, &m.UpdatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFound("The metadata definition tag with name=%s was not found.", tq.Marker)
		}
		if err != nil {
			return nil, fmt.Errorf("load tag marker: %w", err)
		}
		op := ">"
		if tq.SortDir == "desc" {
			op = "<"
		}
		var key any
		switch tq.SortKey {
		case "created_at":
			key = m.CreatedAt
		case "updated_at":
			key = m.UpdatedAt
		default:
			key = m.Name
		}
		where += fmt.Sprintf(" AND (%s %s ? OR (%s = ? AND id %s ?))", tq.SortKey, op, tq.SortKey, op)
		args = append(args, key, key, id)
	}
	query := `SELECT name, created_at, updated_at FROM metadef_tags WHERE ` + where +
		` ORDER BY ` + tq.SortKey + ` ` + tq.SortDir + `, id ` + tq.SortDir
	if tq.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", tq.Limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	defer rows.Close()
	out := []MetadefTag{}
	for rows.Next() {
		var t MetadefTag
		if err := rows.Scan(&t.Name, &t.CreatedAt, &t.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan tag: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ListMetadefTags lists a namespace's tags.
func (s *Service) ListMetadefTags(ctx context.Context, p *auth.Principal, namespace string, tq TagQuery) ([]MetadefTag, error) {
	if tq.SortKey == "" {
		tq.SortKey = "created_at"
	}
	if tq.SortDir == "" {
		tq.SortDir = "desc"
	}
	if tq.SortKey != "created_at" && tq.SortKey != "updated_at" && tq.SortKey != "name" {
		return nil, errs.Invalid("Invalid sort key: %s", tq.SortKey)
	}
	if tq.SortDir != "asc" && tq.SortDir != "desc" {
		return nil, errs.Invalid("Invalid sort direction: %s", tq.SortDir)
	}
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	return tags(ctx, s.db, ns.ID, tq)
}

func getTag(ctx context.Context, q store.Querier, ns *Namespace, name string) (*MetadefTag, error) {
	var t MetadefTag
	err := q.QueryRowContext(ctx, `SELECT name, created_at, updated_at FROM metadef_tags WHERE namespace_id = ? AND name_key = ?`,
		ns.ID, strings.ToLower(name)).Scan(&t.Name, &t.CreatedAt, &t.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("The metadata definition tag with name=%s was not found in namespace=%s.", name, ns.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("load tag %s: %w", name, err)
	}
	return &t, nil
}

// GetMetadefTag returns one tag of a namespace (names match without regard to
// case).
func (s *Service) GetMetadefTag(ctx context.Context, p *auth.Principal, namespace, name string) (*MetadefTag, error) {
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	return getTag(ctx, s.db, ns, name)
}

// CreateMetadefTag adds one tag to a namespace.
func (s *Service) CreateMetadefTag(ctx context.Context, p *auth.Principal, namespace, name string) (*MetadefTag, error) {
	t := MetadefTag{Name: name, CreatedAt: store.Now()}
	t.UpdatedAt = t.CreatedAt
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		return insertTag(ctx, tx, ns, t)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateMetadefTags adds tags to a namespace: in place of the ones it has, or
// after them when appending (X-Openstack-Append).
func (s *Service) CreateMetadefTags(ctx context.Context, p *auth.Principal, namespace string, names []string, appending bool) ([]MetadefTag, error) {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[strings.ToLower(n)] {
			return nil, errs.Conflict("Duplicate tag name: %s", n)
		}
		seen[strings.ToLower(n)] = true
	}
	now := store.Now()
	out := make([]MetadefTag, 0, len(names))
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		if !appending {
			if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_tags WHERE namespace_id = ?`, ns.ID); err != nil {
				return fmt.Errorf("replace tags of %s: %w", namespace, err)
			}
		}
		for _, n := range names {
			t := MetadefTag{Name: n, CreatedAt: now, UpdatedAt: now}
			if err := insertTag(ctx, tx, ns, t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateMetadefTag renames a tag.
func (s *Service) UpdateMetadefTag(ctx context.Context, p *auth.Principal, namespace, name, newName string) (*MetadefTag, error) {
	if newName == "" {
		return nil, errs.Invalid("Tag name must not be empty.")
	}
	var t *MetadefTag
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		if t, err = getTag(ctx, tx, ns, name); err != nil {
			return err
		}
		t.Name, t.UpdatedAt = newName, store.Now()
		_, err = tx.ExecContext(ctx, `UPDATE metadef_tags SET name = ?, name_key = ?, updated_at = ? WHERE namespace_id = ? AND name_key = ?`,
			newName, strings.ToLower(newName), t.UpdatedAt, ns.ID, strings.ToLower(name))
		if store.IsUniqueViolation(err) {
			return tagConflict(newName, namespace)
		}
		if err != nil {
			return fmt.Errorf("update tag %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteMetadefTag removes a tag from a namespace that is not protected.
func (s *Service) DeleteMetadefTag(ctx context.Context, p *auth.Principal, namespace, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		if _, err := getTag(ctx, tx, ns, name); err != nil {
			return err
		}
		if ns.Protected {
			return errs.Forbidden("Metadata definition tag %s is protected and cannot be deleted.", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_tags WHERE namespace_id = ? AND name_key = ?`, ns.ID, strings.ToLower(name)); err != nil {
			return fmt.Errorf("delete tag %s: %w", name, err)
		}
		return nil
	})
}

// ---- resource types

// ListResourceTypes lists every resource type, by name.
func (s *Service) ListResourceTypes(ctx context.Context, p *auth.Principal) ([]ResourceType, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list resource types: %w", err)
	}
	defer rows.Close()
	out := []ResourceType{}
	for rows.Next() {
		var rt ResourceType
		if err := rows.Scan(&rt.Name, &rt.Protected, &rt.CreatedAt, &rt.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan resource type: %w", err)
		}
		out = append(out, rt)
	}
	return out, rows.Err()
}

// associations are a namespace's resource type associations, by name.
func associations(ctx context.Context, q store.Querier, nsID string) ([]ResourceTypeAssociation, error) {
	rows, err := q.QueryContext(ctx, `SELECT resource_type, prefix, properties_target, created_at, updated_at
		FROM metadef_namespace_resource_types WHERE namespace_id = ? ORDER BY resource_type`, nsID)
	if err != nil {
		return nil, fmt.Errorf("list resource type associations: %w", err)
	}
	defer rows.Close()
	out := []ResourceTypeAssociation{}
	for rows.Next() {
		var (
			a              ResourceTypeAssociation
			prefix, target sql.NullString
		)
		if err := rows.Scan(&a.Name, &prefix, &target, &a.CreatedAt, &a.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan resource type association: %w", err)
		}
		a.Prefix, a.PropertiesTarget = store.StringPtr(prefix), store.StringPtr(target)
		out = append(out, a)
	}
	return out, rows.Err()
}

func associationNotFound(rt, ns string) error {
	return errs.NotFound("The metadata definition resource-type association of resource-type=%s to namespace=%s, was not found.", rt, ns)
}

// insertAssociation ties ns to a resource type, creating the resource
// type when it is new (Glance's resource_type_association.create).
func insertAssociation(ctx context.Context, tx *store.Tx, ns *Namespace, a ResourceTypeAssociation) error {
	if a.Name == "" {
		return errs.Invalid("Resource type name must not be empty.")
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM metadef_resource_types WHERE name = ?`, a.Name).Scan(&n); err != nil {
		return fmt.Errorf("look up resource type %s: %w", a.Name, err)
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES (?,FALSE,?,?)`,
			a.Name, a.CreatedAt, a.CreatedAt); err != nil {
			return fmt.Errorf("create resource type %s: %w", a.Name, err)
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO metadef_namespace_resource_types (namespace_id, resource_type, prefix,
		properties_target, created_at, updated_at) VALUES (?,?,?,?,?,?)`, ns.ID, a.Name, a.Prefix, a.PropertiesTarget, a.CreatedAt, a.UpdatedAt)
	if store.IsUniqueViolation(err) {
		return errs.Conflict("The metadata definition resource-type association of resource-type=%s to namespace=%s already exists.", a.Name, ns.Namespace)
	}
	if err != nil {
		return fmt.Errorf("associate %s with %s: %w", ns.Namespace, a.Name, err)
	}
	return nil
}

// ListAssociations lists a namespace's resource type associations.
func (s *Service) ListAssociations(ctx context.Context, p *auth.Principal, namespace string) ([]ResourceTypeAssociation, error) {
	ns, err := visibleNamespace(ctx, s.db, p, namespace)
	if err != nil {
		return nil, err
	}
	return associations(ctx, s.db, ns.ID)
}

// Associate ties a namespace to a resource type.
func (s *Service) Associate(ctx context.Context, p *auth.Principal, namespace string, a ResourceTypeAssociation) (*ResourceTypeAssociation, error) {
	a.CreatedAt = store.Now()
	a.UpdatedAt = a.CreatedAt
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		return insertAssociation(ctx, tx, ns, a)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Dissociate unties a namespace that is not protected from a resource
// type.
func (s *Service) Dissociate(ctx context.Context, p *auth.Principal, namespace, resourceType string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, namespace)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM metadef_resource_types WHERE name = ?`, resourceType).Scan(&n); err != nil {
			return fmt.Errorf("look up resource type %s: %w", resourceType, err)
		}
		if n == 0 {
			return errs.NotFound("The metadata definition resource-type with name=%s, was not found.", resourceType)
		}
		if ns.Protected {
			return errs.Forbidden("Metadata definition resource-type-association %s is protected and cannot be deleted.", resourceType)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM metadef_namespace_resource_types WHERE namespace_id = ? AND resource_type = ?`, ns.ID, resourceType)
		if err != nil {
			return fmt.Errorf("dissociate %s from %s: %w", namespace, resourceType, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return associationNotFound(resourceType, namespace)
		}
		return nil
	})
}
