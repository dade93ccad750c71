package store

// schemaConsoleAuthTokens holds the tokens of Nova's remote consoles
// (console_auth_tokens in Nova's cell database): each lets one client
// reach one console of one server until it expires. Only the token's
// SHA-256 is kept, so the table cannot be read back into working URLs;
// every API process shares it.
var schemaConsoleAuthTokens = migration{53, "console auth tokens", []string{
	`CREATE TABLE console_auth_tokens (
		token_hash TEXT PRIMARY KEY,
		instance_uuid TEXT NOT NULL,
		console_type TEXT NOT NULL,
		protocol TEXT NOT NULL,
		host TEXT NOT NULL,
		port BIGINT NOT NULL DEFAULT 0,
		internal_access_path TEXT,
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL)`,
	`CREATE INDEX console_auth_tokens_expires ON console_auth_tokens (expires_at)`,
	`CREATE INDEX console_auth_tokens_instance ON console_auth_tokens (instance_uuid)`,
}}
