package store

// schemaTaskContract versions each task's params (the task contract in
// internal/compute: 0 is the untyped map of older rows) and keeps why a
// host refused a task it does not know, for the operator; the task stays
// pending for a host that knows it.
var schemaTaskContract = migration{22, "task contract", []string{
	`ALTER TABLE tasks ADD COLUMN params_version INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE tasks ADD COLUMN refused TEXT`,
}}
