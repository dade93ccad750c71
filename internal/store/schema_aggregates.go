package store

// schemaAggregates holds host aggregates (os-aggregates): named groups of
// compute hosts with metadata; the availability_zone metadata key makes
// an aggregate an availability zone, as in Nova.
var schemaAggregates = migration{13, "aggregates", []string{
	`CREATE TABLE aggregates (
		id INTEGER PRIMARY KEY,
		uuid TEXT NOT NULL UNIQUE,
		name TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT,
		deleted_at BIGINT,
		deleted BOOLEAN NOT NULL DEFAULT FALSE)`,
	`CREATE TABLE aggregate_hosts (
		aggregate_id INTEGER NOT NULL REFERENCES aggregates (id),
		host TEXT NOT NULL,
		PRIMARY KEY (aggregate_id, host))`,
	`CREATE TABLE aggregate_metadata (
		aggregate_id INTEGER NOT NULL REFERENCES aggregates (id),
		key TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (aggregate_id, key))`,
}}
