package identity

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/identity"
)

const limitSamples = "keystone/v3/samples/admin/"

func TestRegisteredLimitsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	image := identity.ServiceID("image")
	r := e.admin.Do("POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
		{"service_id": image, "region_id": "RegionOne", "resource_name": "snapshot", "default_limit": 5},
		{"service_id": image, "resource_name": "volume", "default_limit": 10, "description": "Number of volumes"},
	}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, limitSamples+"registered-limits-create-response.json", r.Body, apisamples.Options{})
	created := r.JSON(t)["registered_limits"].([]any)
	snapshot := field(t, created[0], "id").(string)
	if field(t, created[0], "region_id") != "RegionOne" || field(t, created[1], "region_id") != nil ||
		field(t, created[1], "description") != "Number of volumes" || field(t, created[0], "description") != nil {
		t.Fatalf("created: %s", r.Body)
	}

	r = e.admin.Do("GET", "/identity/v3/registered_limits", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"registered-limits-list-response.json", r.Body, apisamples.Options{})
	// Anyone authenticated reads registered limits (Keystone's "" rule).
	alice := e.c.As(e.aliceToken, "")
	r = alice.Do("GET", "/identity/v3/registered_limits?resource_name=volume", nil).Expect(t, http.StatusOK)
	if n := len(r.JSON(t)["registered_limits"].([]any)); n != 1 {
		t.Fatalf("filtered list: %s", r.Body)
	}
	r = alice.Do("GET", "/identity/v3/registered_limits/"+snapshot, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"registered-limit-show-response.json", r.Body, apisamples.Options{})

	r = e.admin.Do("PATCH", "/identity/v3/registered_limits/"+snapshot, obj{"registered_limit": obj{
		"default_limit": 6, "description": "Number of snapshots"}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"registered-limits-update-response.json", r.Body, apisamples.Options{})
	if field(t, r.JSON(t), "registered_limit", "default_limit") != 6.0 {
		t.Fatalf("update: %s", r.Body)
	}

	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"duplicate", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "region_id": "RegionOne", "resource_name": "snapshot", "default_limit": 1}}},
			409, "Conflict occurred attempting to store registered_limit - Duplicate entry."},
		{"unknown service", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": "ffffffffffffffffffffffffffffffff", "resource_name": "x", "default_limit": 1}}},
			400, "Expecting to find service_id in registered_limit. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
		{"unknown region", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "region_id": "fake_region", "resource_name": "x", "default_limit": 1}}},
			400, "Expecting to find region_id in registered_limit. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
		{"not an integer", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "resource_name": "x", "default_limit": "not_int"}}},
			400, "Invalid input for field/attribute default_limit. Value: not_int. 'not_int' is not of type 'integer'"},
		{"below -1", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "resource_name": "x", "default_limit": -2}}},
			400, "Invalid input for field/attribute default_limit. Value: -2. -2 is less than the minimum of -1"},
		{"resource name not a string", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "resource_name": 123, "default_limit": 1}}},
			400, "Invalid input for field/attribute resource_name. Value: 123. 123 is not of type 'string'"},
		{"missing default", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "resource_name": "x"}}},
			400, "Invalid input for field/attribute 0. Value: {'resource_name': 'x', 'service_id': '" + image + "'}. 'default_limit' is a required property"},
		{"unknown member", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "resource_name": "x", "default_limit": 1, "id": "mine"}}},
			400, ""},
		{"empty list", "POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{}},
			400, "Invalid input for field/attribute registered_limits. Value: []. [] should be non-empty"},
		{"no list", "POST", "/identity/v3/registered_limits", obj{}, 400, "'registered_limits' is a required property"},
		{"description not a string", "PATCH", "/identity/v3/registered_limits/" + snapshot, obj{"registered_limit": obj{"description": 123}},
			400, "Invalid input for field/attribute description. Value: 123. 123 is not of type 'string', 'null'"},
		{"move onto another", "PATCH", "/identity/v3/registered_limits/" + snapshot, obj{"registered_limit": obj{"resource_name": "volume", "region_id": nil}},
			409, "Conflict occurred attempting to store registered_limit - Duplicate entry."},
		{"update missing", "PATCH", "/identity/v3/registered_limits/nope", obj{"registered_limit": obj{"default_limit": 1}},
			404, "Could not find registered limit for nope."},
		{"member creates", "POST", "/identity/v3/registered_limits", nil, 403, forbiddenMsg("identity:create_registered_limits")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.admin
			if tc.status == 403 {
				c = alice
			}
			wantError(t, c.Do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	// A registered limit a project limit overrides stays as it is.
	e.admin.Do("POST", "/identity/v3/limits", obj{"limits": []obj{
		{"service_id": image, "project_id": e.p1.ID, "region_id": "RegionOne", "resource_name": "snapshot", "resource_limit": 3}}}).Expect(t, http.StatusCreated)
	msg := "Unable to update or delete registered limit " + snapshot + " because there are project limits associated with it."
	wantError(t, e.admin.Do("PATCH", "/identity/v3/registered_limits/"+snapshot, obj{"registered_limit": obj{"default_limit": 1}}), 403, msg)
	wantError(t, e.admin.Do("DELETE", "/identity/v3/registered_limits/"+snapshot, nil), 403, msg)
	volume := field(t, created[1], "id").(string)
	wantError(t, alice.Do("DELETE", "/identity/v3/registered_limits/"+volume, nil), 403, forbiddenMsg("identity:delete_registered_limit"))
	e.admin.Do("DELETE", "/identity/v3/registered_limits/"+volume, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("GET", "/identity/v3/registered_limits/"+volume, nil), 404, "Could not find registered limit for "+volume+".")
}

func TestLimitsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	image := identity.ServiceID("image")
	alice := e.c.As(e.aliceToken, "")
	r := alice.Do("GET", "/identity/v3/limits/model", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"limit-flat-model-response.json", r.Body, apisamples.Options{})
	if field(t, r.JSON(t), "model", "name") != "flat" {
		t.Fatalf("model: %s", r.Body)
	}
	e.admin.Do("POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
		{"service_id": image, "region_id": "RegionOne", "resource_name": "snapshot", "default_limit": 5},
		{"service_id": image, "resource_name": "volume", "default_limit": 10},
	}}).Expect(t, http.StatusCreated)

	wantError(t, alice.Do("POST", "/identity/v3/limits", obj{"limits": []obj{}}), 403, forbiddenMsg("identity:create_limits"))
	r = e.admin.Do("POST", "/identity/v3/limits", obj{"limits": []obj{
		{"service_id": image, "project_id": e.p1.ID, "region_id": "RegionOne", "resource_name": "snapshot", "resource_limit": 5},
		{"service_id": image, "domain_id": "default", "resource_name": "volume", "resource_limit": 10, "description": "Number of volumes"},
	}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, limitSamples+"limits-create-response.json", r.Body, apisamples.Options{})
	created := r.JSON(t)["limits"].([]any)
	p1Limit, domainLimit := field(t, created[0], "id").(string), field(t, created[1], "id").(string)
	if field(t, created[0], "project_id") != e.p1.ID || field(t, created[0], "domain_id") != nil ||
		field(t, created[1], "domain_id") != "default" || field(t, created[0], "service_id") != image {
		t.Fatalf("created: %s", r.Body)
	}
	r = e.admin.Do("POST", "/identity/v3/limits", obj{"limits": []obj{
		{"service_id": image, "project_id": e.adminPrj, "resource_name": "volume", "resource_limit": 1}}}).Expect(t, http.StatusCreated)
	adminLimit := field(t, r.JSON(t)["limits"].([]any)[0], "id").(string)

	r = e.admin.Do("GET", "/identity/v3/limits", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"limits-list-response.json", r.Body, apisamples.Options{})
	if n := len(r.JSON(t)["limits"].([]any)); n != 3 {
		t.Fatalf("admin lists %d limits", n)
	}
	// A project member sees its project's limits only, and may read them.
	r = alice.Do("GET", "/identity/v3/limits", nil).Expect(t, http.StatusOK)
	if l := r.JSON(t)["limits"].([]any); len(l) != 1 || field(t, l[0], "id") != p1Limit {
		t.Fatalf("alice lists %s", r.Body)
	}
	r = alice.Do("GET", "/identity/v3/limits/"+p1Limit, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"limit-show-response.json", r.Body, apisamples.Options{})
	for _, id := range []string{adminLimit, domainLimit, "missing"} {
		wantError(t, alice.Do("GET", "/identity/v3/limits/"+id, nil), 403, forbiddenMsg("identity:get_limit"))
	}
	wantError(t, e.admin.Do("GET", "/identity/v3/limits/missing", nil), 404, "Could not find limit for missing.")

	for _, tc := range []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"duplicate", obj{"limits": []obj{{"service_id": image, "project_id": e.p1.ID, "region_id": "RegionOne", "resource_name": "snapshot", "resource_limit": 1}}},
			409, "Conflict occurred attempting to store limit - Duplicate entry."},
		{"no registered limit", obj{"limits": []obj{{"service_id": image, "project_id": e.p1.ID, "resource_name": "snapshot", "resource_limit": 1}}},
			403, "Unable to create a limit that has no corresponding registered limit."},
		{"unknown project", obj{"limits": []obj{{"service_id": image, "project_id": "nope", "resource_name": "volume", "resource_limit": 1}}},
			400, "Expecting to find project_id in limit. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
		{"neither project nor domain", obj{"limits": []obj{{"service_id": image, "resource_name": "volume", "resource_limit": 1}}},
			400, "Invalid input for field/attribute 0. Value: {'resource_limit': 1, 'resource_name': 'volume', 'service_id': '" + image + "'}. {'resource_limit': 1, 'resource_name': 'volume', 'service_id': '" + image + "'} is not valid under any of the given schemas"},
		{"over the maximum", obj{"limits": []obj{{"service_id": image, "project_id": e.p1.ID, "resource_name": "volume", "resource_limit": 2147483648}}},
			400, "Invalid input for field/attribute resource_limit. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.admin.Do("POST", "/identity/v3/limits", tc.body), tc.status, tc.msg)
		})
	}

	r = e.admin.Do("PATCH", "/identity/v3/limits/"+p1Limit, obj{"limit": obj{"resource_limit": 0, "description": "none"}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, limitSamples+"limits-update-response.json", r.Body, apisamples.Options{})
	if field(t, r.JSON(t), "limit", "resource_limit") != 0.0 || field(t, r.JSON(t), "limit", "description") != "none" {
		t.Fatalf("update: %s", r.Body)
	}
	wantError(t, e.admin.Do("PATCH", "/identity/v3/limits/"+p1Limit, obj{"limit": obj{"resource_name": "x"}}), 400,
		"Invalid input for field/attribute limit. Value: {'resource_name': 'x'}. Additional properties are not allowed ('resource_name' was unexpected)")
	wantError(t, alice.Do("PATCH", "/identity/v3/limits/"+p1Limit, obj{"limit": obj{"resource_limit": 9}}), 403, forbiddenMsg("identity:update_limit"))
	wantError(t, alice.Do("DELETE", "/identity/v3/limits/"+p1Limit, nil), 403, forbiddenMsg("identity:delete_limit"))
	e.admin.Do("DELETE", "/identity/v3/limits/"+p1Limit, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("DELETE", "/identity/v3/limits/"+p1Limit, nil), 404, "Could not find limit for "+p1Limit+".")
}
