package compute_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/flavor"
)

// TestServerCreateSamples sends every create request sample Nova has (at
// its folder's microversion, pointed at kumo's image, flavor and host)
// and checks the answer against the matching response sample.
func TestServerCreateSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		for i, s := range []struct{ version, req, resp, token string }{
			{"2.1", "servers/server-create-req.json", "servers/server-create-resp.json", userToken},
			{"2.19", "servers/v2.19/server-create-req.json", "servers/v2.19/server-create-resp.json", userToken},
			{"2.32", "servers/v2.32/server-create-req.json", "servers/v2.32/server-create-resp.json", userToken},
			{"2.37", "servers/v2.37/server-create-req.json", "servers/v2.37/server-create-resp.json", userToken},
			{"2.37", "servers/server-create-req-v237.json", "servers/v2.37/server-create-resp.json", userToken},
			{"2.42", "servers/v2.42/server-create-req.json", "servers/v2.42/server-create-resp.json", userToken},
			{"2.47", "servers/v2.47/server-create-req.json", "servers/v2.47/server-create-resp.json", userToken},
			{"2.52", "servers/v2.52/server-create-req.json", "servers/v2.52/server-create-resp.json", userToken},
			{"2.57", "servers/v2.57/server-create-req.json", "servers/v2.57/server-create-resp.json", userToken},
			{"2.57", "servers/server-create-req-v257.json", "servers/v2.57/server-create-resp.json", userToken},
			{"2.63", "servers/v2.63/server-create-req.json", "servers/v2.63/server-create-resp.json", userToken},
			{"2.66", "servers/v2.66/server-create-req.json", "servers/v2.66/server-create-resp.json", userToken},
			{"2.67", "servers/v2.67/server-create-req.json", "servers/v2.67/server-create-resp.json", userToken},
			{"2.69", "servers/v2.69/server-create-req.json", "servers/v2.69/server-create-resp.json", userToken},
			{"2.71", "servers/v2.71/server-create-req.json", "servers/v2.71/server-create-resp.json", userToken},
			{"2.73", "servers/v2.73/server-create-req.json", "servers/v2.73/server-create-resp.json", userToken},
			{"2.74", "servers/v2.74/server-create-req-with-host-and-node.json", "servers/v2.74/server-create-resp.json", adminToken},
			{"2.74", "servers/v2.74/server-create-req-with-only-host.json", "servers/v2.74/server-create-resp.json", adminToken},
			{"2.74", "servers/v2.74/server-create-req-with-only-node.json", "servers/v2.74/server-create-resp.json", adminToken},
			{"2.90", "servers/v2.90/server-create-req.json", "servers/v2.90/server-create-resp.json", userToken},
			{"2.94", "servers/v2.94/server-create-req.json", "servers/v2.94/server-create-resp.json", userToken},
			{"2.100", "servers/v2.100/server-create-req.json", "servers/v2.100/server-create-resp.json", userToken},
			{"2.104", "servers/v2.100/server-create-req.json", "servers/v2.100/server-create-resp.json", userToken},
			{"2.1", "os-multiple-create/multiple-create-no-resv-post-req.json", "os-multiple-create/multiple-create-no-resv-post-resp.json", userToken},
			{"2.1", "os-multiple-create/multiple-create-post-req.json", "os-multiple-create/multiple-create-post-resp.json", userToken},
		} {
			token := s.token
			if token == userToken {
				// A project per sample keeps each within the instance quota.
				token = fmt.Sprintf("u%d:p%d", i, i)
			}
			t.Run(s.version+"/"+s.req, func(t *testing.T) {
				r := cc.client.As(token, s.version).Do("POST", "/v2.1/servers", cc.sampleRequest(t, s.req, s.version, token)).Expect(t, 202)
				apisamples.Assert(t, "nova/api_samples/"+s.resp, r.Body, apisamples.Options{})
				body := r.JSON(t)
				if _, ok := body["reservation_id"]; ok {
					return
				}
				server := body["server"].(map[string]any)
				self := server["links"].([]any)[0].(map[string]any)["href"].(string)
				if loc := r.Header.Get("Location"); loc != self || !strings.HasSuffix(loc, "/v2.1/servers/"+server["id"].(string)) {
					t.Fatalf("Location %q, self link %q", loc, self)
				}
				if pass, _ := server["adminPass"].(string); pass == "" {
					t.Fatalf("no adminPass: %s", r.Body)
				}
			})
		}
	})
}

// TestServerCreateBecomesActive follows a create to ACTIVE and checks
// what the server was built with.
func TestServerCreateBecomesActive(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		for _, tc := range []struct {
			version     string
			extra       map[string]any
			description *string
			tags        []string
			diskConfig  string
		}{
			{"2.1", map[string]any{"metadata": map[string]any{"role": "web"}}, strPtr("web"), nil, "MANUAL"},
			{"2.19", map[string]any{"description": "front end", "OS-DCF:diskConfig": "AUTO"}, strPtr("front end"), nil, "AUTO"},
			{"2.19", map[string]any{"description": nil}, nil, nil, "MANUAL"},
			{"2.52", map[string]any{"tags": []any{"a", "b", "a"}}, nil, []string{"a", "b"}, "MANUAL"},
		} {
			r := cc.client.As(userToken, tc.version).Do("POST", "/v2.1/servers", cc.body(tc.version, tc.extra)).Expect(t, 202)
			server := r.JSON(t)["server"].(map[string]any)
			if server["OS-DCF:diskConfig"] != tc.diskConfig {
				t.Fatalf("%s: diskConfig %v", tc.version, server["OS-DCF:diskConfig"])
			}
			srv := cc.waitForStatus(t, server["id"].(string), "ACTIVE")
			if srv.Name != "web" || srv.ProjectID != "p1" || srv.UserID != "u1" || srv.ImageRef != cc.ImageID || srv.Flavor.ID != "1" {
				t.Fatalf("%s: built %+v", tc.version, srv)
			}
			if (srv.Description == nil) != (tc.description == nil) || (srv.Description != nil && *srv.Description != *tc.description) {
				t.Fatalf("%s: description %v, want %v", tc.version, srv.Description, tc.description)
			}
			if strings.Join(srv.Tags, ",") != strings.Join(tc.tags, ",") {
				t.Fatalf("%s: tags %v, want %v", tc.version, srv.Tags, tc.tags)
			}
			if got := shownGroups(t, cc.client, userToken, srv.ID); got != "default" {
				t.Fatalf("%s: security groups %v", tc.version, got)
			}
		}
	})
}

func strPtr(s string) *string { return &s }

// TestServerCreateMultiple covers min_count/max_count and
// return_reservation_id.
func TestServerCreateMultiple(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		db := cc.DB
		ctx := context.Background()
		count := func(resv string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE reservation_id = ?`, resv).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		r := cc.client.As(userToken, "2.1").Do("POST", "/v2.1/servers",
			cc.body("2.1", map[string]any{"min_count": "2", "max_count": 3, "return_reservation_id": "True"})).Expect(t, 202)
		resv, _ := r.JSON(t)["reservation_id"].(string)
		if !strings.HasPrefix(resv, "r-") || count(resv) != 3 {
			t.Fatalf("reservation %q has %d servers: %s", resv, count(resv), r.Body)
		}
		if r.Header.Get("Location") != "" {
			t.Fatalf("reservation answer has a Location: %q", r.Header.Get("Location"))
		}

		r = cc.client.As(userToken, "2.37").Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"min_count": 2})).Expect(t, 202)
		first, err := cc.Compute.GetAny(ctx, r.JSON(t)["server"].(map[string]any)["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if first.LaunchIndex != 0 || count(first.ReservationID) != 2 || first.Name != "web-1" {
			t.Fatalf("first server %q index %d of %d", first.Name, first.LaunchIndex, count(first.ReservationID))
		}
		cc.waitForStatus(t, first.ID, "ACTIVE")
	})
}

// TestServerCreateLegacyV2 checks the /v2 endpoint's relaxed schema:
// unknown keys are dropped and names may carry outer spaces (stripped).
func TestServerCreateLegacyV2(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		body := cc.body("2.1", map[string]any{"name": "  legacy  ", "future_field": 1})
		body["server"].(map[string]any)["user_data"] = nil
		r := cc.client.As(userToken, "").Do("POST", "/v2/servers", body).Expect(t, 202)
		id := r.JSON(t)["server"].(map[string]any)["id"].(string)
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/v2/servers/"+id) {
			t.Fatalf("Location %q", loc)
		}
		if srv := cc.waitForStatus(t, id, "ACTIVE"); srv.Name != "legacy" {
			t.Fatalf("name %q", srv.Name)
		}
	})
}

// TestServerCreatePlacementRules covers the zero-disk flavor policy and
// forced hosts in a zone they are not in.
func TestServerCreatePlacementRules(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		if _, err := cc.Flavors.Create(context.Background(), flavor.CreateInput{ID: "zero", Name: "zero", VCPUs: 1, RAM: 64, IsPublic: true}); err != nil {
			t.Fatal(err)
		}
		r := cc.client.As(userToken, "2.1").Do("POST", "/v2.1/servers", cc.body("2.1", map[string]any{"flavorRef": "zero"})).Expect(t, 403)
		if msg := faultMessage(t, r); msg != "Only volume-backed servers are allowed for flavors with zero disk." {
			t.Fatalf("zero disk: %q", msg)
		}
		r = cc.client.As(userToken, "2.1").Do("POST", "/v2.1/servers", cc.body("2.1", map[string]any{"flavorRef": "zero", "imageRef": netA})).Expect(t, 400)
		if msg := faultMessage(t, r); msg != "Can not find requested image" {
			t.Fatalf("zero disk, unknown image: %q", msg)
		}
		cc.client.As(adminToken, "2.1").Do("POST", "/v2.1/servers", cc.body("2.1", map[string]any{"flavorRef": "zero"})).Expect(t, 202)

		r = cc.client.As(adminToken, "2.1").Do("POST", "/v2.1/servers", cc.body("2.1", map[string]any{"availability_zone": "elsewhere:fake-host"})).Expect(t, 202)
		srv := cc.waitForStatus(t, r.JSON(t)["server"].(map[string]any)["id"].(string), "ACTIVE")
		if srv.Host != "fake-host" || srv.AZ != "nova" {
			t.Fatalf("forced host: host %q zone %q", srv.Host, srv.AZ)
		}
		r = cc.client.As(adminToken, "2.1").Do("POST", "/v2.1/servers", cc.body("2.1", map[string]any{"availability_zone": "elsewhere::fake-host"})).Expect(t, 400)
		if msg := faultMessage(t, r); msg != "The requested availability zone is not available" {
			t.Fatalf("forced node in unknown zone: %q", msg)
		}
	})
}

// TestServerCreateStoresRequest checks that what the body asks for is
// what the server gets: scheduler hints (os:scheduler_hints winning over
// the OS-SCH-HNT alias), config drive, access addresses, user data,
// zone, security groups and hostname.
func TestServerCreateStoresRequest(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		for _, name := range []string{"web", "db"} { // the groups must exist in the project
			body := map[string]any{"security_group": map[string]any{"name": name, "description": ""}}
			cc.client.As("u1:p1", "2.1").Do("POST", "/v2.1/os-security-groups", body).Expect(t, http.StatusOK)
		}
		body := cc.body("2.90", map[string]any{
			"config_drive": "yes", "accessIPv4": "192.0.2.1", "accessIPv6": "2001:db8::1",
			"user_data": "IyEvYmluL3NoCg==", "availability_zone": "nova", "hostname": "db-1",
			"security_groups": []any{map[string]any{"name": "web"}, map[string]any{"name": "web"}, map[string]any{"name": "db"}},
		})
		body["os:scheduler_hints"] = map[string]any{"cidr": "/24"}
		body["OS-SCH-HNT:scheduler_hints"] = map[string]any{"cidr": "/16"}
		r := cc.client.As(userToken, "2.90").Do("POST", "/v2.1/servers", body).Expect(t, 202)
		server := r.JSON(t)["server"].(map[string]any)
		if groups := fmt.Sprint(server["security_groups"]); groups != "[map[name:web] map[name:web] map[name:db]]" {
			t.Fatalf("security_groups echo %s", groups)
		}
		srv := cc.waitForStatus(t, server["id"].(string), "ACTIVE")
		switch {
		case fmt.Sprint(srv.SchedulerHints) != "map[cidr:/24]":
			t.Fatalf("hints %v", srv.SchedulerHints)
		case srv.ConfigDrive != "True" || srv.AccessIPv4 != "192.0.2.1" || srv.AccessIPv6 != "2001:db8::1":
			t.Fatalf("config drive %q, access %q %q", srv.ConfigDrive, srv.AccessIPv4, srv.AccessIPv6)
		case srv.UserData != "IyEvYmluL3NoCg==" || srv.AZ != "nova" || srv.Hostname != "db-1":
			t.Fatalf("user data %q, zone %q, hostname %q", srv.UserData, srv.AZ, srv.Hostname)
		// The server has a port, whose groups (Neutron's) are listed by name.
		case shownGroups(t, cc.client, userToken, srv.ID) != "db,web":
			t.Fatalf("security groups %v", shownGroups(t, cc.client, userToken, srv.ID))
		}
		bad := cc.body("2.1", nil)
		bad["server"].(map[string]any)["user_data"] = nil
		r = cc.client.As(userToken, "2.1").Do("POST", "/v2.1/servers", bad).Expect(t, 400)
		if msg := faultMessage(t, r); msg != "Invalid input for field/attribute user_data. Value: None. None is not of type 'string'" {
			t.Fatalf("null user_data: %q", msg)
		}
	})
}
