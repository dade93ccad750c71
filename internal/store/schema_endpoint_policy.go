package store

// schemaEndpointPolicy holds Keystone's OS-ENDPOINT-POLICY associations
// (its policy_association table): a policy associated with an endpoint,
// a service, or a service in a region. The unused columns are NULL, so
// uniqueness is on their COALESCEd values: one policy per target, as
// Keystone's create replaces the policy of an existing association. Each
// goes with its policy, endpoint, service or region, as Keystone's
// deletion callbacks intended.
var schemaEndpointPolicy = migration{47, "endpoint policy", []string{
	`CREATE TABLE policy_associations (
		id TEXT PRIMARY KEY,
		policy_id TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
		endpoint_id TEXT REFERENCES catalog_endpoints(id) ON DELETE CASCADE,
		service_id TEXT REFERENCES catalog_services(id) ON DELETE CASCADE,
		region_id TEXT REFERENCES catalog_regions(id) ON DELETE CASCADE,
		created_at BIGINT NOT NULL)`,
	`CREATE UNIQUE INDEX policy_associations_target ON policy_associations
		((COALESCE(endpoint_id, '')), (COALESCE(service_id, '')), (COALESCE(region_id, '')))`,
	`CREATE INDEX policy_associations_policy ON policy_associations (policy_id)`,
}}
