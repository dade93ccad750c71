package store

// schemaRateLimits holds the request rate limit counters (internal/apirate)
// every API process of a cloud shares: one fixed-window row per project
// and rule, taken by one conditional upsert per request a rule matches.
var schemaRateLimits = migration{55, "rate limits", []string{
	`CREATE TABLE rate_limit_counters (
		project_id TEXT NOT NULL,
		rule TEXT NOT NULL,
		window_start BIGINT NOT NULL,
		hits BIGINT NOT NULL,
		PRIMARY KEY (project_id, rule))`,
}}
