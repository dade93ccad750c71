package store

// schemaGroups adds Keystone's groups (identity_groups: GROUPS is an SQL
// keyword), their members, implied roles, and the two things an
// assignment lacked: who holds it (a user or a group) and whether it is
// inherited to the projects under its target (OS-INHERIT). Inherited is
// part of the key, as in Keystone: a role can be granted on a domain both
// directly and to its projects. SQLite cannot change a primary key, so
// the table is rebuilt on both databases.
var schemaGroups = migration{42, "groups, inherited and implied roles", []string{
	`CREATE TABLE identity_groups (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		domain_id TEXT NOT NULL REFERENCES domains(id),
		description TEXT NOT NULL DEFAULT '',
		extra TEXT NOT NULL DEFAULT '{}',
		created_at BIGINT NOT NULL,
		UNIQUE (domain_id, name))`,
	`CREATE TABLE group_members (
		group_id TEXT NOT NULL REFERENCES identity_groups(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL,
		PRIMARY KEY (group_id, user_id))`,
	`CREATE INDEX group_members_user ON group_members (user_id)`,
	`CREATE TABLE implied_roles (
		prior_role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		implied_role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		PRIMARY KEY (prior_role_id, implied_role_id))`,
	`CREATE TABLE role_assignments_v39 (
		actor_type TEXT NOT NULL DEFAULT 'user',
		actor_id TEXT NOT NULL,
		target_type TEXT NOT NULL,
		target_id TEXT NOT NULL,
		role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		inherited BOOLEAN NOT NULL DEFAULT FALSE,
		PRIMARY KEY (actor_id, target_type, target_id, role_id, inherited))`,
	`INSERT INTO role_assignments_v39 (actor_type, actor_id, target_type, target_id, role_id, inherited)
		SELECT 'user', actor_id, target_type, target_id, role_id, FALSE FROM role_assignments`,
	`DROP TABLE role_assignments`,
	`ALTER TABLE role_assignments_v39 RENAME TO role_assignments`,
	`CREATE INDEX role_assignments_target ON role_assignments (target_type, target_id)`,
	`CREATE INDEX role_assignments_role ON role_assignments (role_id)`,
}}
