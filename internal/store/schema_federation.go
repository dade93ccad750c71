package store

// schemaFederation holds Keystone's delegation and federation objects:
// trusts (OS-TRUST) with their roles, identity providers with their
// remote ids, protocols and mappings (OS-FEDERATION), service providers,
// and OAuth1 consumers (OS-OAUTH1), whose secrets are kept sealed. A
// token issued through a trust remembers it (tokens.trust_id), so
// deleting the trust ends the token.
var schemaFederation = migration{41, "trusts, federation, oauth1", []string{
	`CREATE TABLE trusts (
		id TEXT PRIMARY KEY,
		trustor_user_id TEXT NOT NULL,
		trustee_user_id TEXT NOT NULL,
		project_id TEXT NOT NULL DEFAULT '',
		impersonation BOOLEAN NOT NULL,
		expires_at BIGINT,
		remaining_uses INTEGER,
		redelegated_trust_id TEXT NOT NULL DEFAULT '',
		redelegation_count INTEGER NOT NULL DEFAULT 0,
		extra TEXT NOT NULL DEFAULT '{}',
		deleted_at BIGINT,
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX trusts_trustor ON trusts (trustor_user_id)`,
	`CREATE INDEX trusts_trustee ON trusts (trustee_user_id)`,
	`CREATE TABLE trust_roles (
		trust_id TEXT NOT NULL REFERENCES trusts(id) ON DELETE CASCADE,
		role_id TEXT NOT NULL,
		PRIMARY KEY (trust_id, role_id))`,
	`ALTER TABLE tokens ADD COLUMN trust_id TEXT NOT NULL DEFAULT ''`,
	`CREATE TABLE identity_providers (
		id TEXT PRIMARY KEY,
		enabled BOOLEAN NOT NULL,
		description TEXT,
		domain_id TEXT NOT NULL,
		authorization_ttl INTEGER,
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE idp_remote_ids (
		remote_id TEXT PRIMARY KEY,
		idp_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE)`,
	`CREATE INDEX idp_remote_ids_idp ON idp_remote_ids (idp_id)`,
	`CREATE TABLE federation_mappings (
		id TEXT PRIMARY KEY,
		rules TEXT NOT NULL,
		schema_version TEXT NOT NULL DEFAULT '1.0',
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE federation_protocols (
		id TEXT NOT NULL,
		idp_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
		mapping_id TEXT NOT NULL,
		remote_id_attribute TEXT,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (idp_id, id))`,
	`CREATE TABLE service_providers (
		id TEXT PRIMARY KEY,
		enabled BOOLEAN NOT NULL,
		description TEXT,
		auth_url TEXT NOT NULL,
		sp_url TEXT NOT NULL,
		relay_state_prefix TEXT NOT NULL,
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE oauth1_consumers (
		id TEXT PRIMARY KEY,
		description TEXT,
		sealed_secret TEXT NOT NULL,
		extra TEXT NOT NULL DEFAULT '{}',
		created_at BIGINT NOT NULL)`,
}}
