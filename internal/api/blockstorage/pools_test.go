package blockstorage_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestPoolsCapabilitiesHosts(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloudWith(t, database, func(cfg *app.Config) { cfg.VolumeCapacityGB = 100 })
		node := c.App.Config.Hostname() // the storage host is <node>@volfile
		a, m := c.admin.at("3.71"), c.member.at("3.71")
		v := c.newVolume(t, m, "")
		obj(t, m.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": v["id"]}}).Expect(t, 202), "snapshot")
		c.step(t)
		host := obj(t, a.do("GET", "/volumes/"+v["id"].(string), nil).Expect(t, 200), "volume")["os-vol-host-attr:host"].(string)

		// get_pools: admin only; the pool is the volumes' host.
		fault(t, m.do("GET", "/scheduler-stats/get_pools", nil), 403, "forbidden", "*")
		pools := list(t, a.do("GET", "/scheduler-stats/get_pools", nil).Expect(t, 200), "pools")
		if len(pools) != 1 || pools[0]["name"] != host || len(pools[0]) != 1 {
			t.Fatalf("pools %v (host %s)", pools, host)
		}
		pools = list(t, a.do("GET", "/scheduler-stats/get_pools?detail=True", nil).Expect(t, 200), "pools")
		caps := pools[0]["capabilities"].(map[string]any)
		want := map[string]any{"vendor_name": "Open Source", "volume_backend_name": "volfile", "pool_name": "volfile",
			"storage_protocol": "local", "total_capacity_gb": 100.0, "free_capacity_gb": 98.0, "allocated_capacity_gb": 1.0,
			"provisioned_capacity_gb": 2.0, "total_volumes": 2.0, "reserved_percentage": 0.0, "multiattach": true,
			"thin_provisioning_support": false, "thick_provisioning_support": true, "QoS_support": false, "backend_state": "up"}
		for k, w := range want {
			if caps[k] != w {
				t.Errorf("capability %s = %v, want %v", k, caps[k], w)
			}
		}
		fault(t, a.do("GET", "/scheduler-stats/get_pools?detail=maybe", nil), 400, "badRequest", "Value 'maybe' for 'detail' is not a boolean.")
		// Filters from 3.28, volume_type from 3.35.
		a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "elsewhere", "extra_specs": map[string]string{"volume_backend_name": "lvm"}}}).Expect(t, 200)
		a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "here", "extra_specs": map[string]string{"volume_backend_name": "volfile", "multiattach": "<is> True"}}}).Expect(t, 200)
		for _, tc := range []struct {
			version, query string
			n              int
		}{
			{"3.27", "?name=nope", 1},
			{"3.28", "?name=nope", 0},
			{"3.28", "?name=" + node + "%40volfile%23volfile", 1},
			{"3.28", "?storage_protocol=local&multiattach=true", 1},
			{"3.28", "?vendor_name=other", 0},
			{"3.34", "?volume_type=elsewhere", 1},
			{"3.35", "?volume_type=elsewhere", 0},
			{"3.35", "?volume_type=here", 1},
		} {
			if n := len(list(t, c.admin.at(tc.version).do("GET", "/scheduler-stats/get_pools"+tc.query, nil).Expect(t, 200), "pools")); n != tc.n {
				t.Errorf("%s %s: %d pools, want %d", tc.version, tc.query, n, tc.n)
			}
		}
		fault(t, c.admin.at("3.35").do("GET", "/scheduler-stats/get_pools?volume_type=nope", nil), 404, "itemNotFound", "Volume type with name nope could not be found.")

		// capabilities of the backend: the service's host, or its host part.
		for _, id := range []string{node + "@volfile", node} {
			r := a.do("GET", "/capabilities/"+id, nil).Expect(t, 200).JSON(t)
			if r["namespace"] != "OS::Storage::Capabilities::"+node+"@volfile" || r["vendor_name"] != caps["vendor_name"] ||
				r["volume_backend_name"] != caps["volume_backend_name"] || r["storage_protocol"] != caps["storage_protocol"] {
				t.Errorf("capabilities %v", r)
			}
			if p, _ := r["properties"].(map[string]any); len(p) != 4 {
				t.Errorf("properties %v", r["properties"])
			}
		}
		fault(t, a.do("GET", "/capabilities/"+node+"%40volfile%23volfile", nil), 404, "itemNotFound", "Can't find service: "+node+"@volfile#volfile")
		fault(t, a.do("GET", "/capabilities/other", nil), 404, "itemNotFound", "Can't find service: other")
		fault(t, m.do("GET", "/capabilities/"+node+"@volfile", nil), 403, "forbidden", "*")

		// os-hosts: the services as hosts; the volume host's usage.
		hosts := list(t, a.do("GET", "/os-hosts", nil).Expect(t, 200), "hosts")
		if len(hosts) != 2 || hosts[1]["host_name"] != node+"@volfile" || hosts[1]["service"] != "cinder-volume" ||
			hosts[1]["service-state"] != "enabled" || hosts[1]["service-status"] != "available" || hosts[0]["host_name"] != node {
			t.Errorf("hosts %v", hosts)
		}
		if n := len(list(t, a.do("GET", "/os-hosts?zone=elsewhere", nil).Expect(t, 200), "hosts")); n != 0 {
			t.Errorf("zone filter: %d hosts", n)
		}
		res := list(t, a.do("GET", "/os-hosts/"+node+"@volfile", nil).Expect(t, 200), "host")
		if len(res) != 2 {
			t.Fatalf("host usage %v", res)
		}
		total, own := res[0]["resource"].(map[string]any), res[1]["resource"].(map[string]any)
		if total["project"] != "(total)" || total["volume_count"] != "1" || total["total_volume_gb"] != "1" || total["snapshot_count"] != "1" ||
			total["total_snapshot_gb"] != "1" || total["host"] != node+"@volfile" || own["project"] != c.member.project || own["volume_count"] != "1" {
			t.Errorf("host usage %v", res)
		}
		fault(t, a.do("GET", "/os-hosts/other", nil), 404, "itemNotFound", "Service cinder-volume could not be found on host other.")
		fault(t, m.do("GET", "/os-hosts", nil), 403, "forbidden", "*")
	})
}
