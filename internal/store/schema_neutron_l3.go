package store

// schemaNeutronL3 holds the networking API's L3 objects. Floating IPs
// gain the standard attributes (description, revision_number; tags live
// in resource_tags) and router_id, the router that serves their
// association. Routers are rows of their own; their interfaces are
// ports (device_owner network:router_interface, device_id the router).
// A router's gateway address on the external network is a row of
// floating_ips with gateway_of set to the router, so that gateways and
// floating IPs never share an address (one UNIQUE index decides).
// default_for is the project whose private network (made on first need)
// the router was made for.
var schemaNeutronL3 = migration{27, "neutron l3", []string{
	`ALTER TABLE floating_ips ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE floating_ips ADD COLUMN revision_number BIGINT NOT NULL DEFAULT 1`,
	`ALTER TABLE floating_ips ADD COLUMN router_id TEXT`,
	`ALTER TABLE floating_ips ADD COLUMN gateway_of TEXT`,
	`CREATE UNIQUE INDEX floating_ips_gateway ON floating_ips (gateway_of)`,
	`CREATE TABLE routers (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL,
		name TEXT NOT NULL DEFAULT '',
		description TEXT NOT NULL DEFAULT '',
		admin_state_up BOOLEAN NOT NULL DEFAULT TRUE,
		gateway_network_id TEXT REFERENCES networks(id),
		enable_snat BOOLEAN NOT NULL DEFAULT TRUE,
		routes TEXT NOT NULL DEFAULT '[]',
		default_for TEXT UNIQUE,
		revision_number BIGINT NOT NULL DEFAULT 1,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX routers_project ON routers (project_id, created_at, id)`,
}}
