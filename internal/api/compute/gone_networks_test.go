package compute_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
)

// TestNetworkProxies: GET os-networks and os-tenant-networks list and show
// the project's networks in Nova's shapes up to 2.35 and are 404 after;
// their other methods are gone (TestRemovedAPIsAreGone).
func TestNetworkProxies(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		sc.boot(t, admin, "admin-vm", true, nil) // gives the admin project its network
		sc.boot(t, sc.user, "user-vm", true, nil)
		const dir = "nova/api_samples/"
		asAdmin, asUser := sc.api.As("admin:admin", "2.1"), sc.api.As("u1:p1", "2.35")

		// A member sees the non-admin fields of its own network (and of
		// shared and external ones: none here).
		own := asUser.Do("GET", "/v2.1/os-networks", nil).Expect(t, http.StatusOK).JSON(t)["networks"].([]any)
		if len(own) != 1 || len(own[0].(map[string]any)) != 11 {
			t.Fatalf("member's networks %v", own)
		}
		ownID := own[0].(map[string]any)["id"].(string)
		tn := asUser.Do("GET", "/v2.1/os-tenant-networks/"+ownID, nil).Expect(t, http.StatusOK).JSON(t)
		if n := tn["network"].(map[string]any); n["cidr"] != "None" || n["label"] != "private" {
			t.Fatalf("tenant network %v", n)
		}

		// An admin sees every project's network, as Neutron lists them to
		// an admin's token.
		r := asAdmin.Do("GET", "/v2.1/os-networks", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, dir+"os-networks/networks-list-resp.json", r.Body, apisamples.Options{})
		var id string
		var ids []string
		for _, n := range r.JSON(t)["networks"].([]any) {
			ids = append(ids, n.(map[string]any)["id"].(string))
			if ids[len(ids)-1] != ownID {
				id = ids[len(ids)-1]
			}
		}
		if len(ids) != 2 || !slices.Contains(ids, ownID) {
			t.Fatalf("admin networks %v, want the admin's and %s", ids, ownID)
		}
		r = asAdmin.Do("GET", "/v2.1/os-networks/"+id, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, dir+"os-networks/network-show-resp.json", r.Body, apisamples.Options{})
		asAdmin.Do("GET", "/v2.1/os-networks/"+ownID, nil).Expect(t, http.StatusOK)
		r = asAdmin.Do("GET", "/v2.1/os-tenant-networks", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, dir+"os-tenant-networks/networks-list-res.json", r.Body, apisamples.Options{})

		// Another project's network is missing for a member.
		for _, path := range []string{"/v2.1/os-networks/" + id, "/v2.1/os-tenant-networks/" + id, "/v2.1/os-networks/nope"} {
			if r := asUser.Do("GET", path, nil); r.Status != http.StatusNotFound || faultMessage(t, r) != "Network not found" {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
			}
		}
		for _, path := range []string{"/v2.1/os-networks", "/v2.1/os-tenant-networks"} {
			if r := sc.api.As("u1:p1", "2.36").Do("GET", path, nil); r.Status != http.StatusNotFound {
				t.Errorf("GET %s at 2.36: %d, want 404", path, r.Status)
			}
		}
	})
}

// TestNetworkProxiesBeforeAnyServer: a project's network is listed (and
// shown) before its first server, under the id its servers then use.
func TestNetworkProxiesBeforeAnyServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, path string
		fields            int // keys of each listed network
	}{
		// The admin goes first: it lists every project's network.
		{"os-networks as admin", "admin:admin", "/v2.1/os-networks", 32},
		{"os-networks as member", "u1:p1", "/v2.1/os-networks", 11},
		{"os-networks as reader", "reader:p3", "/v2.1/os-networks", 11},
		{"os-tenant-networks as member", "u4:p4", "/v2.1/os-tenant-networks", 3},
		{"legacy v2 os-tenant-networks", "u5:p5", "/v2/os-tenant-networks", 3},
	}
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				as := sc.api.As(tc.token, "2.35")
				list := func() map[string]any {
					t.Helper()
					nets := as.Do("GET", tc.path, nil).Expect(t, http.StatusOK).JSON(t)["networks"].([]any)
					if len(nets) != 1 {
						t.Fatalf("GET %s: %v, want the project's one network", tc.path, nets)
					}
					return nets[0].(map[string]any)
				}
				n := list()
				id, _ := n["id"].(string)
				if n["label"] != "private" || id == "" || len(n) != tc.fields {
					t.Fatalf("GET %s: network %v, want %d fields labelled private", tc.path, n, tc.fields)
				}
				shown := as.Do("GET", tc.path+"/"+id, nil).Expect(t, http.StatusOK).JSON(t)["network"].(map[string]any)
				if shown["id"] != id {
					t.Errorf("GET %s/%s shows %v", tc.path, id, shown)
				}
				if again := list(); again["id"] != id {
					t.Errorf("second listing shows network %v, want %s again", again["id"], id)
				}
				if tc.token == "reader:p3" {
					return // readers boot no servers
				}
				// A server may name the listed network, and one that names
				// none lands on it too: still one network, same id.
				user, project, _ := strings.Cut(tc.token, ":")
				p := &auth.Principal{UserID: user, ProjectID: project, Roles: []string{"member"}}
				sc.boot(t, p, project+"-named", false, func(r *compute.CreateRequest) {
					r.Networks = compute.NetworkRequest{Mode: "list", Networks: []compute.RequestedNetwork{{UUID: id}}}
				})
				sc.boot(t, p, project+"-auto", false, nil)
				if after := list(); after["id"] != id {
					t.Errorf("after booting, the network is %v, want %s", after["id"], id)
				}
			})
		}
	})
}
