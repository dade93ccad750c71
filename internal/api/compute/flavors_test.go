package compute_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/flavor"
)

const (
	adminToken = "admin:admin"
	userToken  = "u1:p1"
)

// flavorAPI is the compute API of a new cloud (its flavors seeded, as
// kumo seeds them) and the cloud's flavor service.
func flavorAPI(t *testing.T, database string) (*apitest.Client, *flavor.Service) {
	t.Helper()
	c, client := newCloud(t, database, computetest.Options{})
	return client, c.Flavors
}

// sampleFixture adds flavors 6 and 7 as Nova's api_samples have them.
func sampleFixture(t *testing.T, svc *flavor.Service) {
	t.Helper()
	ctx := context.Background()
	desc := "test description"
	for _, in := range []struct {
		f     flavor.CreateInput
		specs map[string]string
	}{
		{flavor.CreateInput{ID: "6", Name: "m1.tiny.specs", VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}, map[string]string{"hw:numa_nodes": "1"}},
		{flavor.CreateInput{ID: "7", Name: "m1.small.description", VCPUs: 1, RAM: 2048, Disk: 20, IsPublic: true, Description: &desc},
			map[string]string{"hw:numa_nodes": "1", "hw:cpu_policy": "shared"}},
	} {
		if _, err := svc.Create(ctx, in.f); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetExtraSpecs(ctx, in.f.ID, in.specs); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFlavorSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, svc := flavorAPI(t, database)
		sampleFixture(t, svc)
		for _, v := range []struct{ version, dir, showID string }{
			{"2.1", "", "1"}, {"2.55", "v2.55/", "7"}, {"2.61", "v2.61/", "7"}, {"2.75", "v2.75/", "7"}, {"2.102", "v2.102/", "7"},
		} {
			t.Run(v.version, func(t *testing.T) {
				for _, token := range []string{adminToken, userToken} {
					cl := c.As(token, v.version)
					base := "nova/api_samples/flavors/" + v.dir
					apisamples.Assert(t, base+"flavors-list-resp.json", cl.Do("GET", "/v2.1/flavors", nil).Expect(t, 200).Body, apisamples.Options{})
					apisamples.Assert(t, base+"flavors-detail-resp.json", cl.Do("GET", "/v2.1/flavors/detail", nil).Expect(t, 200).Body, apisamples.Options{})
					apisamples.Assert(t, base+"flavor-get-resp.json", cl.Do("GET", "/v2.1/flavors/"+v.showID, nil).Expect(t, 200).Body, apisamples.Options{})
				}
			})
		}
	})
}

func TestFlavorManageSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		for _, v := range []struct{ version, dir string }{
			{"2.1", ""}, {"2.55", "v2.55/"}, {"2.61", "v2.61/"}, {"2.75", "v2.75/"}, {"2.102", "v2.102/"},
		} {
			t.Run(v.version, func(t *testing.T) {
				cl := c.As(adminToken, v.version)
				base := "nova/api_samples/flavor-manage/" + v.dir
				req := apisamples.Load(t, base+"flavor-create-post-req.json")
				resp := cl.Do("POST", "/v2.1/flavors", req).Expect(t, 200)
				apisamples.Assert(t, base+"flavor-create-post-resp.json", resp.Body, apisamples.Options{})
				if v.dir != "" {
					upd := apisamples.Load(t, base+"flavor-update-req.json")
					apisamples.Assert(t, base+"flavor-update-resp.json",
						cl.Do("PUT", "/v2.1/flavors/1", upd).Expect(t, 200).Body, apisamples.Options{})
				}
				cl.Do("DELETE", "/v2.1/flavors/10", nil).Expect(t, 202)
			})
		}
	})
}

func TestFlavorAccessSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		cl := c.As(adminToken, "2.1")
		base := "nova/api_samples/flavor-access/"
		cl.Do("POST", "/v2.1/flavors", apisamples.Load(t, base+"flavor-create-req.json")).Expect(t, 200)
		add := cl.Do("POST", "/v2.1/flavors/10/action", apisamples.Load(t, base+"flavor-access-add-tenant-req.json")).Expect(t, 200)
		apisamples.Assert(t, base+"flavor-access-add-tenant-resp.json", add.Body, apisamples.Options{})
		apisamples.Assert(t, base+"flavor-access-list-resp.json",
			cl.Do("GET", "/v2.1/flavors/10/os-flavor-access", nil).Expect(t, 200).Body, apisamples.Options{})
		rm := cl.Do("POST", "/v2.1/flavors/10/action", apisamples.Load(t, base+"flavor-access-remove-tenant-req.json")).Expect(t, 200)
		apisamples.Assert(t, base+"flavor-access-remove-tenant-resp.json", rm.Body, apisamples.Options{})

		// 2.7: adding access to a public flavor is a conflict.
		cl27 := c.As(adminToken, "2.7")
		req := apisamples.Load(t, base+"v2.7/flavor-create-req.json").(map[string]any)
		req["flavor"].(map[string]any)["id"] = "11"
		req["flavor"].(map[string]any)["name"] = "public_flavor"
		cl27.Do("POST", "/v2.1/flavors", req).Expect(t, 200)
		cl27.Do("POST", "/v2.1/flavors/11/action", apisamples.Load(t, base+"v2.7/flavor-access-add-tenant-req.json")).Expect(t, 409)
		// Before 2.7 Nova stored the grant anyway.
		c.As(adminToken, "2.6").Do("POST", "/v2.1/flavors/11/action", apisamples.Load(t, base+"flavor-access-add-tenant-req.json")).Expect(t, 200)
	})
}

func TestFlavorExtraSpecsSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := flavorAPI(t, database)
		for _, version := range []string{"2.1", "2.86", "2.104"} {
			t.Run(version, func(t *testing.T) {
				cl := c.As(adminToken, version)
				base := "nova/api_samples/flavor-extra-specs/"
				create := cl.Do("POST", "/v2.1/flavors/1/os-extra_specs", apisamples.Load(t, base+"flavor-extra-specs-create-req.json")).Expect(t, 200)
				apisamples.Assert(t, base+"flavor-extra-specs-create-resp.json", create.Body, apisamples.Options{})
				apisamples.Assert(t, base+"flavor-extra-specs-list-resp.json",
					c.As(userToken, version).Do("GET", "/v2.1/flavors/1/os-extra_specs", nil).Expect(t, 200).Body, apisamples.Options{})
				apisamples.Assert(t, base+"flavor-extra-specs-get-resp.json",
					c.As(userToken, version).Do("GET", "/v2.1/flavors/1/os-extra_specs/hw:numa_nodes", nil).Expect(t, 200).Body, apisamples.Options{})
				upd := cl.Do("PUT", "/v2.1/flavors/1/os-extra_specs/hw:numa_nodes", apisamples.Load(t, base+"flavor-extra-specs-update-req.json")).Expect(t, 200)
				apisamples.Assert(t, base+"flavor-extra-specs-update-resp.json", upd.Body, apisamples.Options{})
				cl.Do("DELETE", "/v2.1/flavors/1/os-extra_specs/hw:cpu_policy", nil).Expect(t, 200)
				cl.Do("DELETE", "/v2.1/flavors/1/os-extra_specs/hw:numa_nodes", nil).Expect(t, 200)
			})
		}
	})
}
