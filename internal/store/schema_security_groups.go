package store

// schemaSecurityGroups holds the built-in per-project security groups and their rules.
//
// A group belongs to one project; names need not be unique (Neutron's
// rule). default_of is the project id on the project's "default" group
// and NULL elsewhere, so the UNIQUE constraint keeps one default group
// per project however many requests create it at once.
//
// Rules are Neutron's: direction and ethertype are kept though the Nova
// API shows ingress rules only; a rule names a remote CIDR or a remote
// group (deleting that group deletes the rule, as in Neutron).
//
// A server's membership is one row per group (Neutron binds groups to
// each port; kumo binds them to the server, whose ports all share them).
// instances.security_groups mirrors the member groups' names for the
// server views and is rewritten whenever membership or a name changes.
var schemaSecurityGroups = migration{10, "security groups", []string{
	`CREATE TABLE security_groups (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL,
		name TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		default_of TEXT UNIQUE,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX security_groups_project ON security_groups (project_id, name)`,
	`CREATE TABLE security_group_rules (
		id TEXT PRIMARY KEY,
		group_id TEXT NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE,
		direction TEXT NOT NULL,
		ethertype TEXT NOT NULL,
		protocol TEXT,
		port_min INTEGER,
		port_max INTEGER,
		remote_cidr TEXT,
		remote_group_id TEXT REFERENCES security_groups(id) ON DELETE CASCADE,
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX security_group_rules_group ON security_group_rules (group_id, created_at)`,
	`CREATE INDEX security_group_rules_remote ON security_group_rules (remote_group_id)`,
	`CREATE TABLE security_group_members (
		instance_id TEXT NOT NULL,
		group_id TEXT NOT NULL REFERENCES security_groups(id),
		created_at BIGINT NOT NULL,
		PRIMARY KEY (instance_id, group_id))`,
	`CREATE INDEX security_group_members_group ON security_group_members (group_id)`,
}}
