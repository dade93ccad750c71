package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// schedHosts is host-a, host-b (and host-c when three) on one database,
// each process configured by configure (nil: defaults).
func schedHosts(t *testing.T, database string, n int, configure func(*app.Config)) []*apptest.Cloud {
	first := apptest.New(t, apptest.Options{Database: database, Host: "host-a", Configure: configure})
	clouds := []*apptest.Cloud{first}
	for _, name := range []string{"host-b", "host-c"}[:n-1] {
		clouds = append(clouds, apptest.New(t, apptest.Options{Database: database, Host: name, Clock: first.Clock, Configure: configure}))
	}
	return clouds
}

// create creates a server as client (at 2.74, no networks) with extra
// fields and returns its id.
func create(c *apptest.Cloud, client *apitest.Client, name string, extra map[string]any) string {
	body := map[string]any{"networks": "none"}
	for k, v := range extra {
		body[k] = v
	}
	return c.CreateServer(client.As(client.Token, "2.74"), name, body)
}

// placed returns where each server went ("ERROR" for a server the
// scheduler found no host for).
func placed(t *testing.T, c *apptest.Cloud, ids ...string) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		s := c.Server(id)
		switch {
		case s == nil:
			t.Fatalf("server %s is gone", id)
		case s.Status == "ERROR":
			out = append(out, "ERROR")
		default:
			out = append(out, s.Host)
		}
	}
	return out
}

func wantPlaced(t *testing.T, c *apptest.Cloud, want []string, ids ...string) {
	t.Helper()
	if got := placed(t, c, ids...); !slices.Equal(got, want) {
		t.Fatalf("servers went to %v, want %v", got, want)
	}
}

// aggregate makes an aggregate (in zone az when not "") of hosts with
// metadata md, as admin.
func aggregate(t *testing.T, c *apptest.Cloud, name, az string, md map[string]any, hosts ...string) {
	t.Helper()
	body := map[string]any{"name": name}
	if az != "" {
		body["availability_zone"] = az
	}
	agg := c.Admin.Do(http.MethodPost, "/v2.1/os-aggregates", map[string]any{"aggregate": body}).Expect(t, http.StatusOK).JSON(t)
	path := fmt.Sprintf("/v2.1/os-aggregates/%v/action", agg["aggregate"].(map[string]any)["id"])
	for _, h := range hosts {
		c.Admin.Do(http.MethodPost, path, map[string]any{"add_host": map[string]any{"host": h}}).Expect(t, http.StatusOK)
	}
	if len(md) > 0 {
		c.Admin.Do(http.MethodPost, path, map[string]any{"set_metadata": map[string]any{"metadata": md}}).Expect(t, http.StatusOK)
	}
}

// TestSchedulerSpread: by default the weighers spread servers over the
// hosts.
func TestSchedulerSpread(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := schedHosts(t, database, 2, nil)[0]
		var ids []string
		for i := range 4 {
			ids = append(ids, create(c, c.Admin, fmt.Sprint("spread-", i), nil))
		}
		wantPlaced(t, c, []string{"host-a", "host-b", "host-a", "host-b"}, ids...)
	})
}

// TestSchedulerPack: negative multipliers (Nova's way to pack) fill one
// host first.
func TestSchedulerPack(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		pack := func(cfg *app.Config) {
			cfg.Scheduler.Multipliers = map[string]float64{"ram_weight_multiplier": -1, "cpu_weight_multiplier": -1, "disk_weight_multiplier": -1}
		}
		c := schedHosts(t, database, 2, pack)[0]
		var ids []string
		for i := range 3 {
			ids = append(ids, create(c, c.Admin, fmt.Sprint("pack-", i), nil))
		}
		wantPlaced(t, c, []string{"host-a", "host-a", "host-a"}, ids...)
	})
}

// TestSchedulerServerGroups: anti-affinity puts members on different
// hosts until none is left, 2.64's max_server_per_host lets a host take
// more; affinity follows the first member.
func TestSchedulerServerGroups(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := schedHosts(t, database, 2, nil)[0]
		group := func(version string, body map[string]any) string {
			r := c.Admin.As(c.Admin.Token, version).Do(http.MethodPost, "/v2.1/os-server-groups",
				map[string]any{"server_group": body}).Expect(t, http.StatusOK).JSON(t)
			return r["server_group"].(map[string]any)["id"].(string)
		}
		member := func(name, g string) string {
			body := map[string]any{"name": name, "imageRef": c.ImageID, "flavorRef": "1", "networks": "none"}
			r := c.Admin.As(c.Admin.Token, "2.74").Do(http.MethodPost, "/v2.1/servers", map[string]any{"server": body,
				"os:scheduler_hints": map[string]any{"group": g}}).Expect(t, http.StatusAccepted).JSON(t)
			return r["server"].(map[string]any)["id"].(string)
		}
		anti := group("2.1", map[string]any{"name": "anti", "policies": []string{"anti-affinity"}})
		a1, a2, a3 := member("anti-1", anti), member("anti-2", anti), member("anti-3", anti)
		wantPlaced(t, c, []string{"host-a", "host-b", "ERROR"}, a1, a2, a3)

		two := group("2.64", map[string]any{"name": "two", "policy": "anti-affinity", "rules": map[string]any{"max_server_per_host": 2}})
		var ids []string
		for i := range 5 {
			ids = append(ids, member(fmt.Sprint("two-", i), two))
		}
		got := placed(t, c, ids...)
		slices.Sort(got)
		if !slices.Equal(got, []string{"ERROR", "host-a", "host-a", "host-b", "host-b"}) {
			t.Fatalf("max_server_per_host 2: servers went to %v, want two on each host and one in ERROR", got)
		}

		aff := group("2.1", map[string]any{"name": "aff", "policies": []string{"affinity"}})
		f1 := member("aff-1", aff)
		first := placed(t, c, f1)[0]
		wantPlaced(t, c, []string{first}, member("aff-2", aff))
	})
}

// TestSchedulerHostHints: same_host and different_host, and the 2.74
// host the weighers would not have chosen.
func TestSchedulerHostHints(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := schedHosts(t, database, 2, nil)[0]
		onB := create(c, c.Admin, "on-b", map[string]any{"host": "host-b"})
		hinted := func(name string, hints map[string]any) string {
			body := map[string]any{"name": name, "imageRef": c.ImageID, "flavorRef": "1", "networks": "none"}
			r := c.Admin.As(c.Admin.Token, "2.74").Do(http.MethodPost, "/v2.1/servers", map[string]any{"server": body,
				"os:scheduler_hints": hints}).Expect(t, http.StatusAccepted).JSON(t)
			return r["server"].(map[string]any)["id"].(string)
		}
		same := hinted("same", map[string]any{"same_host": onB})
		sameList := hinted("same-list", map[string]any{"same_host": []string{onB}})
		diff := hinted("diff", map[string]any{"different_host": []string{onB}})
		wantPlaced(t, c, []string{"host-b", "host-b", "host-a"}, same, sameList, diff)
		both := hinted("both", map[string]any{"different_host": []string{onB, diff}})
		wantPlaced(t, c, []string{"ERROR"}, both)
	})
}

// TestSchedulerZonesAndAggregates: an availability zone from an
// aggregate, the forced "az:host" that skips the filters, flavor extra
// specs matched against aggregate metadata and tenant isolation.
func TestSchedulerZonesAndAggregates(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		clouds := schedHosts(t, database, 3, nil)
		c := clouds[0]
		aggregate(t, c, "zone-two", "z2", nil, "host-b", "host-c")
		aggregate(t, c, "fast", "", map[string]any{"ssd": "true"}, "host-c")
		inZ2 := create(c, c.Admin, "in-z2", map[string]any{"availability_zone": "z2"})
		inNova := create(c, c.Admin, "in-nova", map[string]any{"availability_zone": "nova"})
		wantPlaced(t, c, []string{"host-b", "host-a"}, inZ2, inNova)

		// A disabled host takes no server but the one forced onto it
		// ("az:host", which skips the filters).
		c.Admin.Do(http.MethodPut, "/v2.1/os-services/disable", map[string]any{"host": "host-b", "binary": "nova-compute"}).Expect(t, http.StatusOK)
		z2Disabled := create(c, c.Admin, "z2-disabled", map[string]any{"availability_zone": "z2"})
		forced := create(c, c.Admin, "forced", map[string]any{"availability_zone": "z2:host-b"})
		wantPlaced(t, c, []string{"host-c", "host-b"}, z2Disabled, forced)

		for n, spec := range []map[string]any{{"aggregate_instance_extra_specs:ssd": "true"}, {"ssd": "true"}} {
			id := fmt.Sprint("ssd-", n)
			c.Admin.Do(http.MethodPost, "/v2.1/flavors", map[string]any{"flavor": map[string]any{"name": id, "id": id,
				"ram": 256, "vcpus": 1, "disk": 1}}).Expect(t, http.StatusOK)
			c.Admin.Do(http.MethodPost, "/v2.1/flavors/"+id+"/os-extra_specs", map[string]any{"extra_specs": spec}).Expect(t, http.StatusOK)
			var ids []string
			for i := range 2 {
				ids = append(ids, create(c, c.Admin, fmt.Sprint(id, "-", i), map[string]any{"flavorRef": id}))
			}
			wantPlaced(t, c, []string{"host-c", "host-c"}, ids...)
		}

		// host-a only for a tenant nobody is, host-c only for host-a's
		// member project: the admin's servers have nowhere to go.
		c.Admin.Do(http.MethodPut, "/v2.1/os-services/enable", map[string]any{"host": "host-b", "binary": "nova-compute"}).Expect(t, http.StatusOK)
		aggregate(t, c, "nobody", "", map[string]any{"filter_tenant_id": "nobody"}, "host-a", "host-b")
		aggregate(t, c, "members", "", map[string]any{"filter_tenant_id_1": "someone", "filter_tenant_id_2": c.MemberProject}, "host-c")
		member := create(c, c.Member, "member", nil)
		admin := create(c, c.Admin, "admin", nil)
		wantPlaced(t, c, []string{"host-c", "ERROR"}, member, admin)
		if msg := faultOf(t, c, admin); msg != "No valid host was found. " {
			t.Errorf("fault %q, want Nova's no valid host", msg)
		}
	})
}

// faultOf is a server's fault message.
func faultOf(t *testing.T, c *apptest.Cloud, id string) string {
	t.Helper()
	s := c.Admin.Do(http.MethodGet, "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
	f, _ := s["fault"].(map[string]any)
	msg, _ := f["message"].(string)
	return msg
}

// states reads the state os-services and os-hypervisors show each
// compute host in.
func states(t *testing.T, c *apptest.Cloud) (services, hypervisors map[string]string) {
	t.Helper()
	services, hypervisors = map[string]string{}, map[string]string{}
	for _, s := range c.Admin.Do(http.MethodGet, "/v2.1/os-services?binary=nova-compute", nil).Expect(t, http.StatusOK).JSON(t)["services"].([]any) {
		m := s.(map[string]any)
		services[m["host"].(string)] = m["state"].(string)
	}
	for _, h := range c.Admin.Do(http.MethodGet, "/v2.1/os-hypervisors/detail", nil).Expect(t, http.StatusOK).JSON(t)["hypervisors"].([]any) {
		m := h.(map[string]any)
		hypervisors[m["hypervisor_hostname"].(string)] = m["state"].(string)
	}
	return services, hypervisors
}

func wantStates(t *testing.T, c *apptest.Cloud, a, b string) {
	t.Helper()
	svc, hyp := states(t, c)
	if svc["host-a"] != a || svc["host-b"] != b || hyp["host-a"] != a || hyp["host-b"] != b {
		t.Fatalf("services %v, hypervisors %v; want host-a %s and host-b %s", svc, hyp, a, b)
	}
}

// TestServiceDownTime: a host whose heartbeat is older than
// --service-down-time is down in os-services and os-hypervisors, its
// servers' host_status is UNKNOWN and the scheduler places nothing there;
// forced_down (2.11, 2.53) downs a host at once.
func TestServiceDownTime(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		downTime := func(cfg *app.Config) { cfg.Scheduler.ServiceDownTime = 30 * time.Second }
		clouds := schedHosts(t, database, 2, downTime)
		a, b := clouds[0], clouds[1]
		onB := create(a, a.Admin, "on-b", map[string]any{"host": "host-b"})
		hostStatus := func() string {
			s := a.Admin.As(a.Admin.Token, "2.16").Do(http.MethodGet, "/v2.1/servers/"+onB, nil).Expect(t, http.StatusOK).JSON(t)
			st, _ := s["server"].(map[string]any)["host_status"].(string)
			return st
		}
		wantStates(t, a, "up", "up")

		// forced_down at 2.11: down at once, the scheduler avoids it.
		a.Admin.As(a.Admin.Token, "2.11").Do(http.MethodPut, "/v2.1/os-services/force-down",
			map[string]any{"host": "host-b", "binary": "nova-compute", "forced_down": true}).Expect(t, http.StatusOK)
		wantStates(t, a, "up", "down")
		if st := hostStatus(); st != "DOWN" {
			t.Errorf("host_status of a server on the forced-down host: %q, want DOWN", st)
		}
		x, y := create(a, a.Admin, "x", nil), create(a, a.Admin, "y", nil)
		wantPlaced(t, a, []string{"host-a", "host-a"}, x, y)
		a.Admin.As(a.Admin.Token, "2.11").Do(http.MethodPut, "/v2.1/os-services/force-down",
			map[string]any{"host": "host-b", "binary": "nova-compute", "forced_down": false}).Expect(t, http.StatusOK)
		wantStates(t, a, "up", "up")
		wantPlaced(t, a, []string{"host-b"}, create(a, a.Admin, "z", nil))

		// Neither agent heartbeats here (they are stepped): 20 s on
		// both are up, 31 s on both are down under a 30 s down time.
		a.Clock.Advance(20 * time.Second)
		wantStates(t, a, "up", "up")
		a.Clock.Advance(11 * time.Second)
		wantStates(t, a, "down", "down")
		wantStates(t, b, "down", "down")
		if st := hostStatus(); st != "UNKNOWN" {
			t.Errorf("host_status of a server on a host without heartbeat: %q, want UNKNOWN", st)
		}
		late := create(a, a.Admin, "late", nil)
		wantPlaced(t, a, []string{"ERROR"}, late)

		// The same deployment read with the default 60 s: up.
		c := apptest.New(t, apptest.Options{Database: database, Host: "host-c", Clock: a.Clock})
		svc, _ := states(t, c)
		if svc["host-a"] != "up" || svc["host-c"] != "up" {
			t.Errorf("with the default service_down_time: %v, want host-a up", svc)
		}
	})
}

// TestSchedulerSoftGroups: soft-affinity (2.15) gathers its members
// against the spreading weighers once its multiplier outweighs them
// (host-a's process), soft-anti-affinity scatters them against packing
// ones (host-b's process; both serve the one deployment).
func TestSchedulerSoftGroups(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a := apptest.New(t, apptest.Options{Database: database, Host: "host-a", Configure: func(cfg *app.Config) {
			cfg.Scheduler.Multipliers = map[string]float64{"soft_affinity_weight_multiplier": 10}
		}})
		b := apptest.New(t, apptest.Options{Database: database, Host: "host-b", Clock: a.Clock, Configure: func(cfg *app.Config) {
			cfg.Scheduler.Multipliers = map[string]float64{"soft_anti_affinity_weight_multiplier": 10,
				"ram_weight_multiplier": -1, "cpu_weight_multiplier": -1, "disk_weight_multiplier": -1}
		}})
		member := func(c *apptest.Cloud, name, policy string) func() string {
			r := c.Admin.As(c.Admin.Token, "2.15").Do(http.MethodPost, "/v2.1/os-server-groups",
				map[string]any{"server_group": map[string]any{"name": name, "policies": []string{policy}}}).Expect(t, http.StatusOK).JSON(t)
			g := r["server_group"].(map[string]any)["id"].(string)
			n := 0
			return func() string {
				n++
				body := map[string]any{"name": fmt.Sprint(name, "-", n), "imageRef": c.ImageID, "flavorRef": "1", "networks": "none"}
				r := c.Admin.As(c.Admin.Token, "2.74").Do(http.MethodPost, "/v2.1/servers", map[string]any{"server": body,
					"os:scheduler_hints": map[string]any{"group": g}}).Expect(t, http.StatusAccepted).JSON(t)
				return r["server"].(map[string]any)["id"].(string)
			}
		}
		soft := member(a, "soft", "soft-affinity")
		wantPlaced(t, a, []string{"host-a", "host-a", "host-a"}, soft(), soft(), soft())
		// Without the group, host-a's process spreads.
		wantPlaced(t, a, []string{"host-b"}, create(a, a.Admin, "plain", nil))

		anti := member(b, "anti", "soft-anti-affinity")
		a1, a2 := anti(), anti()
		if got := placed(t, b, a1, a2); got[0] == got[1] {
			t.Fatalf("soft-anti-affinity members both on %s", got[0])
		}
		// Without the group, host-b's process packs.
		p1, p2 := create(b, b.Admin, "p1", nil), create(b, b.Admin, "p2", nil)
		if got := placed(t, b, p1, p2); got[0] != got[1] {
			t.Fatalf("packing placed %v", got)
		}
	})
}
