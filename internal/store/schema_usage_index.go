package store

// schemaUsageIndex covers the quota check's count of a project's (or a
// user's) instances, cores and RAM, which every create runs: without it
// the count read every row of the project from the table, and creates
// with 10,000 servers in the project spent most of their time there.
var schemaUsageIndex = migration{16, "instance usage index", []string{
	`CREATE INDEX instances_usage ON instances (project_id, deleted, user_id, vm_state, vcpus, memory_mb)`,
}}
