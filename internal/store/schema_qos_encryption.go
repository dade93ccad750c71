package store

// schemaQoSEncryption adds Cinder's QoS specs and volume type encryption:
// a QoS specs record (name, consumer) with its key/value specs (values
// may be null, as Cinder's DictOfNullableStringsField), the volume type's
// qos_specs_id (at most one specs per type), and a type's encryption
// (provider, cipher, key_size, control_location), one per type.
// updated_at of an encryption is null until it is updated, as Cinder shows.
var schemaQoSEncryption = migration{35, "qos specs and volume type encryption", []string{
	`CREATE TABLE qos_specs (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		consumer TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE TABLE qos_spec_items (
		qos_specs_id TEXT NOT NULL REFERENCES qos_specs(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		value TEXT,
		PRIMARY KEY (qos_specs_id, key))`,
	`ALTER TABLE volume_types ADD COLUMN qos_specs_id TEXT REFERENCES qos_specs(id)`,
	`CREATE INDEX volume_types_qos_specs ON volume_types (qos_specs_id)`,
	`CREATE TABLE volume_type_encryption (
		volume_type_id TEXT PRIMARY KEY REFERENCES volume_types(id) ON DELETE CASCADE,
		encryption_id TEXT NOT NULL UNIQUE,
		provider TEXT,
		cipher TEXT,
		key_size INTEGER,
		control_location TEXT,
		created_at BIGINT NOT NULL,
		updated_at BIGINT)`,
}}
