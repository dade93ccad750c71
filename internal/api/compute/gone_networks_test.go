package compute_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestNetworkProxies: GET os-networks and os-tenant-networks list and show
// the project's networks in Nova's shapes up to 2.35 and are 404 after;
// their other methods are gone (TestRemovedAPIsAreGone).
func TestNetworkProxies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sc := newServersCloud(t, db)
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		sc.boot(t, admin, "admin-vm", true, nil) // gives the admin project its network
		sc.boot(t, sc.user, "user-vm", true, nil)
		const dir = "nova/api_samples/"
		asAdmin, asUser := sc.api.As("admin:admin", "2.1"), sc.api.As("u1:p1", "2.35")

		r := asAdmin.Do("GET", "/v2.1/os-networks", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, dir+"os-networks/networks-list-resp.json", r.Body, apisamples.Options{})
		nets := r.JSON(t)["networks"].([]any)
		if len(nets) != 1 {
			t.Fatalf("admin networks %v", nets)
		}
		id := nets[0].(map[string]any)["id"].(string)
		r = asAdmin.Do("GET", "/v2.1/os-networks/"+id, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, dir+"os-networks/network-show-resp.json", r.Body, apisamples.Options{})
		r = asAdmin.Do("GET", "/v2.1/os-tenant-networks", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, dir+"os-tenant-networks/networks-list-res.json", r.Body, apisamples.Options{})

		// A member sees the non-admin fields of its own network only.
		own := asUser.Do("GET", "/v2.1/os-networks", nil).Expect(t, http.StatusOK).JSON(t)["networks"].([]any)
		if len(own) != 1 || len(own[0].(map[string]any)) != 11 || own[0].(map[string]any)["id"] == id {
			t.Fatalf("member's networks %v", own)
		}
		tn := asUser.Do("GET", "/v2.1/os-tenant-networks/"+own[0].(map[string]any)["id"].(string), nil).Expect(t, http.StatusOK).JSON(t)
		if n := tn["network"].(map[string]any); n["cidr"] != "None" || n["label"] != "private" {
			t.Fatalf("tenant network %v", n)
		}
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
