package store

// schemaIndexColumns lets the two most frequent reads of instances run
// off an index alone. The list indexes gain vm_state, so the ids of a
// page (the listing's first query, which hides soft-deleted servers)
// come without reading the table; instances_usage covers the quota
// check's count of a project's (or a user's) instances, cores and RAM,
// which every create runs and which read every row of the project.
var schemaIndexColumns = migration{16, "instance index columns", []string{
	`DROP INDEX instances_project`,
	`DROP INDEX instances_created`,
	`CREATE INDEX instances_project ON instances (project_id, deleted, created_at, number, vm_state)`,
	`CREATE INDEX instances_created ON instances (deleted, created_at, number, vm_state)`,
	`CREATE INDEX instances_usage ON instances (project_id, deleted, user_id, vm_state, vcpus, memory_mb)`,
}}
