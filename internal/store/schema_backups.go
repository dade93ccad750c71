package store

// schemaBackups adds Cinder's volume backups: a backup row per copy of a
// volume's (or snapshot's) data in the backup store, its parent for an
// incremental one, data_name the store's name of the data (imported
// records share the exported backup's), volume_meta what a restore gives
// the volume back (bootable, metadata, image metadata; JSON), and work
// the pending job as volumes and snapshots keep it.
var schemaBackups = migration{38, "volume backups", []string{
	`CREATE TABLE backups (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL,
		user_id TEXT NOT NULL,
		volume_id TEXT NOT NULL,
		snapshot_id TEXT,
		parent_id TEXT,
		name TEXT,
		description TEXT,
		container TEXT,
		availability_zone TEXT,
		size_gb INTEGER NOT NULL,
		status TEXT NOT NULL,
		fail_reason TEXT,
		object_count INTEGER NOT NULL DEFAULT 0,
		host TEXT NOT NULL DEFAULT '',
		data_name TEXT NOT NULL DEFAULT '',
		location TEXT NOT NULL DEFAULT '',
		format TEXT NOT NULL DEFAULT '',
		volume_meta TEXT NOT NULL DEFAULT '',
		restore_volume_id TEXT,
		encryption_key_id TEXT,
		work TEXT NOT NULL DEFAULT '',
		data_timestamp BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX backups_project_order ON backups (project_id, created_at, id)`,
	`CREATE INDEX backups_order ON backups (created_at, id)`,
	`CREATE INDEX backups_volume ON backups (volume_id)`,
	`CREATE INDEX backups_parent ON backups (parent_id)`,
	`CREATE INDEX backups_status ON backups (status)`,
	`CREATE INDEX backups_data_name ON backups (data_name)`,
	`CREATE TABLE backup_metadata (
		backup_id TEXT NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (backup_id, key))`,
}}
