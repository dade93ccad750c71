package compute_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/quota"
)

// TestServerCreateHugeCounts: min_count and max_count are read as Nova's
// int() reads them, of any size, and checked against the quota exactly.
// Each case runs in a project that already has one server (default
// quotas: 10 instances, 20 cores, 51200 MiB; flavor 1 is 1 vCPU, 512
// MiB). Before, a count past int's range wrapped the quota sums, passed
// the check, and the create inserted servers until the client gave up.
func TestServerCreateHugeCounts(t *testing.T) {
	t.Parallel()
	n := func(s string) json.Number { return json.Number(s) }
	const usedOne = "but already used 1, 1, 512 of 20, 10, 51200 cores, instances, ram"
	cases := []struct {
		name   string
		extra  map[string]any
		status int
		made   int    // servers the create makes (202)
		msg    string // the fault (403, 400)
	}{
		{name: "max 10^20", extra: map[string]any{"max_count": n("100000000000000000000")}, status: 202, made: 9},
		{name: "max 10^20 string", extra: map[string]any{"max_count": "100000000000000000000"}, status: 202, made: 9},
		{name: "max 1e20", extra: map[string]any{"max_count": n("1e20")}, status: 202, made: 9},
		{name: "max 2^64", extra: map[string]any{"min_count": 2, "max_count": "18446744073709551616"}, status: 202, made: 9},
		{name: "max over by one", extra: map[string]any{"max_count": 11}, status: 202, made: 9},
		{name: "max 9, leading zeros", extra: map[string]any{"min_count": "009", "max_count": "0009"}, status: 202, made: 9},
		{name: "min 2^64", extra: map[string]any{"min_count": "18446744073709551616"}, status: 403,
			msg: "Quota exceeded for cores, instances, ram: Requested 18446744073709551616, 18446744073709551616, 9444732965739290427392, " + usedOne},
		{name: "min 2^64 number", extra: map[string]any{"min_count": n("18446744073709551616")}, status: 403,
			msg: "Quota exceeded for cores, instances, ram: Requested 18446744073709551616, 18446744073709551616, 9444732965739290427392, " + usedOne},
		// int(1e23) is the float's exact value, as in Python.
		{name: "min 1e23", extra: map[string]any{"min_count": n("1e23")}, status: 403,
			msg: "Quota exceeded for cores, instances, ram: Requested 99999999999999991611392, 99999999999999991611392, 51199999999999995705032704, " + usedOne},
		{name: "min 10 max 10^20", extra: map[string]any{"min_count": 10, "max_count": n("100000000000000000000")}, status: 403,
			msg: "Quota exceeded for cores, instances, ram: Requested 100000000000000000000, 10-100000000000000000000, 51200000000000000000000, " + usedOne},
		{name: "min over by one", extra: map[string]any{"min_count": 11}, status: 403,
			msg: "Quota exceeded for instances: Requested 11, but already used 1 of 10 instances"},
		{name: "min 2^64 over max", extra: map[string]any{"min_count": "18446744073709551616", "max_count": n("18446744073709551615")}, status: 400,
			msg: "min_count must be <= max_count"},
		// Python reads 1e400 as inf, which is no integer: a 400 either way.
		{name: "max 1e400", extra: map[string]any{"max_count": n("1e400")}, status: 400},
		{name: "max 1.5e0", extra: map[string]any{"max_count": n("1.5e0")}, status: 400},
	}
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		db := cc.DB
		ctx := context.Background()
		count := func(project string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE project_id = ? AND deleted = FALSE`, project).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i, c := range cases {
			project := fmt.Sprintf("huge%d", i)
			token := "u1:" + project
			cc.client.As(token, "2.37").Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"networks": "none"})).Expect(t, 202)
			extra := map[string]any{"networks": "none"}
			for k, v := range c.extra {
				extra[k] = v
			}
			r := cc.client.As(token, "2.37").Do("POST", "/v2.1/servers", cc.body("2.37", extra))
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, c.status, r.Body)
				continue
			}
			if c.msg != "" {
				if got := faultMessage(t, r); got != c.msg {
					t.Errorf("%s: message\n%q, want\n%q", c.name, got, c.msg)
				}
			}
			if got := count(project) - 1; got != c.made {
				t.Errorf("%s: %d servers made, want %d", c.name, got, c.made)
			}
		}
	})
}

// TestServerCreateCountCap: with unlimited quotas, the per-request cap
// (Settings.MaxCreateCount) bounds a create: a larger max_count is
// lowered to it, a larger min_count refused.
func TestServerCreateCountCap(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, client := newCloud(t, database, computetest.Options{Settings: compute.Settings{MaxCreateCount: 3}})
		cc := &createCloud{Cloud: c, client: client}
		db := cc.DB
		ctx := context.Background()
		if _, err := cc.App.Quotas.Set(ctx, "pcap", "", []quota.Change{{Resource: "instances", Limit: -1}, {Resource: "cores", Limit: -1}, {Resource: "ram", Limit: -1}}, false); err != nil {
			t.Fatal(err)
		}
		token := "u1:pcap"
		body := func(extra map[string]any) map[string]any {
			extra["networks"] = "none"
			return cc.body("2.37", extra)
		}
		cc.client.As(token, "2.37").Do("POST", "/v2.1/servers",
			body(map[string]any{"max_count": json.Number("100000000000000000000"), "return_reservation_id": true})).Expect(t, 202)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE project_id = 'pcap'`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("max_count 10^20 with a cap of 3 made %d servers (%v)", n, err)
		}
		r := cc.client.As(token, "2.37").Do("POST", "/v2.1/servers", body(map[string]any{"min_count": 4})).Expect(t, 403)
		if got, want := faultMessage(t, r), "Requested 4 instances, but one request may create at most 3."; got != want {
			t.Errorf("min_count over the cap: %q, want %q", got, want)
		}
		r = cc.client.As(token, "2.37").Do("POST", "/v2.1/servers", body(map[string]any{"min_count": "18446744073709551616"})).Expect(t, 403)
		if got, want := faultMessage(t, r), "Requested 18446744073709551616 instances, but one request may create at most 3."; got != want {
			t.Errorf("min_count 2^64 over the cap: %q, want %q", got, want)
		}
	})
}

// TestServerCreateGroupMembersQuota: a create into a server group checks
// Nova's server_group_members quota for every server it would make.
func TestServerCreateGroupMembersQuota(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		db := cc.DB
		ctx := context.Background()
		token := "u1:pgroup"
		if _, err := cc.App.Quotas.Set(ctx, "pgroup", "", []quota.Change{{Resource: "server_group_members", Limit: 2}}, false); err != nil {
			t.Fatal(err)
		}
		group := cc.serverGroupFor(t, token)
		create := func(extra map[string]any) int {
			extra["networks"] = "none"
			b := cc.body("2.37", extra)
			b["os:scheduler_hints"] = map[string]any{"group": group}
			r := cc.client.As(token, "2.37").Do("POST", "/v2.1/servers", b)
			if r.Status == 403 {
				if got := faultMessage(t, r); got != "Quota exceeded, too many servers in group" {
					t.Errorf("group quota message %q", got)
				}
			}
			return r.Status
		}
		// Anti-affinity on one host: the second member gets no host
		// (ERROR), but it is a member all the same, as in Nova.
		if s := create(map[string]any{"min_count": 1, "max_count": 3}); s != 403 {
			t.Errorf("3 servers into a group of at most 2: status %d, want 403", s)
		}
		if s := create(map[string]any{"min_count": 2}); s != 202 {
			t.Errorf("2 servers into a group of at most 2: status %d, want 202", s)
		}
		if s := create(map[string]any{}); s != 403 {
			t.Errorf("a third member: status %d, want 403", s)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM server_group_members WHERE group_id = ?`, group).Scan(&n); err != nil || n != 2 {
			t.Errorf("group has %d members (%v), want 2", n, err)
		}
	})
}
