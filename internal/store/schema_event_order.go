package store

// schemaEventOrder numbers the events of an instance action in the order
// they were recorded, so that events starting at the same instant list in
// a stable order, newest recorded first, as Nova's (its events'
// autoincrement id breaks the tie; kumo's ids are random UUIDs). Events
// recorded before this migration keep 0.
var schemaEventOrder = migration{56, "instance action event order", []string{
	`ALTER TABLE instance_action_events ADD COLUMN seq BIGINT NOT NULL DEFAULT 0`,
}}
