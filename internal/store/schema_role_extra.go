package store

// schemaRoleExtra keeps the attributes Keystone does not define for a
// role and returns as given (its role table's "extra"), as users and
// projects already keep theirs.
var schemaRoleExtra = migration{36, "role extra", []string{
	`ALTER TABLE roles ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'`,
}}
