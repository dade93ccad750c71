package identity

import (
	"net/http"
	"strings"
	"testing"
)

// TestEndpointPolicyAPI walks OS-ENDPOINT-POLICY's routes: status codes,
// Keystone's 404s and 403s, the bodies of a policy's endpoints and of an
// endpoint's policy, and associations going with their policy.
func TestEndpointPolicyAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	a := e.admin
	sid := field(t, a.Do("POST", "/identity/v3/services", obj{"service": obj{"type": "object-store"}}).Expect(t, http.StatusCreated).JSON(t), "service", "id").(string)
	a.Do("POST", "/identity/v3/regions", obj{"region": obj{"id": "RegionTwo", "parent_region_id": "RegionOne"}}).Expect(t, http.StatusCreated)
	eid := field(t, a.Do("POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": sid, "interface": "public",
		"url": "http://swift.example/v1", "region_id": "RegionTwo", "x": "kept"}}).Expect(t, http.StatusCreated).JSON(t), "endpoint", "id").(string)
	pid := field(t, a.Do("POST", "/identity/v3/policies", obj{"policy": obj{"type": "application/json", "blob": "{}", "extra": "kept"}}).Expect(t, http.StatusCreated).JSON(t), "policy", "id").(string)

	base := "/identity/v3/policies/" + pid + "/OS-ENDPOINT-POLICY"
	onEndpoint, onService, inRegion := base+"/endpoints/"+eid, base+"/services/"+sid, base+"/services/"+sid+"/regions/RegionOne"
	alice := e.c.As(e.aliceToken, "")
	for _, tc := range []struct {
		name, method, path string
		member             bool // as alice, a member of p1
		status             int
		msg                string
	}{
		{"endpoint: check before", "GET", onEndpoint, false, 404, "Could not find policy association."},
		{"endpoint: put", "PUT", onEndpoint, false, 204, ""},
		{"endpoint: put again", "PUT", onEndpoint, false, 204, ""},
		{"endpoint: get", "GET", onEndpoint, false, 204, ""},
		{"endpoint: head", "HEAD", onEndpoint, false, 204, ""},
		{"endpoint: delete", "DELETE", onEndpoint, false, 204, ""},
		{"endpoint: gone", "HEAD", onEndpoint, false, 404, ""},
		{"endpoint: delete absent", "DELETE", onEndpoint, false, 204, ""},
		{"service: put", "PUT", onService, false, 204, ""},
		{"service: get", "GET", onService, false, 204, ""},
		{"region: put", "PUT", inRegion, false, 204, ""},
		{"region: head", "HEAD", inRegion, false, 204, ""},
		{"region: other region", "GET", base + "/services/" + sid + "/regions/RegionTwo", false, 404, "Could not find policy association."},
		{"missing policy", "PUT", "/identity/v3/policies/nope/OS-ENDPOINT-POLICY/services/" + sid, false, 404, "Could not find policy: nope."},
		{"missing endpoint", "PUT", base + "/endpoints/nope", false, 404, "Could not find endpoint: nope."},
		{"missing service", "GET", base + "/services/nope", false, 404, "Could not find service: nope."},
		{"missing region", "DELETE", base + "/services/" + sid + "/regions/nope", false, 404, "Could not find region: nope."},
		{"missing policy's endpoints", "GET", "/identity/v3/policies/nope/OS-ENDPOINT-POLICY/endpoints", false, 404, "Could not find policy: nope."},
		{"missing endpoint's policy", "GET", "/identity/v3/endpoints/nope/OS-ENDPOINT-POLICY/policy", false, 404, "Could not find endpoint: nope."},
		{"member associates", "PUT", onService, true, 403,
			"You are not authorized to perform the requested action: identity:create_policy_association_for_service."},
		{"member checks", "GET", inRegion, true, 403,
			"You are not authorized to perform the requested action: identity:check_policy_association_for_region_and_service."},
		{"member deletes", "DELETE", onEndpoint, true, 403,
			"You are not authorized to perform the requested action: identity:delete_policy_association_for_endpoint."},
		{"member lists", "GET", base + "/endpoints", true, 403,
			"You are not authorized to perform the requested action: identity:list_endpoints_for_policy."},
		{"member reads", "GET", "/identity/v3/endpoints/" + eid + "/OS-ENDPOINT-POLICY/policy", true, 403,
			"You are not authorized to perform the requested action: identity:get_policy_for_endpoint."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := a
			if tc.member {
				c = alice
			}
			r := c.Do(tc.method, tc.path, nil)
			switch {
			case tc.method == "HEAD": // net/http's server drops the body
				r.Expect(t, tc.status)
			case tc.status != 204:
				wantError(t, r, tc.status, tc.msg)
			case len(r.Expect(t, tc.status).Body) != 0:
				t.Errorf("body %q", r.Body)
			}
		})
	}

	// The service's endpoints and, through RegionOne and its child
	// RegionTwo, the new endpoint again: Keystone lists it per association,
	// as the catalog keeps it (no legacy "region").
	r := a.Do("GET", base+"/endpoints", nil).Expect(t, http.StatusOK)
	body := r.JSON(t)
	if l := field(t, body, "links").(map[string]any); l["self"] != "http://example.com/identity/v3/policies/"+pid+"/OS-ENDPOINT-POLICY/endpoints" ||
		l["next"] != nil || l["previous"] != nil {
		t.Errorf("collection links %v", l)
	}
	es := field(t, body, "endpoints").([]any)
	if len(es) != 2 {
		t.Fatalf("%d endpoints, want 2: %s", len(es), r.Body)
	}
	for _, ep := range es {
		m := ep.(map[string]any)
		if _, has := m["region"]; has || m["id"] != eid || m["region_id"] != "RegionTwo" || m["service_id"] != sid || m["x"] != "kept" ||
			m["enabled"] != true || field(t, m, "links", "self") != "http://example.com/identity/v3/endpoints/"+eid {
			t.Errorf("endpoint %v", m)
		}
	}

	// The endpoint's policy: its region's parent's association, the
	// policy's self link under /v3/endpoints as Keystone wraps it.
	pol := "/identity/v3/endpoints/" + eid + "/OS-ENDPOINT-POLICY/policy"
	r = a.Do("GET", pol, nil).Expect(t, http.StatusOK)
	p := field(t, r.JSON(t), "policy").(map[string]any)
	if p["id"] != pid || p["type"] != "application/json" || p["blob"] != "{}" || p["extra"] != "kept" ||
		field(t, p, "links", "self") != "http://example.com/identity/v3/endpoints/"+pid {
		t.Errorf("endpoint's policy %v", p)
	}
	a.Do("HEAD", pol, nil).Expect(t, http.StatusOK)

	// Deleting the policy takes its associations along.
	a.Do("DELETE", "/identity/v3/policies/"+pid, nil).Expect(t, http.StatusNoContent)
	wantError(t, a.Do("GET", pol, nil), 404, "No policy is associated with endpoint "+eid+".")
	if r := a.Do("GET", "/identity/v3/policies", nil).Expect(t, http.StatusOK); strings.Contains(string(r.Body), pid) {
		t.Errorf("policy %s still listed", pid)
	}
}
