package store

// schemaNeutronPortSecurity gives ports Neutron's port security and
// allowed address pairs, and makes a port's security group bindings go
// with the port.
//
// port_security_enabled is the port's (a new port takes its network's);
// router interfaces are trusted ports, without port security, as in
// Neutron. allowed_address_pairs is a JSON list of {ip_address,
// mac_address}. server_groups marks the ports whose security groups are
// their server's (those Nova made: every port until now); the others
// have their own in security_group_port_bindings. The bindings table is
// rebuilt with a foreign key to its port, so whatever deletes a port
// (the networking API, a server's release) unbinds it.
var schemaNeutronPortSecurity = migration{28, "neutron port security", []string{
	`ALTER TABLE network_ports ADD COLUMN port_security_enabled BOOLEAN NOT NULL DEFAULT TRUE`,
	`UPDATE network_ports SET port_security_enabled = FALSE WHERE device_owner LIKE 'network:%'`,
	`ALTER TABLE network_ports ADD COLUMN allowed_address_pairs TEXT NOT NULL DEFAULT '[]'`,
	`ALTER TABLE network_ports ADD COLUMN server_groups BOOLEAN NOT NULL DEFAULT TRUE`,
	`CREATE TABLE security_group_port_bindings_new (
		port_id TEXT NOT NULL REFERENCES network_ports(id) ON DELETE CASCADE,
		group_id TEXT NOT NULL REFERENCES security_groups(id),
		PRIMARY KEY (port_id, group_id))`,
	`INSERT INTO security_group_port_bindings_new (port_id, group_id)
		SELECT b.port_id, b.group_id FROM security_group_port_bindings b JOIN network_ports p ON p.id = b.port_id`,
	`DROP TABLE security_group_port_bindings`,
	`ALTER TABLE security_group_port_bindings_new RENAME TO security_group_port_bindings`,
	`CREATE INDEX security_group_port_bindings_group ON security_group_port_bindings (group_id)`,
}}
