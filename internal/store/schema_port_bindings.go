package store

// schemaPortBindings gives ports Neutron's binding attributes an admin
// (or Nova) sets: the host (binding:host_id; a port of a server shows
// its server's host instead), the profile (binding:profile, a JSON
// object) and the VNIC type (binding:vnic_type).
var schemaPortBindings = migration{31, "port bindings", []string{
	`ALTER TABLE network_ports ADD COLUMN binding_host TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE network_ports ADD COLUMN binding_profile TEXT NOT NULL DEFAULT '{}'`,
	`ALTER TABLE network_ports ADD COLUMN vnic_type TEXT NOT NULL DEFAULT 'normal'`,
}}
