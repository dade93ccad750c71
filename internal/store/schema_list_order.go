package store

// schemaListOrder makes the server list indexes end in the tie-breaker
// the listing sorts by (number, not id), so a page of the default order
// (created_at, number) is read straight off the index instead of sorting
// every server of the project in a temporary B-tree.
var schemaListOrder = migration{14, "server list order", []string{
	`DROP INDEX instances_project`,
	`DROP INDEX instances_created`,
	`CREATE INDEX instances_project ON instances (project_id, deleted, created_at, number)`,
	`CREATE INDEX instances_created ON instances (deleted, created_at, number)`,
}}
