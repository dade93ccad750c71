package compute_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
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
		const samples = "nova/api_samples/os-attach-interfaces/"
		shownResp := cc.client.As(userToken, "2.70").Do("GET", base+"/"+given["id"].(string), nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, samples+"v2.70/attach-interfaces-show-resp.json", shownResp.Body, apisamples.Options{})
		r21 := cc.client.As(userToken, "2.1").Do("GET", base+"/"+given["id"].(string), nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, samples+"attach-interfaces-show-resp.json", r21.Body, apisamples.Options{})
		r21 = cc.client.As(userToken, "2.1").Do("GET", base, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, samples+"attach-interfaces-list-resp.json", r21.Body, apisamples.Options{})
		shown := shownResp.JSON(t)["interfaceAttachment"].(map[string]any)
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

// TestServerInterfaceAttachDetach attaches a given port and a new one on
// a network, detaches both (the given port survives unbound, the new one
// goes), with Nova's errors and instance actions.
func TestServerInterfaceAttachDetach(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		user := cc.client.As(userToken, "2.49")
		r := user.Do("POST", "/v2.1/servers", cc.body("2.49", nil)).Expect(t, http.StatusAccepted)
		id := r.JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ACTIVE")
		network := cc.networkOf(t, "p1")
		given := makePort(t, cc.client, userToken, network)["id"].(string)
		base := "/v2.1/servers/" + id + "/os-interface"
		// An address no port holds yet (ports take random ones).
		held := map[string]bool{}
		for _, p := range cc.client.As(adminToken, "").Do("GET", "/networking/v2.0/ports?network_id="+network, nil).
			Expect(t, http.StatusOK).JSON(t)["ports"].([]any) {
			held[portAddress(t, p.(map[string]any))] = true
		}
		wanted := "10.0.0.77"
		for i := 78; held[wanted]; i++ {
			wanted = fmt.Sprintf("10.0.0.%d", i)
		}

		attachResp := user.Do("POST", base, map[string]any{"interfaceAttachment": map[string]any{"port_id": given, "tag": "extra"}}).
			Expect(t, http.StatusOK)
		apisamples.Assert(t, "nova/api_samples/os-attach-interfaces/v2.49/attach-interfaces-create-resp.json", attachResp.Body, apisamples.Options{})
		attached := attachResp.JSON(t)["interfaceAttachment"].(map[string]any)
		if attached["port_id"] != given || attached["net_id"] != network {
			t.Fatalf("attached %v", attached)
		}
		made := user.Do("POST", base, map[string]any{"interfaceAttachment": map[string]any{"net_id": network,
			"fixed_ips": []any{map[string]any{"ip_address": wanted}}}}).Expect(t, http.StatusOK).JSON(t)["interfaceAttachment"].(map[string]any)
		if ips := made["fixed_ips"].([]any); len(ips) != 1 || ips[0].(map[string]any)["ip_address"] != wanted {
			t.Fatalf("attached on the network %v", made)
		}
		list := cc.client.As(userToken, "2.70").Do("GET", base, nil).Expect(t, http.StatusOK).JSON(t)["interfaceAttachments"].([]any)
		if len(list) != 3 || list[1].(map[string]any)["tag"] != "extra" {
			t.Fatalf("interfaces after attach %v", list)
		}
		if got := showPort(t, cc.client, userToken, given); got["device_id"] != id || got["device_owner"] != "compute:nova" {
			t.Fatalf("attached port: device %v owner %v", got["device_id"], got["device_owner"])
		}

		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			msg    string
		}{
			{"both", map[string]any{"interfaceAttachment": map[string]any{"port_id": given, "net_id": network}}, 400, "Must not input both network_id and port_id"},
			{"ip without network", map[string]any{"interfaceAttachment": map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}}}}, 400,
				"Must input network_id when request IP address"},
			{"in use", map[string]any{"interfaceAttachment": map[string]any{"port_id": given}}, 409, "Port " + given + " is still in use."},
			{"unknown port", map[string]any{"interfaceAttachment": map[string]any{"port_id": portA}}, 404, "Port id " + portA + " could not be found."},
			{"unknown network", map[string]any{"interfaceAttachment": map[string]any{"net_id": netA}}, 404, "Network " + netA + " could not be found."},
		} {
			r := user.Do("POST", base, tc.body)
			if r.Status != tc.status || faultMessage(t, r) != tc.msg {
				t.Errorf("%s: %d %s, want %d %q", tc.name, r.Status, r.Body, tc.status, tc.msg)
			}
		}

		// The guest has the attached NICs before the attach answers.
		if g, err := cc.Driver.Inspect(id); err != nil || len(g.NICs) != 3 || !slices.Contains(g.NICs, attached["mac_addr"].(string)) {
			t.Fatalf("the guest's NICs %v, %v: want the attached ones too", g.NICs, err)
		}

		// Nova casts the detach: the port goes once the host unplugged it.
		user.Do("DELETE", base+"/"+given, nil).Expect(t, http.StatusAccepted)
		user.Do("DELETE", base+"/"+made["port_id"].(string), nil).Expect(t, http.StatusAccepted)
		eventually(t, "the given port unbound", func() bool {
			got := showPort(t, cc.client, userToken, given)
			return got["device_id"] == "" && got["device_owner"] == ""
		})
		eventually(t, "the made port deleted", func() bool {
			return cc.client.As(userToken, "").Do("GET", "/networking/v2.0/ports/"+made["port_id"].(string), nil).Status == http.StatusNotFound
		})
		if g, _ := cc.Driver.Inspect(id); len(g.NICs) != 1 || slices.Contains(g.NICs, attached["mac_addr"].(string)) {
			t.Fatalf("the guest's NICs after the detaches: %v", g.NICs)
		}
		// Nova casts the detach: a port the server lacks fails the action's event.
		user.Do("DELETE", base+"/"+given, nil).Expect(t, http.StatusAccepted)

		actions := user.Do("GET", "/v2.1/servers/"+id+"/os-instance-actions", nil).Expect(t, http.StatusOK).JSON(t)["instanceActions"].([]any)
		count := map[string]int{}
		for _, a := range actions {
			count[a.(map[string]any)["action"].(string)]++
		}
		// Three attaches were refused in the compute (in use, unknown port
		// and network): Nova records their actions too.
		if count["attach_interface"] != 5 || count["detach_interface"] != 3 {
			t.Errorf("instance actions %v", count)
		}
	})
}

// eventually polls cond for up to ten seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
	}
}
