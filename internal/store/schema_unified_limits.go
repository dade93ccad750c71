package store

// schemaUnifiedLimits holds Keystone's unified limits: registered limits
// (a service's default for a resource, optionally per region) and limits
// (one project's or domain's override of a registered limit, which they
// reference, as Keystone's limit table does). region_id, project_id and
// domain_id are empty strings when unset, so the UNIQUE constraints see
// an unset value as one value (Keystone allows one registered limit per
// service, region or none, and resource; one limit per registered limit
// and project or domain).
var schemaUnifiedLimits = migration{20, "unified limits", []string{
	`CREATE TABLE registered_limits (
		id TEXT PRIMARY KEY,
		service_id TEXT NOT NULL,
		region_id TEXT NOT NULL DEFAULT '',
		resource_name TEXT NOT NULL,
		default_limit BIGINT NOT NULL,
		description TEXT,
		created_at BIGINT NOT NULL,
		UNIQUE (service_id, resource_name, region_id))`,
	`CREATE TABLE limits (
		id TEXT PRIMARY KEY,
		registered_limit_id TEXT NOT NULL REFERENCES registered_limits(id),
		project_id TEXT NOT NULL DEFAULT '',
		domain_id TEXT NOT NULL DEFAULT '',
		resource_limit BIGINT NOT NULL,
		description TEXT,
		created_at BIGINT NOT NULL,
		UNIQUE (registered_limit_id, project_id, domain_id))`,
	`CREATE INDEX limits_project ON limits (project_id)`,
	`CREATE INDEX limits_domain ON limits (domain_id)`,
}}
