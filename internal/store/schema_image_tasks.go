package store

// schemaImageTasks holds Glance's tasks: the record of each interoperable
// import (type api_image_import) or legacy import task, with its input
// and result as JSON documents, as Glance keeps them. A pending task is
// work not started yet (it survives a restart and runs then); expires_at
// is set when the task ends.
var schemaImageTasks = migration{40, "image tasks", []string{
	`CREATE TABLE image_tasks (
		id TEXT PRIMARY KEY,
		type TEXT NOT NULL,
		status TEXT NOT NULL,
		owner TEXT NOT NULL,
		image_id TEXT,
		request_id TEXT,
		user_id TEXT,
		input TEXT NOT NULL,
		result TEXT,
		message TEXT NOT NULL,
		expires_at BIGINT,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX image_tasks_owner ON image_tasks (owner, created_at, id)`,
	`CREATE INDEX image_tasks_image ON image_tasks (image_id)`,
	`CREATE INDEX image_tasks_status ON image_tasks (status)`,
}}
