package store

// schemaDomainConfig holds Keystone's domain configurations (the
// whitelisted_config and sensitive_config tables of its SQL driver in one):
// per domain, the value of each option of the identity and ldap groups set
// through /v3/domains/{id}/config, as JSON text. Sensitive options (the
// LDAP password) are sealed with the data dir's key and never shown. A
// configuration goes with its domain.
var schemaDomainConfig = migration{46, "domain configurations", []string{
	`CREATE TABLE domain_config (
		domain_id TEXT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
		group_name TEXT NOT NULL,
		option_name TEXT NOT NULL,
		value TEXT NOT NULL,
		sensitive BOOLEAN NOT NULL,
		PRIMARY KEY (domain_id, group_name, option_name))`,
}}
