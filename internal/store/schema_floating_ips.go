package store

// schemaFloatingIPs holds the floating IP pool's allocations. A row is one
// address allocated to a project (ordinal is the IPv4 address as a number,
// so free addresses are found by index whatever the configured range).
// The association is a reference to the fixed IP it is bound to: when
// the fixed IP goes (the server is deleted, its port removed) the
// reference is cleared and the floating IP stays allocated, as Neutron
// does. A fixed IP has at most one floating IP per pool (Neutron's
// FloatingIPPortAlreadyAssociated).
var schemaFloatingIPs = migration{11, "floating ips", []string{
	`CREATE TABLE floating_ips (
		id TEXT PRIMARY KEY,
		pool TEXT NOT NULL,
		address TEXT NOT NULL UNIQUE,
		ordinal BIGINT NOT NULL UNIQUE,
		project_id TEXT NOT NULL,
		fixed_network_id TEXT,
		fixed_address TEXT,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (fixed_network_id, fixed_address, pool),
		FOREIGN KEY (fixed_network_id, fixed_address) REFERENCES fixed_ips (network_id, address) ON DELETE SET NULL)`,
	`CREATE INDEX floating_ips_project ON floating_ips (project_id, created_at, id)`,
}}
