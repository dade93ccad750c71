package identity

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

func TestAuthCatalogProjectsDomains(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.c.As(e.aliceToken, "")
	r := alice.Do("GET", "/identity/v3/auth/catalog", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/get-service-catalog-response.json", r.Body,
		apisamples.Options{Extra: []string{"catalog[].endpoints[].region_id"}})
	catalog := r.JSON(t)["catalog"].([]any)
	if n := len(catalog); n != 6 {
		t.Errorf("%d services, want 6", n)
	}
	// Block storage's URL names the token's project, as Keystone
	// substitutes $(project_id)s.
	for _, s := range catalog {
		typ := field(t, s, "type")
		if typ != "block-storage" && typ != "volumev3" {
			continue
		}
		for _, ep := range field(t, s, "endpoints").([]any) {
			if u := field(t, ep, "url").(string); !strings.HasSuffix(u, "/volume/v3/"+e.p1.ID) {
				t.Errorf("%v endpoint %s, want .../volume/v3/%s", typ, u, e.p1.ID)
			}
		}
	}
	unscoped := e.login("alice", "pw", "unscoped")
	wantError(t, e.c.As(unscoped, "").Do("GET", "/identity/v3/auth/catalog", nil), 403,
		"A project-scoped token is required to produce a service catalog.")

	r = e.c.As(unscoped, "").Do("GET", "/identity/v3/auth/projects", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/get-available-project-scopes-response.json", r.Body,
		apisamples.Options{Extra: []string{"projects[].description", "projects[].parent_id", "projects[].is_domain", "projects[].tags", "projects[].options"}})
	projects := r.JSON(t)["projects"].([]any)
	if len(projects) != 1 || field(t, projects[0], "id") != e.p1.ID {
		t.Errorf("auth projects %v, want only p1", projects)
	}

	r = alice.Do("GET", "/identity/v3/auth/domains", nil).Expect(t, http.StatusOK)
	if n := len(r.JSON(t)["domains"].([]any)); n != 0 {
		t.Errorf("alice has %d domains, want 0", n)
	}
	e.admin.Do("PUT", "/identity/v3/domains/default/users/"+e.alice.ID+"/roles/"+roleID(t, e, "reader"), nil).Expect(t, http.StatusNoContent)
	r = alice.Do("GET", "/identity/v3/auth/domains", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/get-available-domain-scopes-response.json", r.Body,
		apisamples.Options{Extra: []string{"domains[].tags", "domains[].options"}})
}

func TestServicesEndpointsRegions(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.admin.Do("GET", "/identity/v3/services", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/services-list-response.json", r.Body, apisamples.Options{})
	services := r.JSON(t)["services"].([]any)
	if len(services) != 6 {
		t.Fatalf("services %v", services)
	}
	computeID := ""
	for _, s := range services {
		if field(t, s, "type") == "compute" {
			computeID = field(t, s, "id").(string)
		}
	}
	if len(computeID) != 32 {
		t.Fatalf("compute service id %q", computeID)
	}
	r = e.admin.Do("GET", "/identity/v3/services?type=image", nil).Expect(t, http.StatusOK)
	if s := r.JSON(t)["services"].([]any); len(s) != 1 || field(t, s[0], "name") != "glance" {
		t.Errorf("image services %v", s)
	}
	r = e.admin.Do("GET", "/identity/v3/services?type=network", nil).Expect(t, http.StatusOK)
	if s := r.JSON(t)["services"].([]any); len(s) != 1 || field(t, s[0], "name") != "neutron" {
		t.Errorf("network services %v", s)
	}
	r = e.admin.Do("GET", "/identity/v3/services/"+computeID, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/service-show-response.json", r.Body, apisamples.Options{})
	wantError(t, e.admin.Do("GET", "/identity/v3/services/nope", nil), 404, "Could not find service: nope.")

	r = e.admin.Do("GET", "/identity/v3/endpoints", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/endpoints-list-response.json", r.Body, apisamples.Options{})
	if n := len(r.JSON(t)["endpoints"].([]any)); n != 18 {
		t.Errorf("%d endpoints, want 18", n)
	}
	r = e.admin.Do("GET", "/identity/v3/endpoints?service_id="+computeID+"&interface=public&region_id=RegionOne", nil).Expect(t, http.StatusOK)
	eps := r.JSON(t)["endpoints"].([]any)
	if len(eps) != 1 || field(t, eps[0], "url") != "http://example.com/v2.1" {
		t.Fatalf("filtered endpoints %v", eps)
	}
	r = e.admin.Do("GET", "/identity/v3/endpoints/"+field(t, eps[0], "id").(string), nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/endpoint-show-response.json", r.Body, apisamples.Options{})
	wantError(t, e.admin.Do("GET", "/identity/v3/endpoints/nope", nil), 404, "Could not find endpoint: nope.")

	alice := e.c.As(e.aliceToken, "")
	r = alice.Do("GET", "/identity/v3/regions", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/regions-list-response.json", r.Body, apisamples.Options{})
	r = alice.Do("GET", "/identity/v3/regions/RegionOne", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/region-show-response.json", r.Body, apisamples.Options{})
	wantError(t, alice.Do("GET", "/identity/v3/regions/RegionTwo", nil), 404, "Could not find region: RegionTwo.")
	wantError(t, alice.Do("GET", "/identity/v3/services", nil), 403, "You are not authorized to perform the requested action: identity:list_services.")
	wantError(t, alice.Do("GET", "/identity/v3/endpoints", nil), 403, "You are not authorized to perform the requested action: identity:list_endpoints.")
}

func TestPublicURLInCatalog(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	svc := NewService(e.svc, apiOptionsWithPublicURL(e, "https://cloud.example.org/"), nil)
	c := apiClient(t, svc).As(e.adminToken, "")
	r := c.Do("GET", "/identity/v3/endpoints?interface=public", nil).Expect(t, http.StatusOK)
	for _, ep := range r.JSON(t)["endpoints"].([]any) {
		url := field(t, ep, "url").(string)
		if len(url) < 25 || url[:25] != "https://cloud.example.org" {
			t.Errorf("endpoint URL %q not under the public URL", url)
		}
	}
}

func TestAuthSystem(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/auth/system", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/get-available-system-scopes-response.json", r.Body, apisamples.Options{})
	if s := r.JSON(t)["system"].([]any); len(s) != 0 {
		t.Errorf("system scopes %v, want none", s)
	}
}
