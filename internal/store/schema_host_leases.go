package store

// schemaHostLeases makes a compute host name a lease: the agent that
// holds the host keeps its random token (and a description of itself for
// the error a second claimant gets) in the host's row, heartbeats only
// while the token is still its own, and another agent may take the host
// over only once the heartbeat has lapsed. An empty token: no holder.
var schemaHostLeases = migration{21, "compute host leases", []string{
	`ALTER TABLE compute_hosts ADD COLUMN lease_token TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE compute_hosts ADD COLUMN lease_holder TEXT NOT NULL DEFAULT ''`,
}}
