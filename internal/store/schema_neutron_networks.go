package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/google/uuid"
)

// schemaNeutronNetworks turns the address manager's per-project networks
// into Neutron's networks and subnets. A network keeps its id, so ports,
// fixed IPs and floating IP bindings stay; its pool slot and CIDRs move to
// subnets (the IPv4 subnet of a project's default network holds the pool
// index it was carved at, and the IPv6 /64 of the same slot becomes a
// SLAAC subnet), and it gains Neutron's attributes. default_for names the
// project whose network made on first need it is (one each). Neutron
// allows networks of one name, so the (project_id, name) key goes.
//
// SQLite cannot drop columns under a unique constraint or a foreign key's
// parent, so the table is rebuilt: with foreign keys deferred, the old
// rows are set aside, the table dropped and made again, and the rows put
// back before the commit checks that every port's network is there.
var schemaNeutronNetworks = migration{23, "neutron networks", []string{
	`CREATE TABLE networks_pool_era (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,
		pool_index INTEGER NOT NULL, cidr TEXT NOT NULL, cidr_v6 TEXT NOT NULL, created_at BIGINT NOT NULL)`,
	`INSERT INTO networks_pool_era (id, project_id, name, pool_index, cidr, cidr_v6, created_at)
		SELECT id, project_id, name, pool_index, cidr, cidr_v6, created_at FROM networks`,
	dialectOnly(SQLite, `PRAGMA defer_foreign_keys = ON`),
	dialectOnly(SQLite, `DROP TABLE networks`),
	dialectOnly(SQLite, `CREATE TABLE networks (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL,
		name TEXT NOT NULL,
		created_at BIGINT NOT NULL)`),
	dialectOnly(SQLite, `INSERT INTO networks (id, project_id, name, created_at)
		SELECT id, project_id, name, created_at FROM networks_pool_era`),
	dialectOnly(Postgres, `ALTER TABLE networks DROP COLUMN pool_index, DROP COLUMN cidr, DROP COLUMN cidr_v6,
		DROP CONSTRAINT networks_project_id_name_key`),
	`ALTER TABLE networks ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE networks ADD COLUMN default_for TEXT`,
	`ALTER TABLE networks ADD COLUMN admin_state_up BOOLEAN NOT NULL DEFAULT TRUE`,
	`ALTER TABLE networks ADD COLUMN shared BOOLEAN NOT NULL DEFAULT FALSE`,
	`ALTER TABLE networks ADD COLUMN external BOOLEAN NOT NULL DEFAULT FALSE`,
	`ALTER TABLE networks ADD COLUMN mtu INTEGER NOT NULL DEFAULT 1500`,
	`ALTER TABLE networks ADD COLUMN port_security_enabled BOOLEAN NOT NULL DEFAULT TRUE`,
	`ALTER TABLE networks ADD COLUMN network_type TEXT NOT NULL DEFAULT 'local'`,
	`ALTER TABLE networks ADD COLUMN physical_network TEXT`,
	`ALTER TABLE networks ADD COLUMN segmentation_id INTEGER`,
	`ALTER TABLE networks ADD COLUMN revision_number INTEGER NOT NULL DEFAULT 1`,
	`ALTER TABLE networks ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0`,
	`UPDATE networks SET updated_at = created_at, default_for = project_id`,
	`CREATE UNIQUE INDEX networks_default_for ON networks (default_for)`,
	`CREATE INDEX networks_project ON networks (project_id, created_at, id)`,
	// allocation_pools, dns_nameservers and host_routes are JSON lists;
	// gateway_ip NULL is a subnet without a gateway.
	`CREATE TABLE subnets (
		id TEXT PRIMARY KEY,
		network_id TEXT NOT NULL REFERENCES networks(id),
		project_id TEXT NOT NULL,
		name TEXT NOT NULL DEFAULT '',
		description TEXT NOT NULL DEFAULT '',
		ip_version INTEGER NOT NULL,
		cidr TEXT NOT NULL,
		gateway_ip TEXT,
		allocation_pools TEXT NOT NULL,
		dns_nameservers TEXT NOT NULL DEFAULT '[]',
		host_routes TEXT NOT NULL DEFAULT '[]',
		enable_dhcp BOOLEAN NOT NULL DEFAULT TRUE,
		ipv6_ra_mode TEXT,
		ipv6_address_mode TEXT,
		pool_index INTEGER UNIQUE,
		revision_number INTEGER NOT NULL DEFAULT 1,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX subnets_network ON subnets (network_id, ip_version, created_at, id)`,
	// Tags of any Neutron resource, by its collection name ("networks").
	`CREATE TABLE resource_tags (
		resource_type TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		tag TEXT NOT NULL,
		PRIMARY KEY (resource_type, resource_id, tag))`,
}}

// convertPoolSubnets gives each network of the pool era its subnets, as
// the address manager carved them (gateway at the first address, the
// rest of the range to allocate), and drops the rows set aside.
func convertPoolSubnets(ctx context.Context, tx *Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, project_id, pool_index, cidr, cidr_v6, created_at FROM networks_pool_era`)
	if err != nil {
		return err
	}
	type era struct {
		id, project, cidr, cidr6 string
		pool                     int64
		created                  int64
	}
	var nets []era
	for rows.Next() {
		var e era
		if err := rows.Scan(&e.id, &e.project, &e.pool, &e.cidr, &e.cidr6, &e.created); err != nil {
			rows.Close()
			return err
		}
		nets = append(nets, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range nets {
		if err := insertPoolSubnet(ctx, tx, n.id, n.project, n.cidr, n.pool, n.created); err != nil {
			return err
		}
		if n.cidr6 != "" {
			if err := insertPoolSubnet(ctx, tx, n.id, n.project, n.cidr6, -1, n.created); err != nil {
				return err
			}
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE networks_pool_era`)
	return err
}

// insertPoolSubnet stores one subnet of a pool-era network; pool < 0 for
// the IPv6 one.
func insertPoolSubnet(ctx context.Context, tx *Tx, networkID, project, cidr string, pool, created int64) error {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("network %s: bad CIDR %q: %w", networkID, cidr, err)
	}
	first, last := poolRange(p)
	pools, _ := json.Marshal([]map[string]string{{"start": first.String(), "end": last.String()}})
	version, poolIndex := 4, any(pool)
	var ra, mode any
	if p.Addr().Is6() {
		version, poolIndex, ra, mode = 6, nil, "slaac", "slaac"
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO subnets (id, network_id, project_id, ip_version, cidr, gateway_ip,
		allocation_pools, ipv6_ra_mode, ipv6_address_mode, pool_index, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		uuid.NewString(), networkID, project, version, p.String(), p.Addr().Next().String(), string(pools),
		ra, mode, poolIndex, created, created)
	return err
}

// poolRange is the allocation pool of a carved subnet: from the address
// after the gateway to the last before the broadcast address (IPv4) or
// to the end of the /64 (IPv6), as Neutron makes a subnet's default pool.
func poolRange(p netip.Prefix) (netip.Addr, netip.Addr) {
	first := p.Addr().Next().Next()
	if p.Addr().Is4() {
		b := p.Addr().As4()
		v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
		binary.BigEndian.PutUint32(b[:], v-1)
		return first, netip.AddrFrom4(b)
	}
	b := p.Addr().As16()
	binary.BigEndian.PutUint64(b[8:], ^uint64(0))
	return first, netip.AddrFrom16(b)
}
