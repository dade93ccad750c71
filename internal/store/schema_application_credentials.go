package store

// schemaApplicationCredentials holds Keystone's application credentials:
// a user's secret (kept only as a password hash) bound to one project and
// a subset of the user's roles there, with optional access rules that
// limit which API calls its tokens may make. Roles and access rules keep
// the order they were given in (position). Tokens remember the
// application credential they were issued from.
var schemaApplicationCredentials = migration{39, "application credentials", []string{
	`CREATE TABLE application_credentials (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL,
		project_id TEXT NOT NULL,
		name TEXT NOT NULL,
		description TEXT,
		secret_hash TEXT NOT NULL,
		expires_at BIGINT,
		unrestricted BOOLEAN NOT NULL DEFAULT FALSE,
		created_at BIGINT NOT NULL,
		UNIQUE (user_id, name))`,
	`CREATE INDEX application_credentials_project ON application_credentials (project_id, user_id)`,
	`CREATE TABLE application_credential_roles (
		app_cred_id TEXT NOT NULL,
		role_id TEXT NOT NULL,
		position INTEGER NOT NULL,
		PRIMARY KEY (app_cred_id, role_id))`,
	`CREATE INDEX application_credential_roles_role ON application_credential_roles (role_id)`,
	`CREATE TABLE access_rules (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL,
		service TEXT NOT NULL,
		path TEXT NOT NULL,
		method TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		UNIQUE (user_id, service, path, method))`,
	`CREATE TABLE application_credential_access_rules (
		app_cred_id TEXT NOT NULL,
		access_rule_id TEXT NOT NULL,
		position INTEGER NOT NULL,
		PRIMARY KEY (app_cred_id, access_rule_id))`,
	`CREATE INDEX application_credential_access_rules_rule ON application_credential_access_rules (access_rule_id)`,
	`ALTER TABLE tokens ADD COLUMN app_cred_id TEXT NOT NULL DEFAULT ''`,
}}
