package store

// schemaPortSecurityGroups makes a port's bindings the only record of
// a server's security groups, as in Nova with Neutron, where a server's
// groups are its ports' groups.
//
// Until now kumo kept the groups of a server in security_group_members
// (Nova's face) and those of the ports made through the networking API
// in security_group_port_bindings; the ports Nova made (server_groups)
// showed their server's. Those ports get their server's groups as their
// own, unless port security is off on them (Neutron gives such ports
// none); then the server-level table and the mirror of the names in
// instances.security_groups go: nothing reads them once the views ask
// the ports.
var schemaPortSecurityGroups = migration{30, "port security groups", []string{
	`INSERT INTO security_group_port_bindings (port_id, group_id)
		SELECT p.id, m.group_id FROM network_ports p
		JOIN security_group_members m ON m.instance_id = p.instance_id
		WHERE p.server_groups AND p.port_security_enabled AND p.instance_id <> ''
		ON CONFLICT DO NOTHING`,
	`DROP TABLE security_group_members`,
	`ALTER TABLE network_ports DROP COLUMN server_groups`,
	`ALTER TABLE instances DROP COLUMN security_groups`,
}}
