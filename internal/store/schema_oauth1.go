package store

// schemaOAuth1 holds Keystone's OS-OAUTH1 delegation: request tokens a
// consumer asks for and a user authorizes with some of its roles on the
// requested project, and the access tokens they are exchanged for. Token
// secrets are kept sealed (signatures are checked with them), verifiers
// only as hashes. Both go with their consumer. A token issued through an
// access token remembers it (tokens.oauth1_access_token_id), so deleting
// the access token ends the token.
var schemaOAuth1 = migration{45, "oauth1 tokens", []string{
	`CREATE TABLE oauth1_request_tokens (
		id TEXT PRIMARY KEY,
		consumer_id TEXT NOT NULL REFERENCES oauth1_consumers(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL,
		sealed_secret TEXT NOT NULL,
		verifier_hash TEXT NOT NULL DEFAULT '',
		authorizing_user_id TEXT NOT NULL DEFAULT '',
		role_ids TEXT NOT NULL DEFAULT '[]',
		expires_at BIGINT NOT NULL,
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX oauth1_request_tokens_consumer ON oauth1_request_tokens (consumer_id)`,
	`CREATE TABLE oauth1_access_tokens (
		id TEXT PRIMARY KEY,
		consumer_id TEXT NOT NULL REFERENCES oauth1_consumers(id) ON DELETE CASCADE,
		authorizing_user_id TEXT NOT NULL,
		project_id TEXT NOT NULL,
		sealed_secret TEXT NOT NULL,
		role_ids TEXT NOT NULL,
		expires_at BIGINT NOT NULL,
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX oauth1_access_tokens_consumer ON oauth1_access_tokens (consumer_id)`,
	`CREATE INDEX oauth1_access_tokens_user ON oauth1_access_tokens (authorizing_user_id)`,
	`ALTER TABLE tokens ADD COLUMN oauth1_access_token_id TEXT NOT NULL DEFAULT ''`,
}}
