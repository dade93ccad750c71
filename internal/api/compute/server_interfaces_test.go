package compute_test

import (
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestServerInterfaces lists and shows a server's ports as Nova's
// os-interface does: the port it was booted on and the one Nova made,
// with device tags from 2.70, and Nova's 404s.
func TestServerInterfaces(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		user := cc.client.As(userToken, "2.52")
		first := user.Do("POST", "/v2.1/servers", cc.body("2.52", nil)).Expect(t, http.StatusAccepted)
		cc.waitForStatus(t, first.JSON(t)["server"].(map[string]any)["id"].(string), "ACTIVE")
		network := cc.networkOf(t, "p1")
		given := makePort(t, cc.client, userToken, network)
		free := makePort(t, cc.client, userToken, network)["id"].(string)
		r := user.Do("POST", "/v2.1/servers", cc.body("2.52", map[string]any{"networks": []any{
			map[string]any{"port": given["id"], "tag": "public"}, map[string]any{"uuid": network},
		}}))
		id := r.Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ACTIVE")
		base := "/v2.1/servers/" + id + "/os-interface"

		for _, tc := range []struct {
			version string
			keys    []string
			tags    []any
		}{
			{"2.1", []string{"fixed_ips", "mac_addr", "net_id", "port_id", "port_state"}, nil},
			{"2.70", []string{"fixed_ips", "mac_addr", "net_id", "port_id", "port_state", "tag"}, []any{"public", nil}},
		} {
			list := cc.client.As(userToken, tc.version).Do("GET", base, nil).Expect(t, http.StatusOK).JSON(t)["interfaceAttachments"].([]any)
			if len(list) != 2 {
				t.Fatalf("%s: interfaces %v, want 2", tc.version, list)
			}
			for i, item := range list {
				v := item.(map[string]any)
				if keys := sortedKeys(v); !slices.Equal(keys, tc.keys) {
					t.Errorf("%s: interface keys %v, want %v", tc.version, keys, tc.keys)
				}
				if v["net_id"] != network || v["port_state"] != "ACTIVE" {
					t.Errorf("%s: interface %v", tc.version, v)
				}
				if tc.tags != nil && v["tag"] != tc.tags[i] {
					t.Errorf("%s: interface %d tag %v, want %v", tc.version, i, v["tag"], tc.tags[i])
				}
			}
			if got := list[0].(map[string]any); got["port_id"] != given["id"] || got["mac_addr"] != given["mac_address"] {
				t.Errorf("%s: first interface %v, want the given port %v", tc.version, got, given["id"])
			}
		}
		shown := cc.client.As(userToken, "2.70").Do("GET", base+"/"+given["id"].(string), nil).Expect(t, http.StatusOK).JSON(t)["interfaceAttachment"].(map[string]any)
		fixed := shown["fixed_ips"].([]any)[0].(map[string]any)
		if shown["tag"] != "public" || fixed["ip_address"] != portAddress(t, given) || fixed["subnet_id"] == "" {
			t.Errorf("shown interface %v", shown)
		}

		for _, tc := range []struct {
			name, who, port, msg string
		}{
			{"not the server's", userToken, free, "Instance " + id + " does not have a port with id " + free},
			{"unknown", userToken, portA, "Port id " + portA + " could not be found."},
			{"another project's server", "u2:p2", given["id"].(string), "Instance " + id + " could not be found."},
		} {
			r := cc.client.As(tc.who, "2.1").Do("GET", base+"/"+tc.port, nil)
			if r.Status != http.StatusNotFound || faultMessage(t, r) != tc.msg {
				t.Errorf("%s: %d %s, want 404 %q", tc.name, r.Status, r.Body, tc.msg)
			}
		}
	})
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
