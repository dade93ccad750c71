package store

// schemaFaults holds the fault injection rules (internal/faults) every
// API and compute process of a cloud reads, and the last injections.
// A rule's match and action are one JSON document (spec); what processes
// change concurrently has columns of its own: remaining (a count rule's
// firings left, NULL for unlimited) is decremented by one conditional
// UPDATE per firing, so the processes of a cloud share it.
var schemaFaults = migration{54, "fault injection", []string{
	`CREATE TABLE fault_rules (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		source TEXT NOT NULL,
		spec TEXT NOT NULL,
		remaining BIGINT,
		hits BIGINT NOT NULL DEFAULT 0,
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE fault_events (
		id TEXT PRIMARY KEY,
		fault_id TEXT NOT NULL,
		fault_name TEXT NOT NULL,
		request_id TEXT NOT NULL,
		service TEXT NOT NULL,
		method TEXT NOT NULL,
		path TEXT NOT NULL,
		project_id TEXT NOT NULL,
		action TEXT NOT NULL,
		operation TEXT NOT NULL,
		server_id TEXT NOT NULL,
		at BIGINT NOT NULL)`,
	`CREATE INDEX fault_events_at ON fault_events (at)`,
}}
