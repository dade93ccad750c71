package image

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Glance's metadata definitions catalog (metadefs): namespaces of
// property definitions, objects and tags, associated with the resource
// types whose metadata they describe. Namespaces are public or private;
// a private one is seen by its owner's project and admins only, as in
// glance/db/sqlalchemy/metadef_api.

// Namespace is one metadata definition namespace. The contents
// (ResourceTypes, Objects, Properties, Tags) are filled by the calls that
// say so.
type Namespace struct {
	ID          string
	Namespace   string
	DisplayName *string
	Description *string
	Visibility  string
	Protected   bool
	Owner       string
	CreatedAt   int64
	UpdatedAt   int64

	ResourceTypes []ResourceTypeAssociation
	Objects       []MetadefObject
	Properties    []MetadefProperty
	Tags          []MetadefTag
}

// ResourceTypeAssociation ties a namespace to a resource type; Prefix
// is what the namespace's property names take on that resource
// (hw_ on images, hw: on flavors), PropertiesTarget where they go.
type ResourceTypeAssociation struct {
	Name             string
	Prefix           *string
	PropertiesTarget *string
	CreatedAt        int64
	UpdatedAt        int64
}

// ResourceType is a kind of resource namespaces describe.
type ResourceType struct {
	Name      string
	Protected bool
	CreatedAt int64
	UpdatedAt int64
}

// MetadefObject groups property definitions under a name.
type MetadefObject struct {
	Name        string
	Description *string
	Required    []string
	Properties  map[string]map[string]any
	CreatedAt   int64
	UpdatedAt   int64
}

// MetadefProperty is one property definition: a JSON schema document
// (type, title, enum, ...) under a name.
type MetadefProperty struct {
	Name   string
	Schema map[string]any
}

// MetadefTag is one tag definition.
type MetadefTag struct {
	Name      string
	CreatedAt int64
	UpdatedAt int64
}

// NamespaceVisibilities are the visibilities a namespace may have.
var NamespaceVisibilities = []string{Public, Private}

// NamespaceRequest is a namespace to create, or what an update sets.
type NamespaceRequest struct {
	Namespace   string
	DisplayName *string
	Description *string
	Visibility  string // "" is private
	Protected   bool
	Owner       string // "" is the caller's project
	// Contents created with the namespace (create only).
	ResourceTypes []ResourceTypeAssociation
	Objects       []MetadefObject
	Properties    []MetadefProperty
	Tags          []string
}

// NamespaceQuery selects and pages namespaces.
type NamespaceQuery struct {
	Marker        string
	Limit         int // 0: no limit
	SortKey       string
	SortDir       string
	Visibility    string
	ResourceTypes []string
}

const namespaceColumns = `n.id, n.namespace, n.display_name, n.description, n.visibility, n.protected, n.owner, n.created_at, n.updated_at`

func scanNamespace(r rowScanner) (*Namespace, error) {
	var (
		ns         Namespace
		disp, desc sql.NullString
	)
	if err := r.Scan(&ns.ID, &ns.Namespace, &disp, &desc, &ns.Visibility, &ns.Protected, &ns.Owner, &ns.CreatedAt, &ns.UpdatedAt); err != nil {
		return nil, err
	}
	ns.DisplayName, ns.Description = store.StringPtr(disp), store.StringPtr(desc)
	return &ns, nil
}

// namespaceVisible is Glance's _is_namespace_visible: admins see all,
// everyone sees public namespaces, a project sees its own.
func namespaceVisible(p *auth.Principal, ns *Namespace) bool {
	return p.IsAdmin() || ns.Visibility == Public || (projectOf(p) != "" && ns.Owner == projectOf(p))
}

// NamespaceNotFound is Glance's 404 for a namespace named in the path of
// a call on its contents.
func NamespaceNotFound(name string) error { return errs.NotFound("Namespace %s not found", name) }

// loadNamespace reads a namespace by name; hidden and missing namespaces
// are store.ErrNotFound alike.
func loadNamespace(ctx context.Context, q store.Querier, p *auth.Principal, name string) (*Namespace, error) {
	ns, err := scanNamespace(q.QueryRowContext(ctx, `SELECT `+namespaceColumns+` FROM metadef_namespaces n WHERE n.namespace = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load namespace %s: %w", name, err)
	}
	if !namespaceVisible(p, ns) {
		return nil, store.ErrNotFound
	}
	return ns, nil
}

// visibleNamespace loads a namespace for a call on its contents, with
// Glance's "Namespace X not found".
func visibleNamespace(ctx context.Context, q store.Querier, p *auth.Principal, name string) (*Namespace, error) {
	ns, err := loadNamespace(ctx, q, p, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NamespaceNotFound(name)
	}
	return ns, err
}

// mutableNamespace loads a namespace the caller may change: Glance's
// is_namespace_mutable (admins and the owner's project).
func mutableNamespace(ctx context.Context, q store.Querier, p *auth.Principal, name string) (*Namespace, error) {
	ns, err := visibleNamespace(ctx, q, p, name)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() && ns.Owner != projectOf(p) {
		return nil, errs.Forbidden("You are not permitted to modify resources in namespace %s.", name)
	}
	return ns, nil
}

// NamespaceVisible reports whether the caller may see the namespace
// (the API answers 404 rather than 403 for those it may not).
func (s *Service) NamespaceVisible(ctx context.Context, p *auth.Principal, name string) (bool, error) {
	_, err := loadNamespace(ctx, s.db, p, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func checkNamespaceRequest(req *NamespaceRequest) error {
	if req.Namespace == "" {
		return errs.Invalid("Namespace name must not be empty.")
	}
	if req.Visibility == "" {
		req.Visibility = Private
	}
	if req.Visibility != Public && req.Visibility != Private {
		return errs.Invalid("Invalid visibility value: %s", req.Visibility)
	}
	return nil
}

// CreateNamespace creates a namespace with the contents named in req.
func (s *Service) CreateNamespace(ctx context.Context, p *auth.Principal, req NamespaceRequest) (*Namespace, error) {
	if err := checkNamespaceRequest(&req); err != nil {
		return nil, err
	}
	if req.Owner == "" {
		req.Owner = projectOf(p)
	}
	now := store.Now()
	ns := &Namespace{ID: uuid.NewString(), Namespace: req.Namespace, DisplayName: req.DisplayName,
		Description: req.Description, Visibility: req.Visibility, Protected: req.Protected,
		Owner: req.Owner, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return createNamespace(ctx, tx, ns, req)
	})
	if err != nil {
		return nil, err
	}
	return ns, nil
}

func createNamespace(ctx context.Context, tx *store.Tx, ns *Namespace, req NamespaceRequest) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO metadef_namespaces (id, namespace, display_name, description,
		visibility, protected, owner, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)`,
		ns.ID, ns.Namespace, ns.DisplayName, ns.Description, ns.Visibility, ns.Protected, ns.Owner, ns.CreatedAt, ns.UpdatedAt)
	if store.IsUniqueViolation(err) {
		return errs.Conflict("The metadata definition namespace=%s already exists.", ns.Namespace)
	}
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", ns.Namespace, err)
	}
	for _, a := range req.ResourceTypes {
		a.CreatedAt, a.UpdatedAt = ns.CreatedAt, ns.CreatedAt
		if err := insertAssociation(ctx, tx, ns, a); err != nil {
			return err
		}
		ns.ResourceTypes = append(ns.ResourceTypes, a)
	}
	for _, o := range req.Objects {
		o.CreatedAt, o.UpdatedAt = ns.CreatedAt, ns.CreatedAt
		if err := insertObject(ctx, tx, ns, &o); err != nil {
			return err
		}
		ns.Objects = append(ns.Objects, o)
	}
	for _, pr := range req.Properties {
		if err := insertProperty(ctx, tx, ns, pr, ns.CreatedAt); err != nil {
			return err
		}
		ns.Properties = append(ns.Properties, pr)
	}
	for _, t := range req.Tags {
		tag := MetadefTag{Name: t, CreatedAt: ns.CreatedAt, UpdatedAt: ns.CreatedAt}
		if err := insertTag(ctx, tx, ns, tag); err != nil {
			return err
		}
		ns.Tags = append(ns.Tags, tag)
	}
	return nil
}

// namespaceSortKeys are the columns a namespace list sorts by.
var namespaceSortKeys = map[string]bool{"created_at": true, "updated_at": true, "namespace": true,
	"display_name": true, "visibility": true, "owner": true, "protected": true, "id": true}

// ListNamespaces lists the namespaces the caller sees, each with its
// resource type associations.
func (s *Service) ListNamespaces(ctx context.Context, p *auth.Principal, q NamespaceQuery) ([]*Namespace, error) {
	if q.SortKey == "" {
		q.SortKey = "created_at"
	}
	if q.SortDir == "" {
		q.SortDir = "desc"
	}
	if !namespaceSortKeys[q.SortKey] {
		return nil, errs.Invalid("Invalid sort key: %s", q.SortKey)
	}
	if q.SortDir != "asc" && q.SortDir != "desc" {
		return nil, errs.Invalid("Invalid sort direction: %s", q.SortDir)
	}
	where, args := []string{"TRUE"}, []any{}
	if !p.IsAdmin() {
		where = append(where, "(n.visibility = 'public' OR n.owner = ?)")
		args = append(args, projectOf(p))
	}
	if q.Visibility != "" {
		where = append(where, "n.visibility = ?")
		args = append(args, q.Visibility)
	}
	if len(q.ResourceTypes) > 0 {
		where = append(where, `n.id IN (SELECT namespace_id FROM metadef_namespace_resource_types WHERE resource_type IN (`+placeholders(len(q.ResourceTypes))+`))`)
		for _, rt := range q.ResourceTypes {
			args = append(args, rt)
		}
	}
	// Glance pages by (sort_key, created_at, id), all in sort_dir.
	keys := []string{q.SortKey}
	for _, k := range []string{"created_at", "id"} {
		if k != q.SortKey {
			keys = append(keys, k)
		}
	}
	if q.Marker != "" {
		m, err := loadNamespace(ctx, s.db, p, q.Marker)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errs.NotFound("Metadata definition namespace=%s was not found.", q.Marker)
		}
		if err != nil {
			return nil, err
		}
		cond, margs := afterMarker(keys, q.SortDir, m)
		where = append(where, cond)
		args = append(args, margs...)
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = "n." + k + " " + q.SortDir
	}
	query := `SELECT ` + namespaceColumns + ` FROM metadef_namespaces n WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + strings.Join(order, ", ")
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var out []*Namespace
	for rows.Next() {
		ns, err := scanNamespace(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan namespace: %w", err)
		}
		out = append(out, ns)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	for _, ns := range out {
		if ns.ResourceTypes, err = associations(ctx, s.db, ns.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// afterMarker is the keyset condition for rows after marker m in the
// order of keys, all sorted dir.
func afterMarker(keys []string, dir string, m *Namespace) (string, []any) {
	op := ">"
	if dir == "desc" {
		op = "<"
	}
	val := func(k string) any {
		switch k {
		case "created_at":
			return m.CreatedAt
		case "updated_at":
			return m.UpdatedAt
		case "namespace":
			return m.Namespace
		case "display_name":
			return nullable(m.DisplayName)
		case "visibility":
			return m.Visibility
		case "owner":
			return m.Owner
		case "protected":
			return m.Protected
		}
		return m.ID
	}
	var ors []string
	var args []any
	for i := range keys {
		var ands []string
		for _, k := range keys[:i] {
			ands = append(ands, "n."+k+" = ?")
			args = append(args, val(k))
		}
		ands = append(ands, "n."+keys[i]+" "+op+" ?")
		args = append(args, val(keys[i]))
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

func nullable(s *string) any {
	if s == nil {
		return ""
	}
	return *s
}

// GetNamespace returns a namespace with all its contents; resourceType,
// when set, prefixes its property names (and objects' properties) with
// that resource type's prefix, as Glance's show does.
func (s *Service) GetNamespace(ctx context.Context, p *auth.Principal, name, resourceType string) (*Namespace, error) {
	ns, err := loadNamespace(ctx, s.db, p, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errs.NotFound("Metadata definition namespace=%s was not found.", name)
	}
	if err != nil {
		return nil, err
	}
	if ns.ResourceTypes, err = associations(ctx, s.db, ns.ID); err != nil {
		return nil, err
	}
	if ns.Objects, err = objects(ctx, s.db, ns.ID); err != nil {
		return nil, err
	}
	if ns.Properties, err = properties(ctx, s.db, ns.ID); err != nil {
		return nil, err
	}
	if ns.Tags, err = tags(ctx, s.db, ns.ID, TagQuery{SortKey: "created_at", SortDir: "asc"}); err != nil {
		return nil, err
	}
	if resourceType != "" {
		prefixNames(ns, resourceType)
	}
	return ns, nil
}

func prefixNames(ns *Namespace, resourceType string) {
	prefix := ""
	for _, a := range ns.ResourceTypes {
		if a.Name == resourceType && a.Prefix != nil {
			prefix = *a.Prefix
		}
	}
	if prefix == "" {
		return
	}
	for i := range ns.Properties {
		ns.Properties[i].Name = prefix + ns.Properties[i].Name
	}
	for i := range ns.Objects {
		o := &ns.Objects[i]
		props := make(map[string]map[string]any, len(o.Properties))
		for k, v := range o.Properties {
			props[prefix+k] = v
		}
		o.Properties = props
		for j := range o.Required {
			o.Required[j] = prefix + o.Required[j]
		}
	}
}

// UpdateNamespace replaces a namespace's attributes, as Glance's PUT
// does: what the body leaves out goes back to its default.
func (s *Service) UpdateNamespace(ctx context.Context, p *auth.Principal, name string, req NamespaceRequest) (*Namespace, error) {
	if err := checkNamespaceRequest(&req); err != nil {
		return nil, err
	}
	var ns *Namespace
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ns, err = mutableNamespace(ctx, tx, p, name); err != nil {
			return err
		}
		if req.Owner == "" {
			req.Owner = projectOf(p)
		}
		ns.Namespace, ns.DisplayName, ns.Description = req.Namespace, req.DisplayName, req.Description
		ns.Visibility, ns.Protected, ns.Owner, ns.UpdatedAt = req.Visibility, req.Protected, req.Owner, store.Now()
		_, err = tx.ExecContext(ctx, `UPDATE metadef_namespaces SET namespace = ?, display_name = ?, description = ?,
			visibility = ?, protected = ?, owner = ?, updated_at = ? WHERE id = ?`,
			ns.Namespace, ns.DisplayName, ns.Description, ns.Visibility, ns.Protected, ns.Owner, ns.UpdatedAt, ns.ID)
		if store.IsUniqueViolation(err) {
			return errs.Conflict("The metadata definition namespace=%s already exists.", ns.Namespace)
		}
		if err != nil {
			return fmt.Errorf("update namespace %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ns, nil
}

// DeleteNamespace deletes a namespace and everything in it, unless it
// is protected.
func (s *Service) DeleteNamespace(ctx context.Context, p *auth.Principal, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, name)
		if err != nil {
			return err
		}
		if ns.Protected {
			return errs.Forbidden("Metadata definition namespace %s is protected and cannot be deleted.", name)
		}
		for _, table := range []string{"metadef_namespace_resource_types", "metadef_objects", "metadef_properties", "metadef_tags", "metadef_namespaces"} {
			col := "namespace_id"
			if table == "metadef_namespaces" {
				col = "id"
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+col+` = ?`, ns.ID); err != nil {
				return fmt.Errorf("delete namespace %s: %w", name, err)
			}
		}
		return nil
	})
}

// Namespace contents that DeleteNamespaceContents removes.
const (
	ContentObjects    = "metadef_objects"
	ContentProperties = "metadef_properties"
	ContentTags       = "metadef_tags"
)

// DeleteNamespaceContents removes all objects, properties or tags
// (content) of a namespace that is not protected.
func (s *Service) DeleteNamespaceContents(ctx context.Context, p *auth.Principal, name, content string) error {
	switch content {
	case ContentObjects, ContentProperties, ContentTags:
	default:
		return fmt.Errorf("unknown namespace content %q", content)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ns, err := mutableNamespace(ctx, tx, p, name)
		if err != nil {
			return err
		}
		if ns.Protected {
			return errs.Forbidden("Metadata definition namespace %s is protected and cannot be deleted.", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+content+` WHERE namespace_id = ?`, ns.ID); err != nil {
			return fmt.Errorf("delete %s of namespace %s: %w", content, name, err)
		}
		return nil
	})
}
