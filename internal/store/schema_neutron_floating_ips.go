package store

// schemaNeutronFloatingIPs gives floating IPs the standard attributes the
// networking API shows (description, revision_number); their tags live
// in resource_tags. Port and router come from the association itself.
var schemaNeutronFloatingIPs = migration{27, "neutron floating ip attributes", []string{
	`ALTER TABLE floating_ips ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE floating_ips ADD COLUMN revision_number BIGINT NOT NULL DEFAULT 1`,
}}
