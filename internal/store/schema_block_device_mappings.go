package store

// schemaBlockDeviceMappings is Nova's block_device_mapping table: the
// volumes of each server (boot volumes made or given at create,
// attachments), each with its Cinder attachment and, once a host has
// connected it, where its data is (connection_info, JSON). boot_index
// NULL is Nova's None (not bootable); volume_size NULL is no size asked.
var schemaBlockDeviceMappings = migration{34, "block device mappings", []string{
	`CREATE TABLE block_device_mappings (
		id TEXT PRIMARY KEY,
		instance_id TEXT NOT NULL,
		source_type TEXT NOT NULL,
		destination_type TEXT NOT NULL,
		volume_id TEXT NOT NULL DEFAULT '',
		snapshot_id TEXT NOT NULL DEFAULT '',
		image_id TEXT NOT NULL DEFAULT '',
		boot_index INTEGER,
		device_name TEXT NOT NULL DEFAULT '',
		delete_on_termination BOOLEAN NOT NULL DEFAULT FALSE,
		volume_size INTEGER,
		volume_type TEXT NOT NULL DEFAULT '',
		tag TEXT NOT NULL DEFAULT '',
		attachment_id TEXT NOT NULL DEFAULT '',
		disk_bus TEXT NOT NULL DEFAULT '',
		device_type TEXT NOT NULL DEFAULT '',
		guest_format TEXT NOT NULL DEFAULT '',
		connection_info TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL
	)`,
	`CREATE INDEX block_device_mappings_instance ON block_device_mappings (instance_id, created_at, id)`,
	`CREATE INDEX block_device_mappings_volume ON block_device_mappings (volume_id)`,
}}
