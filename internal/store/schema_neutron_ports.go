package store

// schemaNeutronPorts gives the ports of servers Neutron's attributes:
// the project that owns the port (its server's), a name and description,
// admin_state_up, the device owner ("compute:<zone>" for the ports Nova
// makes), and the standard revision and update time.
var schemaNeutronPorts = migration{24, "neutron ports", []string{
	`ALTER TABLE network_ports ADD COLUMN project_id TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE network_ports ADD COLUMN name TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE network_ports ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE network_ports ADD COLUMN admin_state_up BOOLEAN NOT NULL DEFAULT TRUE`,
	`ALTER TABLE network_ports ADD COLUMN device_owner TEXT NOT NULL DEFAULT 'compute:nova'`,
	`ALTER TABLE network_ports ADD COLUMN revision_number INTEGER NOT NULL DEFAULT 1`,
	`ALTER TABLE network_ports ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0`,
	`UPDATE network_ports SET updated_at = created_at,
		project_id = COALESCE((SELECT i.project_id FROM instances i WHERE i.id = network_ports.instance_id), '')`,
	`CREATE INDEX network_ports_project ON network_ports (project_id, created_at, id)`,
	`CREATE INDEX network_ports_network ON network_ports (network_id)`,
}}
