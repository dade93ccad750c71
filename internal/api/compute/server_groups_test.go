package compute_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestServerGroupSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		gc := newServersCloud(t, database)
		dir := "nova/api_samples/os-server-groups/"
		for _, v := range []struct{ version, folder string }{{"2.1", ""}, {"2.13", "v2.13/"}, {"2.64", "v2.64/"}} {
			cl := gc.api.As(userToken, v.version)
			req := apisamples.Load(t, dir+v.folder+"server-groups-post-req.json")
			created := cl.Do("POST", "/v2.1/os-server-groups", req).Expect(t, 200)
			apisamples.Assert(t, dir+v.folder+"server-groups-post-resp.json", created.Body, apisamples.Options{})
			id := created.JSON(t)["server_group"].(map[string]any)["id"].(string)
			apisamples.Assert(t, dir+v.folder+"server-groups-get-resp.json",
				cl.Do("GET", "/v2.1/os-server-groups/"+id, nil).Expect(t, 200).Body, apisamples.Options{})
			apisamples.Assert(t, dir+v.folder+"server-groups-list-resp.json",
				cl.Do("GET", "/v2.1/os-server-groups", nil).Expect(t, 200).Body, apisamples.Options{})
			cl.Do("DELETE", "/v2.1/os-server-groups/"+id, nil).Expect(t, 204)
		}
	})
}

func TestServerGroupSemantics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		gc := newServersCloud(t, database)
		cl := gc.api.As(userToken, "2.64")
		create := func(cl *apitest.Client, body string) map[string]any {
			return cl.Do("POST", "/v2.1/os-server-groups", body).Expect(t, 200).JSON(t)["server_group"].(map[string]any)
		}
		g := create(cl, `{"server_group": {"name": "web", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}}`)
		if g["policy"] != "anti-affinity" || g["rules"].(map[string]any)["max_server_per_host"] != float64(2) || g["user_id"] != "u1" {
			t.Fatalf("created: %v", g)
		}
		id := g["id"].(string)

		// A server created with the group hint is a member (2.71: server_groups in show).
		srv := gc.api.As(userToken, "2.71").Do("POST", "/v2.1/servers", map[string]any{
			"server":             map[string]any{"name": "m", "imageRef": gc.ImageID, "flavorRef": "1", "networks": "none"},
			"os:scheduler_hints": map[string]any{"group": id},
		}).Expect(t, 202).JSON(t)["server"].(map[string]any)["id"].(string)
		members := cl.Do("GET", "/v2.1/os-server-groups/"+id, nil).Expect(t, 200).JSON(t)["server_group"].(map[string]any)["members"].([]any)
		if len(members) != 1 || members[0] != srv {
			t.Fatalf("members %v, want [%s]", members, srv)
		}
		shown := gc.api.As(userToken, "2.71").Do("GET", "/v2.1/servers/"+srv, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if sg := shown["server_groups"].([]any); len(sg) != 1 || sg[0] != id {
			t.Fatalf("server_groups %v, want [%s]", sg, id)
		}
		msg := faultMessage(t, gc.api.As(userToken, "2.71").Do("POST", "/v2.1/servers", map[string]any{
			"server":             map[string]any{"name": "m", "imageRef": gc.ImageID, "flavorRef": "1", "networks": "none"},
			"os:scheduler_hints": map[string]any{"group": "00000000-0000-0000-0000-000000000000"},
		}).Expect(t, 400))
		if msg != "Instance group 00000000-0000-0000-0000-000000000000 could not be found." {
			t.Fatalf("unknown group hint: %q", msg)
		}

		// Other projects neither see nor delete it; an admin sees all with all_projects.
		other := gc.api.As("u2:p2", "2.64")
		other.Do("GET", "/v2.1/os-server-groups/"+id, nil).Expect(t, 404)
		other.Do("DELETE", "/v2.1/os-server-groups/"+id, nil).Expect(t, 404)
		if l := other.Do("GET", "/v2.1/os-server-groups?all_projects=True", nil).Expect(t, 200).JSON(t)["server_groups"].([]any); len(l) != 0 {
			t.Fatalf("non-admin all_projects: %v", l)
		}
		create(other, `{"server_group": {"name": "theirs", "policy": "affinity"}}`)
		admin := gc.api.As(adminToken, "2.64")
		if l := admin.Do("GET", "/v2.1/os-server-groups?all_projects=True", nil).Expect(t, 200).JSON(t)["server_groups"].([]any); len(l) != 2 {
			t.Fatalf("admin all_projects: %d groups", len(l))
		}
		if l := admin.Do("GET", "/v2.1/os-server-groups?all_projects=True&limit=1&offset=1", nil).Expect(t, 200).JSON(t)["server_groups"].([]any); len(l) != 1 || l[0].(map[string]any)["name"] != "theirs" {
			t.Fatalf("limit/offset: %v", l)
		}
		if l := admin.Do("GET", "/v2.1/os-server-groups", nil).Expect(t, 200).JSON(t)["server_groups"].([]any); len(l) != 0 {
			t.Fatalf("admin own project: %v", l)
		}

		errCases := []struct {
			name, version, body string
			status              int
			msg                 string
		}{
			{"soft policy before 2.15", "2.14", `{"server_group": {"name": "a", "policies": ["soft-affinity"]}}`, 400, "is not one of"},
			{"two policies", "2.1", `{"server_group": {"name": "a", "policies": ["affinity", "anti-affinity"]}}`, 400, "is too long"},
			{"no policies", "2.1", `{"server_group": {"name": "a", "policies": []}}`, 400, "should be non-empty"},
			{"policies at 2.64", "2.64", `{"server_group": {"name": "a", "policies": ["affinity"]}}`, 400, "'policy' is a required property"},
			{"rules with affinity", "2.64", `{"server_group": {"name": "a", "policy": "affinity", "rules": {"max_server_per_host": 1}}}`, 400, "Only anti-affinity policy supports rules."},
			{"zero per host", "2.64", `{"server_group": {"name": "a", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}}`, 400, "less than the minimum of 1"},
			{"empty name", "2.64", `{"server_group": {"name": "", "policy": "affinity"}}`, 400, "Invalid input for field/attribute name"},
			{"unknown key", "2.64", `{"server_group": {"name": "a", "policy": "affinity", "x": 1}}`, 400, "Additional properties are not allowed"},
		}
		for _, tc := range errCases {
			t.Run(tc.name, func(t *testing.T) {
				msg := faultMessage(t, gc.api.As(userToken, tc.version).Do("POST", "/v2.1/os-server-groups", tc.body).Expect(t, tc.status))
				if !strings.Contains(msg, tc.msg) {
					t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}

		// The server_groups quota (10 by default) is Nova's 403.
		for i := 0; i < 9; i++ {
			create(cl, `{"server_group": {"name": "many", "policy": "affinity"}}`)
		}
		if msg := faultMessage(t, cl.Do("POST", "/v2.1/os-server-groups", `{"server_group": {"name": "x", "policy": "affinity"}}`).Expect(t, 403)); msg != "Quota exceeded, too many server groups." {
			t.Fatalf("quota: %q", msg)
		}
		cl.Do("DELETE", "/v2.1/os-server-groups/"+id, nil).Expect(t, 204)
		cl.Do("GET", "/v2.1/os-server-groups/"+id, nil).Expect(t, 404)
	})
}

// The hard policies place members as Nova's filters do on one host:
// affinity keeps them together, anti-affinity allows max_server_per_host
// (1 by default) and then ends in No valid host (ERROR).
func TestServerGroupPolicies(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		gc := newServersCloud(t, database)
		cl := gc.api.As(userToken, "2.64")
		group := func(body string) string {
			return cl.Do("POST", "/v2.1/os-server-groups", body).Expect(t, 200).JSON(t)["server_group"].(map[string]any)["id"].(string)
		}
		boot := func(groupID string) (status string, fault any) {
			id := cl.Do("POST", "/v2.1/servers", map[string]any{
				"server":             map[string]any{"name": "m", "imageRef": gc.ImageID, "flavorRef": "1", "networks": "none"},
				"os:scheduler_hints": map[string]any{"group": groupID},
			}).Expect(t, 202).JSON(t)["server"].(map[string]any)["id"].(string)
			srv := cl.Do("GET", "/v2.1/servers/"+id, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
			return srv["status"].(string), srv["fault"]
		}
		for _, tc := range []struct {
			name, body string
			want       []string // status of each member in turn
		}{
			{"affinity", `{"server_group": {"name": "a", "policy": "affinity"}}`, []string{"BUILD", "BUILD", "BUILD"}},
			{"anti-affinity", `{"server_group": {"name": "b", "policy": "anti-affinity"}}`, []string{"BUILD", "ERROR"}},
			{"anti-affinity 2 per host", `{"server_group": {"name": "c", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}}`, []string{"BUILD", "BUILD", "ERROR"}},
			{"soft-anti-affinity", `{"server_group": {"name": "d", "policy": "soft-anti-affinity"}}`, []string{"BUILD", "BUILD"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := group(tc.body)
				for i, want := range tc.want {
					status, fault := boot(id)
					if status == "ACTIVE" {
						status = "BUILD" // the fake driver may already have finished
					}
					if status != want {
						t.Fatalf("member %d: status %s (fault %v), want %s", i+1, status, fault, want)
					}
					if want == "ERROR" && !strings.Contains(fmt.Sprint(fault), "No valid host") {
						t.Fatalf("member %d: fault %v, want No valid host", i+1, fault)
					}
				}
			})
		}
	})
}
