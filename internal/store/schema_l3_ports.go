package store

// schemaL3Ports lets floating IPs live on any external network: each
// one names its network and the port it owns there (device_owner
// network:floatingip), whose fixed IP holds its address, so addresses
// are unique per network through fixed_ips rather than cloud-wide (the
// address and ordinal UNIQUE constraints go; SQLite cannot drop them, so
// the table is rebuilt). A fixed IP has at most one floating IP per
// external network. Rows from before (the built-in network's) get their
// network and port, and routers' gateway rows (gateway_of) become
// gateway ports, when kumo starts (floatingip.Service.AdoptPorts).
var schemaL3Ports = migration{32, "l3 ports", []string{
	`CREATE TABLE floating_ips_l3 (
		id TEXT PRIMARY KEY,
		network_id TEXT,
		port_id TEXT UNIQUE,
		pool TEXT NOT NULL,
		address TEXT NOT NULL,
		project_id TEXT NOT NULL,
		fixed_network_id TEXT,
		fixed_address TEXT,
		description TEXT NOT NULL DEFAULT '',
		revision_number BIGINT NOT NULL DEFAULT 1,
		router_id TEXT,
		gateway_of TEXT,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (fixed_network_id, fixed_address, network_id),
		FOREIGN KEY (fixed_network_id, fixed_address) REFERENCES fixed_ips (network_id, address) ON DELETE SET NULL)`,
	`INSERT INTO floating_ips_l3 (id, pool, address, project_id, fixed_network_id, fixed_address, description,
		revision_number, router_id, gateway_of, created_at, updated_at)
		SELECT id, pool, address, project_id, fixed_network_id, fixed_address, description,
		revision_number, router_id, gateway_of, created_at, updated_at FROM floating_ips`,
	`DROP TABLE floating_ips`,
	`ALTER TABLE floating_ips_l3 RENAME TO floating_ips`,
	`CREATE INDEX floating_ips_project ON floating_ips (project_id, created_at, id)`,
	`CREATE INDEX floating_ips_network ON floating_ips (network_id)`,
	`CREATE UNIQUE INDEX floating_ips_gateway ON floating_ips (gateway_of)`,
}}
