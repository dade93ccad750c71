package store

// schemaCredentials holds Keystone credentials; today only the OS-EC2
// kind. As in Keystone, an EC2 credential's id is the SHA-256 of its
// access key and its blob (access, secret, trust id) is kept encrypted.
var schemaCredentials = migration{15, "credentials", []string{
	`CREATE TABLE credentials (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL,
		project_id TEXT,
		type TEXT NOT NULL,
		encrypted_blob TEXT NOT NULL,
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX credentials_user ON credentials (user_id, type, created_at)`,
	`CREATE INDEX credentials_project ON credentials (project_id)`,
}}
