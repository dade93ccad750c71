package store

// schemaLiveMigration gives migration records Nova's live migration
// progress counters (memory_total, memory_processed, memory_remaining and
// the disk ones, in bytes), which GET /servers/{id}/migrations shows
// while a live migration runs; NULL for every other migration, as in Nova.
var schemaLiveMigration = migration{50, "live migration progress", []string{
	`ALTER TABLE migrations ADD COLUMN memory_total BIGINT`,
	`ALTER TABLE migrations ADD COLUMN memory_processed BIGINT`,
	`ALTER TABLE migrations ADD COLUMN memory_remaining BIGINT`,
	`ALTER TABLE migrations ADD COLUMN disk_total BIGINT`,
	`ALTER TABLE migrations ADD COLUMN disk_processed BIGINT`,
	`ALTER TABLE migrations ADD COLUMN disk_remaining BIGINT`,
}}
