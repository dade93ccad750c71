package store

// schemaUserLockout keeps Keystone's count of a user's consecutive failed
// password authentications and the time of the last one (its local_user
// failed_auth_count and failed_auth_at), which lock the account once
// lockout is configured.
var schemaUserLockout = migration{19, "user lockout", []string{
	`ALTER TABLE users ADD COLUMN failed_auth_count INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE users ADD COLUMN failed_auth_at BIGINT`,
}}
