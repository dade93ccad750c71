package store

// schemaServerMigrations holds resize and cold migration records (os-migrations).
// The columns are Nova's migrations table; old_flavor and new_flavor keep
// the flavor snapshots a revert restores (Nova's instance_extra old_flavor
// and new_flavor). updated_at is NULL until the record first changes, as
// in Nova. The indexes serve the listing's 2.59 order (created_at, id),
// its filters and the in-progress lookups per server.
var schemaServerMigrations = migration{9, "server migrations", []string{
	`CREATE TABLE migrations (
		id BIGINT PRIMARY KEY,
		uuid TEXT NOT NULL UNIQUE,
		instance_uuid TEXT NOT NULL,
		migration_type TEXT NOT NULL,
		status TEXT NOT NULL,
		source_compute TEXT,
		source_node TEXT,
		dest_compute TEXT,
		dest_node TEXT,
		dest_host TEXT,
		old_instance_type_id INTEGER,
		new_instance_type_id INTEGER,
		old_flavor TEXT NOT NULL,
		new_flavor TEXT NOT NULL,
		user_id TEXT NOT NULL,
		project_id TEXT NOT NULL,
		hidden BOOLEAN NOT NULL DEFAULT FALSE,
		created_at BIGINT NOT NULL,
		updated_at BIGINT)`,
	`CREATE INDEX migrations_created ON migrations (created_at, id)`,
	`CREATE INDEX migrations_instance ON migrations (instance_uuid, status)`,
	`CREATE INDEX migrations_status ON migrations (status, updated_at)`,
	`CREATE INDEX migrations_source ON migrations (source_compute)`,
	`CREATE INDEX migrations_dest ON migrations (dest_compute, status)`,
	`CREATE INDEX migrations_updated ON migrations (updated_at)`,
	`CREATE INDEX migrations_owner ON migrations (project_id, user_id)`,
}}
