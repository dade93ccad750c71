package compute_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func flavorIDs(t *testing.T, r *apitest.Response) []string {
	t.Helper()
	var out []string
	for _, f := range r.JSON(t)["flavors"].([]any) {
		out = append(out, f.(map[string]any)["id"].(string))
	}
	return out
}

func TestFlavorFieldsPerMicroversion(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		cases := []struct {
			version                     string
			swap                        any
			rxtx, desc, specs, disabled bool
		}{
			{"2.1", "", true, false, false, true},
			{"2.54", "", true, false, false, true},
			{"2.55", "", true, true, false, true},
			{"2.60", "", true, true, false, true},
			{"2.61", "", true, true, true, true},
			{"2.74", "", true, true, true, true},
			{"2.75", float64(0), true, true, true, true},
			{"2.101", float64(0), true, true, true, true},
			{"2.102", float64(0), false, true, true, false},
			{"2.104", float64(0), false, true, true, false},
		}
		for _, tc := range cases {
			for _, token := range []string{adminToken, userToken} {
				f := c.As(token, tc.version).Do("GET", "/v2.1/flavors/1", nil).Expect(t, 200).JSON(t)["flavor"].(map[string]any)
				if f["swap"] != tc.swap {
					t.Errorf("%s: swap %#v, want %#v", tc.version, f["swap"], tc.swap)
				}
				for key, want := range map[string]bool{"rxtx_factor": tc.rxtx, "description": tc.desc, "extra_specs": tc.specs, "OS-FLV-DISABLED:disabled": tc.disabled} {
					if _, got := f[key]; got != want {
						t.Errorf("%s as %s: %s present=%v, want %v", tc.version, token, key, got, want)
					}
				}
				if f["ram"] != float64(512) || f["vcpus"] != float64(1) || f["disk"] != float64(1) || f["os-flavor-access:is_public"] != true {
					t.Errorf("%s: flavor 1 = %v", tc.version, f)
				}
			}
		}
	})
}

func TestFlavorLinks(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		for _, tc := range []struct{ path, self, bookmark string }{
			{"/v2.1/flavors/2", "http://example.com/v2.1/flavors/2", "http://example.com/flavors/2"},
			{"/v2.1/p1/flavors/2", "http://example.com/v2.1/p1/flavors/2", "http://example.com/p1/flavors/2"},
			{"/v2/flavors/2", "http://example.com/v2/flavors/2", "http://example.com/flavors/2"},
		} {
			r := c.As(userToken, "").Do("GET", tc.path, nil).Expect(t, 200)
			links := r.JSON(t)["flavor"].(map[string]any)["links"].([]any)
			if links[0].(map[string]any)["href"] != tc.self || links[1].(map[string]any)["href"] != tc.bookmark {
				t.Errorf("%s: links %v", tc.path, links)
			}
		}
		c.As(userToken, "").Do("GET", "/v2.1/p2/flavors/2", nil).Expect(t, 400)
	})
}

func TestFlavorListQueries(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, svc := flavorAPI(t, database)
		sampleFixture(t, svc)
		admin := c.As(adminToken, "2.1")
		admin.Do("POST", "/v2.1/flavors", map[string]any{"flavor": map[string]any{
			"name": "hidden", "id": "8", "ram": 64, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": false}}).Expect(t, 200)
		cases := []struct {
			token, version, query string
			status                int
			want                  []string
			msg                   string
		}{
			{userToken, "2.1", "", 200, []string{"1", "2", "3", "4", "5", "6", "7"}, ""},
			{userToken, "2.1", "?is_public=false", 200, []string{"1", "2", "3", "4", "5", "6", "7"}, ""},
			{adminToken, "2.1", "?is_public=false", 200, []string{"8"}, ""},
			{adminToken, "2.1", "?is_public=None", 200, []string{"1", "2", "3", "4", "5", "6", "7", "8"}, ""},
			{adminToken, "2.1", "?is_public=maybe", 400, nil, "Invalid is_public filter [maybe]"},
			{userToken, "2.1", "?minRam=4096", 200, []string{"3", "4", "5"}, ""},
			{userToken, "2.1", "?minDisk=40&minRam=8192", 200, []string{"4", "5"}, ""},
			{userToken, "2.1", "?minRam=big", 400, nil, "Invalid minRam filter [big]"},
			{userToken, "2.1", "?minDisk=big", 400, nil, "Invalid minDisk filter [big]"},
			{userToken, "2.1", "?sort_key=memory_mb&sort_dir=desc&limit=3", 200, []string{"5", "4", "3"}, ""},
			{userToken, "2.1", "?sort_key=bogus", 400, nil, "Invalid input for query parameters sort_key. Value: bogus. 'bogus' is not one of ["},
			{userToken, "2.1", "?sort_dir=up", 400, nil, "Invalid input for query parameters sort_dir. Value: up. 'up' is not one of ['asc', 'desc']"},
			{userToken, "2.1", "?limit=-1", 400, nil, "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
			{userToken, "2.1", "?marker=nope", 400, nil, "marker [nope] not found"},
			{userToken, "2.1", "?marker=8", 400, nil, "marker [8] not found"},
			{userToken, "2.1", "?marker=3", 200, []string{"4", "5", "6", "7"}, ""},
			{userToken, "2.74", "?bogus=1", 200, []string{"1", "2", "3", "4", "5", "6", "7"}, ""},
			{userToken, "2.74", "?name=tiny", 200, []string{"1", "2", "3", "4", "5", "6", "7"}, ""},
			{userToken, "2.75", "?bogus=1", 400, nil, "Additional properties are not allowed ('bogus' was unexpected)"},
			{userToken, "2.101", "?name=tiny", 400, nil, "Additional properties are not allowed ('name' was unexpected)"},
			{userToken, "2.101", "?sort_key=rxtx_factor", 200, []string{"1", "2", "3", "4", "5", "6", "7"}, ""},
			{userToken, "2.102", "?sort_key=rxtx_factor", 400, nil, "Invalid input for query parameters sort_key"},
			{userToken, "2.102", "?name=tiny", 200, []string{"1", "6"}, ""},
			{userToken, "2.102", "?name=^m1.(small|medium)$", 200, []string{"2", "3"}, ""},
		}
		for _, tc := range cases {
			for _, path := range []string{"/v2.1/flavors", "/v2.1/flavors/detail"} {
				r := c.As(tc.token, tc.version).Do("GET", path+tc.query, nil).Expect(t, tc.status)
				if tc.status != 200 {
					if m := faultMessage(t, r); !strings.HasPrefix(m, tc.msg) {
						t.Errorf("%s %s%s: message %q, want prefix %q", tc.version, path, tc.query, m, tc.msg)
					}
					continue
				}
				if got := flavorIDs(t, r); strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("%s %s %s%s: %v, want %v", tc.token, tc.version, path, tc.query, got, tc.want)
				}
			}
		}
	})
}

func TestFlavorPagination(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		cl := c.As(userToken, "2.1")
		var seen []string
		next := "/v2.1/flavors/detail?limit=2&minRam=1"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			r := cl.Do("GET", next, nil).Expect(t, 200)
			seen = append(seen, flavorIDs(t, r)...)
			next = ""
			if links, ok := r.JSON(t)["flavors_links"].([]any); ok {
				l := links[0].(map[string]any)
				if l["rel"] != "next" {
					t.Fatalf("link %v", l)
				}
				u, err := url.Parse(l["href"].(string))
				if err != nil || u.Path != "/v2.1/flavors/detail" || u.Query().Get("limit") != "2" || u.Query().Get("minRam") != "1" {
					t.Fatalf("next link %v", l["href"])
				}
				next = u.RequestURI()
			}
		}
		if strings.Join(seen, ",") != "1,2,3,4,5" {
			t.Fatalf("paged through %v", seen)
		}
		// A page that is not full has no next link.
		if _, ok := cl.Do("GET", "/v2.1/flavors?limit=10", nil).Expect(t, 200).JSON(t)["flavors_links"]; ok {
			t.Error("next link on a partial page")
		}
	})
}

func TestPrivateFlavorVisibility(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		admin := c.As(adminToken, "2.1")
		user := c.As(userToken, "2.1")
		admin.Do("POST", "/v2.1/flavors", map[string]any{"flavor": map[string]any{
			"name": "private", "id": "priv", "ram": 64, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "false"}}).Expect(t, 200)
		r := user.Do("GET", "/v2.1/flavors/priv", nil).Expect(t, 404)
		if m := faultMessage(t, r); m != "Flavor priv could not be found." {
			t.Errorf("message %q", m)
		}
		user.Do("GET", "/v2.1/flavors/priv/os-extra_specs", nil).Expect(t, 404)
		admin.Do("GET", "/v2.1/flavors/priv", nil).Expect(t, 200)
		admin.Do("POST", "/v2.1/flavors/priv/action", map[string]any{"addTenantAccess": map[string]any{"tenant": "p1"}}).Expect(t, 200)
		user.Do("GET", "/v2.1/flavors/priv", nil).Expect(t, 200)
		if ids := flavorIDs(t, user.Do("GET", "/v2.1/flavors", nil).Expect(t, 200)); len(ids) != 6 {
			t.Errorf("granted user sees %v", ids)
		}
		c.As("u2:p2", "2.1").Do("GET", "/v2.1/flavors/priv", nil).Expect(t, 404)
		list := admin.Do("GET", "/v2.1/flavors/priv/os-flavor-access", nil).Expect(t, 200).JSON(t)["flavor_access"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["tenant_id"] != "p1" || list[0].(map[string]any)["flavor_id"] != "priv" {
			t.Errorf("access list %v", list)
		}
	})
}

func TestFlavorCreateValidation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		valid := func(extra map[string]any) map[string]any {
			f := map[string]any{"name": "new", "ram": 128, "vcpus": 1, "disk": 1}
			for k, v := range extra {
				if v == nil {
					delete(f, k)
				} else {
					f[k] = v
				}
			}
			return map[string]any{"flavor": f}
		}
		cases := []struct {
			name    string
			version string
			body    any
			status  int
			msg     string
		}{
			{"no flavor", "2.1", map[string]any{}, 400, "'flavor' is a required property"},
			{"extra top key", "2.1", map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 1}, "x": 1}, 400, "Additional properties are not allowed ('x' was unexpected)"},
			{"missing ram", "2.1", valid(map[string]any{"ram": nil}), 400, "Invalid input for field/attribute flavor. Value: "},
			{"ram zero", "2.1", valid(map[string]any{"ram": 0}), 400, "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
			{"ram string", "2.1", valid(map[string]any{"ram": "abc"}), 400, "Invalid input for field/attribute ram. Value: abc. 'abc' does not match '^[0-9]+$'"},
			{"ram bool", "2.1", valid(map[string]any{"ram": true}), 400, "Invalid input for field/attribute ram. Value: True. True is not of type 'integer', 'string'"},
			{"ram float", "2.1", valid(map[string]any{"ram": 1.5}), 400, "is not of type 'integer', 'string'"},
			{"ram huge", "2.1", valid(map[string]any{"ram": 2147483648}), 400, "2147483648 is greater than the maximum of 2147483647"},
			{"negative disk", "2.1", valid(map[string]any{"disk": -1}), 400, "-1 is less than the minimum of 0"},
			{"vcpus zero string", "2.1", valid(map[string]any{"vcpus": "0"}), 400, "0 is less than the minimum of 1"},
			{"empty name", "2.1", valid(map[string]any{"name": ""}), 400, "Invalid input for field/attribute name. Value: . '' is too short"},
			{"padded name", "2.1", valid(map[string]any{"name": " x"}), 400, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
			{"bad id", "2.1", valid(map[string]any{"id": "a/b"}), 400, "Invalid input for field/attribute id. Value: a/b. 'a/b' does not match"},
			{"bad is_public", "2.1", valid(map[string]any{"os-flavor-access:is_public": "maybe"}), 400, "'maybe' is not one of [True,"},
			{"rxtx zero", "2.1", valid(map[string]any{"rxtx_factor": 0}), 400, "0 is less than or equal to the minimum of 0"},
			{"rxtx zero string", "2.1", valid(map[string]any{"rxtx_factor": "0.0"}), 400, "Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38"},
			{"description before 2.55", "2.54", valid(map[string]any{"description": "d"}), 400, "Additional properties are not allowed ('description' was unexpected)"},
			{"rxtx at 2.102", "2.102", valid(map[string]any{"rxtx_factor": 1}), 400, "Additional properties are not allowed ('rxtx_factor' was unexpected)"},
			{"bad description", "2.55", valid(map[string]any{"description": "a\u0001b"}), 400, "Invalid input for field/attribute description."},
			{"malformed json", "2.1", "{nope", 400, "Malformed request body"},
			{"duplicate id", "2.1", valid(map[string]any{"id": "1"}), 409, "Flavor with ID 1 already exists."},
			{"duplicate name", "2.1", valid(map[string]any{"name": "m1.tiny"}), 409, "Flavor with name m1.tiny already exists."},
		}
		for _, tc := range cases {
			r := c.As(adminToken, tc.version).Do("POST", "/v2.1/flavors", tc.body).Expect(t, tc.status)
			if m := faultMessage(t, r); !strings.HasPrefix(m, tc.msg) && !strings.Contains(m, tc.msg) {
				t.Errorf("%s: message %q, want %q", tc.name, m, tc.msg)
			}
		}
		// Non-admins are refused before their body is looked at (Nova
		// validates first; kumo tells an unauthorized caller nothing).
		c.As(userToken, "2.1").Do("POST", "/v2.1/flavors", valid(nil)).Expect(t, 403)
		c.As(userToken, "2.1").Do("POST", "/v2.1/flavors", map[string]any{}).Expect(t, 403)
	})
}

func TestFlavorCreateValues(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		admin := c.As(adminToken, "2.61")
		cases := []struct {
			name  string
			extra map[string]any
			check func(f map[string]any) bool
		}{
			{"generated id", map[string]any{}, func(f map[string]any) bool { return len(f["id"].(string)) == 36 }},
			{"null id", map[string]any{"id": nil}, func(f map[string]any) bool { return len(f["id"].(string)) == 36 }},
			{"numeric id", map[string]any{"id": 42}, func(f map[string]any) bool { return f["id"] == "42" }},
			{"string numbers", map[string]any{"id": "s", "ram": "256", "swap": "128", "OS-FLV-EXT-DATA:ephemeral": "3"}, func(f map[string]any) bool {
				return f["ram"] == float64(256) && f["swap"] == float64(128) && f["OS-FLV-EXT-DATA:ephemeral"] == float64(3)
			}},
			{"private", map[string]any{"os-flavor-access:is_public": "no"}, func(f map[string]any) bool { return f["os-flavor-access:is_public"] == false }},
			{"rxtx", map[string]any{"rxtx_factor": "2.5"}, func(f map[string]any) bool { return f["rxtx_factor"] == 2.5 }},
			{"description", map[string]any{"description": "hello"}, func(f map[string]any) bool {
				specs, ok := f["extra_specs"].(map[string]any)
				return f["description"] == "hello" && ok && len(specs) == 0
			}},
		}
		for i, tc := range cases {
			body := map[string]any{"name": "f" + string(rune('a'+i)), "ram": 64, "vcpus": 1, "disk": 0}
			for k, v := range tc.extra {
				body[k] = v
			}
			f := admin.Do("POST", "/v2.1/flavors", map[string]any{"flavor": body}).Expect(t, 200).JSON(t)["flavor"].(map[string]any)
			if !tc.check(f) {
				b, _ := json.Marshal(f)
				t.Errorf("%s: %s", tc.name, b)
			}
		}
	})
}

func TestFlavorUpdateAndDelete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		admin := c.As(adminToken, "2.55")
		body := map[string]any{"flavor": map[string]any{"description": "d1"}}
		c.As(adminToken, "2.54").Do("PUT", "/v2.1/flavors/1", body).Expect(t, 404)
		c.As(userToken, "2.55").Do("PUT", "/v2.1/flavors/1", body).Expect(t, 403)
		f := admin.Do("PUT", "/v2.1/flavors/1", body).Expect(t, 200).JSON(t)["flavor"].(map[string]any)
		if f["description"] != "d1" {
			t.Errorf("updated %v", f)
		}
		f = admin.Do("PUT", "/v2.1/flavors/1", map[string]any{"flavor": map[string]any{"description": nil}}).Expect(t, 200).JSON(t)["flavor"].(map[string]any)
		if v, ok := f["description"]; !ok || v != nil {
			t.Errorf("cleared description %v", f)
		}
		admin.Do("PUT", "/v2.1/flavors/1", map[string]any{"flavor": map[string]any{"name": "x"}}).Expect(t, 400)
		admin.Do("PUT", "/v2.1/flavors/1", map[string]any{"flavor": map[string]any{}}).Expect(t, 400)
		admin.Do("PUT", "/v2.1/flavors/nope", body).Expect(t, 404)

		c.As(userToken, "2.1").Do("DELETE", "/v2.1/flavors/2", nil).Expect(t, 403)
		r := admin.Do("DELETE", "/v2.1/flavors/2", nil).Expect(t, 202)
		if len(r.Body) != 0 {
			t.Errorf("delete body %q", r.Body)
		}
		admin.Do("DELETE", "/v2.1/flavors/2", nil).Expect(t, 404)
		admin.Do("GET", "/v2.1/flavors/2", nil).Expect(t, 404)
	})
}

func TestFlavorExtraSpecs(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		cases := []struct {
			name, version, method, path string
			token                       string
			body                        any
			status                      int
			msg                         string
		}{
			{"non-admin create", "2.1", "POST", "/flavors/1/os-extra_specs", userToken, map[string]any{"extra_specs": map[string]any{"a": "b"}}, 403, ""},
			{"missing key", "2.1", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{}, 400, "'extra_specs' is a required property"},
			{"bad key", "2.1", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"a/b": "c"}}, 400, "Invalid input for field/attribute extra_specs. Value: {'a/b': 'c'}. 'a/b' does not match any of the regexes"},
			{"null value", "2.1", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"a": nil}}, 400, "Invalid input for field/attribute a. Value: None. None is not of type 'string', 'number'"},
			{"long value", "2.1", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"a": strings.Repeat("x", 256)}}, 400, "Invalid input for field/attribute a. Value: xxx"},
			{"missing flavor", "2.1", "POST", "/flavors/nope/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"a": "b"}}, 404, "Flavor nope could not be found."},
			{"unknown hw spec before 2.86", "2.85", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"hw:bogus": "1"}}, 200, ""},
			{"unknown hw spec at 2.86", "2.86", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"hw:bogus": "1"}}, 400, "Validation failed; extra spec 'hw:bogus' does not appear to be a valid extra spec."},
			{"bad cpu policy", "2.86", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"hw:cpu_policy": "fast"}}, 400, "Validation failed; 'fast' is not one of: dedicated, shared, mixed."},
			{"numeric value", "2.86", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"hw:numa_nodes": 2}}, 200, ""},
			{"unknown namespace", "2.86", "POST", "/flavors/1/os-extra_specs", adminToken, map[string]any{"extra_specs": map[string]any{"mine:thing": "x"}}, 200, ""},
			{"uri mismatch", "2.1", "PUT", "/flavors/1/os-extra_specs/a", adminToken, map[string]any{"b": "c"}, 400, "Request body and URI mismatch"},
			{"two keys", "2.1", "PUT", "/flavors/1/os-extra_specs/a", adminToken, map[string]any{"a": "1", "b": "2"}, 400, "{'a': '1', 'b': '2'} has too many properties"},
			{"no keys", "2.1", "PUT", "/flavors/1/os-extra_specs/a", adminToken, map[string]any{}, 400, "{} does not have enough properties"},
			{"non-admin put", "2.1", "PUT", "/flavors/1/os-extra_specs/a", userToken, map[string]any{"a": "1"}, 403, ""},
			{"put bad mem page", "2.86", "PUT", "/flavors/1/os-extra_specs/hw:mem_page_size", adminToken, map[string]any{"hw:mem_page_size": "huge"}, 400, "Validation failed; 'huge' is not of the format"},
			{"put", "2.86", "PUT", "/flavors/1/os-extra_specs/hw:mem_page_size", adminToken, map[string]any{"hw:mem_page_size": "large"}, 200, ""},
			{"show", "2.1", "GET", "/flavors/1/os-extra_specs/hw:mem_page_size", userToken, nil, 200, ""},
			{"show missing", "2.1", "GET", "/flavors/1/os-extra_specs/nope", userToken, nil, 404, "Flavor 1 has no extra specs with key nope."},
			{"show query at 2.102", "2.102", "GET", "/flavors/1/os-extra_specs?x=1", userToken, nil, 400, "Additional properties are not allowed ('x' was unexpected)"},
			{"list query before 2.102", "2.101", "GET", "/flavors/1/os-extra_specs?x=1", userToken, nil, 200, ""},
			{"non-admin delete", "2.1", "DELETE", "/flavors/1/os-extra_specs/hw:mem_page_size", userToken, nil, 403, ""},
			{"delete", "2.1", "DELETE", "/flavors/1/os-extra_specs/hw:mem_page_size", adminToken, nil, 200, ""},
			{"delete missing", "2.1", "DELETE", "/flavors/1/os-extra_specs/hw:mem_page_size", adminToken, nil, 404, "Flavor 1 has no extra specs with key hw:mem_page_size."},
		}
		for _, tc := range cases {
			r := c.As(tc.token, tc.version).Do(tc.method, "/v2.1"+tc.path, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
				continue
			}
			if tc.msg != "" && !strings.HasPrefix(faultMessage(t, r), tc.msg) {
				t.Errorf("%s: message %q, want %q", tc.name, faultMessage(t, r), tc.msg)
			}
		}
		specs := c.As(userToken, "2.1").Do("GET", "/v2.1/flavors/1/os-extra_specs", nil).Expect(t, 200).JSON(t)["extra_specs"].(map[string]any)
		if specs["hw:numa_nodes"] != "2" || specs["hw:bogus"] != "1" || specs["mine:thing"] != "x" {
			t.Errorf("specs %v (numbers must be stored as strings)", specs)
		}
		f := c.As(userToken, "2.61").Do("GET", "/v2.1/flavors/1", nil).Expect(t, 200).JSON(t)["flavor"].(map[string]any)
		if f["extra_specs"].(map[string]any)["hw:numa_nodes"] != "2" {
			t.Errorf("flavor extra_specs %v", f["extra_specs"])
		}
	})
}

func TestFlavorAccessErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		admin := c.As(adminToken, "2.7")
		admin.Do("POST", "/v2.1/flavors", map[string]any{"flavor": map[string]any{
			"name": "private", "id": "priv", "ram": 64, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": false}}).Expect(t, 200)
		add := func(tenant any) map[string]any {
			return map[string]any{"addTenantAccess": map[string]any{"tenant": tenant}}
		}
		remove := func(tenant any) map[string]any {
			return map[string]any{"removeTenantAccess": map[string]any{"tenant": tenant}}
		}
		cases := []struct {
			name, method, path, token string
			body                      any
			status                    int
			msg                       string
		}{
			{"public list", "GET", "/flavors/1/os-flavor-access", adminToken, nil, 404, "Access list not available for public flavors."},
			{"non-admin list", "GET", "/flavors/priv/os-flavor-access", userToken, nil, 403, ""},
			{"missing flavor list", "GET", "/flavors/nope/os-flavor-access", adminToken, nil, 404, "Flavor nope could not be found."},
			{"add", "POST", "/flavors/priv/action", adminToken, add("p9"), 200, ""},
			{"add again", "POST", "/flavors/priv/action", adminToken, add("p9"), 409, "Flavor access already exists for flavor priv and project p9 combination."},
			{"add public", "POST", "/flavors/1/action", adminToken, add("p9"), 409, "Can not add access to a public flavor."},
			{"add missing flavor", "POST", "/flavors/nope/action", adminToken, add("p9"), 404, "Flavor nope could not be found."},
			{"add non-admin", "POST", "/flavors/priv/action", userToken, add("p9"), 403, ""},
			{"add empty tenant", "POST", "/flavors/priv/action", adminToken, add(""), 400, "Invalid input for field/attribute tenant. Value: . '' is too short"},
			{"add no tenant", "POST", "/flavors/priv/action", adminToken, map[string]any{"addTenantAccess": map[string]any{}}, 400, "Invalid input for field/attribute addTenantAccess. Value: {}. 'tenant' is a required property"},
			{"unknown action", "POST", "/flavors/priv/action", adminToken, map[string]any{"grant": map[string]any{}}, 400, "There is no such action: grant"},
			{"two actions", "POST", "/flavors/priv/action", adminToken, map[string]any{"addTenantAccess": map[string]any{"tenant": "a"}, "removeTenantAccess": map[string]any{"tenant": "a"}}, 400, "Malformed request body"},
			{"remove missing", "POST", "/flavors/priv/action", adminToken, remove("p8"), 404, "Flavor access not found for priv / p8 combination."},
			{"remove", "POST", "/flavors/priv/action", adminToken, remove("p9"), 200, ""},
			{"remove non-admin", "POST", "/flavors/priv/action", userToken, remove("p9"), 403, ""},
		}
		for _, tc := range cases {
			r := c.As(tc.token, "2.7").Do(tc.method, "/v2.1"+tc.path, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
				continue
			}
			if tc.msg != "" && faultMessage(t, r) != tc.msg {
				t.Errorf("%s: message %q, want %q", tc.name, faultMessage(t, r), tc.msg)
			}
		}
	})
}

func TestLegacyV2DropsUnknownBodyKeys(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		body := map[string]any{"flavor": map[string]any{"name": "legacy", "id": "lg", "ram": 64, "vcpus": 1, "disk": 0, "description": "ignored"}, "extra": 1}
		f := c.As(adminToken, "").Do("POST", "/v2/flavors", body).Expect(t, 200).JSON(t)["flavor"].(map[string]any)
		if _, ok := f["description"]; ok || f["id"] != "lg" {
			t.Errorf("legacy create %v", f)
		}
		if h := c.As(adminToken, "").Do("GET", "/v2/flavors/lg", nil).Expect(t, 200).Header.Get("OpenStack-API-Version"); h != "" {
			t.Errorf("legacy endpoint sent version header %q", h)
		}
		// The same body is refused on /v2.1.
		body["flavor"].(map[string]any)["id"] = "lg2"
		c.As(adminToken, "2.1").Do("POST", "/v2.1/flavors", body).Expect(t, 400)
	})
}

func TestHugeLimitIsClamped(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		r := c.As(userToken, "2.1").Do("GET", "/v2.1/flavors?limit=99999999999999999999999", nil).Expect(t, 200)
		if ids := flavorIDs(t, r); len(ids) != 5 {
			t.Errorf("flavors %v", ids)
		}
	})
}
