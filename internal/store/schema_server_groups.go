package store

// schemaServerGroups holds server groups (Nova's instance_groups with one
// policy and its rules, as from 2.64) and their members. rules is a JSON
// object ({} when none). Members are kept when a server is deleted, as in
// Nova; the views leave deleted servers out.
var schemaServerGroups = migration{12, "server groups", []string{
	`CREATE TABLE server_groups (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		project_id TEXT NOT NULL,
		user_id TEXT NOT NULL,
		policy TEXT NOT NULL,
		rules TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX server_groups_project ON server_groups (project_id, user_id)`,
	`CREATE TABLE server_group_members (
		group_id TEXT NOT NULL REFERENCES server_groups (id) ON DELETE CASCADE,
		instance_id TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (group_id, instance_id))`,
	`CREATE INDEX server_group_members_instance ON server_group_members (instance_id)`,
}}
