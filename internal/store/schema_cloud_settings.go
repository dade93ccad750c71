package store

// schemaCloudSettings holds facts every kumo process sharing the database
// must agree on, first writer wins: the fingerprint of the cloud's
// secret key, so a process started with another key is refused before it
// seals anything the others cannot open.
var schemaCloudSettings = migration{52, "cloud settings", []string{
	`CREATE TABLE cloud_settings (
		name TEXT PRIMARY KEY,
		value TEXT NOT NULL,
		created_at BIGINT NOT NULL)`,
}}
