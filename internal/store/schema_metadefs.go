package store

// schemaMetadefs holds Glance's metadata definitions catalog: namespaces
// (public or private, owned by a project, protected from deletion when
// asked), their objects, properties (JSON schema documents, as Glance
// keeps them) and tags, the resource types and the namespaces'
// associations with them. Children hang off the namespace's id so a
// namespace can be renamed; tag names are unique without regard to case
// (name_key is the lower-cased name), as in Glance.
var schemaMetadefs = migration{37, "metadata definitions", []string{
	`CREATE TABLE metadef_namespaces (
		id TEXT PRIMARY KEY,
		namespace TEXT NOT NULL UNIQUE,
		display_name TEXT,
		description TEXT,
		visibility TEXT NOT NULL,
		protected BOOLEAN NOT NULL,
		owner TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE TABLE metadef_objects (
		id TEXT PRIMARY KEY,
		namespace_id TEXT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		description TEXT,
		required TEXT NOT NULL,
		properties TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (namespace_id, name))`,
	`CREATE TABLE metadef_properties (
		id TEXT PRIMARY KEY,
		namespace_id TEXT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		json_schema TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (namespace_id, name))`,
	`CREATE TABLE metadef_tags (
		id TEXT PRIMARY KEY,
		namespace_id TEXT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		name_key TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (namespace_id, name_key))`,
	`CREATE TABLE metadef_resource_types (
		name TEXT PRIMARY KEY,
		protected BOOLEAN NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE TABLE metadef_namespace_resource_types (
		namespace_id TEXT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
		resource_type TEXT NOT NULL REFERENCES metadef_resource_types (name),
		prefix TEXT,
		properties_target TEXT,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (namespace_id, resource_type))`,
	`CREATE INDEX metadef_namespace_resource_types_type ON metadef_namespace_resource_types (resource_type)`,
}}
