package store

// schemaNetworkQuotas holds the networking API's quota limits set for a
// project; a missing row is the resource's default.
var schemaNetworkQuotas = migration{25, "network quotas", []string{
	`CREATE TABLE network_quotas (
		project_id TEXT NOT NULL,
		resource TEXT NOT NULL,
		hard_limit INTEGER NOT NULL,
		PRIMARY KEY (project_id, resource))`,
}}
