package store

// schemaNeutronSecurityGroups gives security groups and their rules
// Neutron's standard attributes, and ports their groups.
//
// A group gains stateful (Neutron's stateful-security-group) and a
// revision number; a rule gains the project that made it (Neutron keeps
// it apart from the group's: an admin's rule in another project's group
// is the admin's), a description, a revision number and updated_at.
// Existing rules belong to their group's project.
//
// security_group_port_bindings is Neutron's securitygroupportbindings:
// which groups each port has. Ports are the network domain's; the
// secgroup domain reads and writes this table (a group with ports is in
// use), so it names ports by id only.
var schemaNeutronSecurityGroups = migration{25, "neutron security groups", []string{
	`ALTER TABLE security_groups ADD COLUMN stateful BOOLEAN NOT NULL DEFAULT TRUE`,
	`ALTER TABLE security_groups ADD COLUMN revision_number INTEGER NOT NULL DEFAULT 1`,
	`ALTER TABLE security_group_rules ADD COLUMN project_id TEXT NOT NULL DEFAULT ''`,
	`UPDATE security_group_rules SET project_id =
		(SELECT g.project_id FROM security_groups g WHERE g.id = security_group_rules.group_id)`,
	`ALTER TABLE security_group_rules ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE security_group_rules ADD COLUMN revision_number INTEGER NOT NULL DEFAULT 1`,
	`ALTER TABLE security_group_rules ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0`,
	`UPDATE security_group_rules SET updated_at = created_at`,
	`CREATE TABLE security_group_port_bindings (
		port_id TEXT NOT NULL,
		group_id TEXT NOT NULL REFERENCES security_groups(id),
		PRIMARY KEY (port_id, group_id))`,
	`CREATE INDEX security_group_port_bindings_group ON security_group_port_bindings (group_id)`,
}}
