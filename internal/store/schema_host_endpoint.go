package store

// schemaHostEndpoint gives each compute host the URL of its host
// endpoint (/kumo/v1/host/, served by the process running its agent),
// where other hosts send a moving server's files.
var schemaHostEndpoint = migration{49, "host endpoint", []string{
	`ALTER TABLE compute_hosts ADD COLUMN endpoint_url TEXT NOT NULL DEFAULT ''`,
}}
