package store

// schemaNetworkQuotas keeps the networking API's quota limits, apart from
// Nova's quotas table: Neutron's quotas are a service of their own (one
// limit per project and resource, no users, no classes), and Nova's
// DELETE of a project's quota set must not reset them, nor Neutron's
// DELETE Nova's. A missing row means the default. Networks gain their
// availability zone hints (a JSON list of zone names).
var schemaNetworkQuotas = migration{26, "network quotas and zone hints", []string{
	`CREATE TABLE network_quotas (
		project_id TEXT NOT NULL,
		resource TEXT NOT NULL,
		hard_limit BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (project_id, resource))`,
	`ALTER TABLE networks ADD COLUMN availability_zone_hints TEXT NOT NULL DEFAULT '[]'`,
}}
