package store

// schemaPreservedPorts marks the ports a server was booted on by the
// user (Nova's preserve_on_delete): deleting the server unbinds them
// instead of deleting them, as Nova does with ports it did not create.
var schemaPreservedPorts = migration{29, "preserved ports", []string{
	`ALTER TABLE network_ports ADD COLUMN preserve_on_delete BOOLEAN NOT NULL DEFAULT FALSE`,
}}
