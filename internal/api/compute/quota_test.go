package compute_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/store"
)

// quotaAPI is the compute API of a new cloud and its store.
func quotaAPI(t *testing.T, database string) (*apitest.Client, *store.DB) {
	t.Helper()
	c, client := newCloud(t, database, computetest.Options{})
	return client, c.DB
}

var quotaInstanceSeq atomic.Int64

// addQuotaInstance inserts a live instance row consuming quota.
func addQuotaInstance(t *testing.T, db *store.DB, project, user string, vcpus, ram int) {
	t.Helper()
	ctx := context.Background()
	n := quotaInstanceSeq.Add(1)
	id := fmt.Sprintf("qi-%d", n)
	now := store.Now()
	cols := `id, project_id, user_id, name, hostname, reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, created_at, updated_at`
	vals := `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
	args := []any{id, project, user, id, id, "r-" + id, "1", "{}", vcpus, ram, 1, 0, "active", now, now}
	if rows, err := db.QueryContext(ctx, `SELECT number FROM instances WHERE 1 = 0`); err == nil {
		rows.Close()
		cols += `, number`
		vals += `, ?`
		args = append(args, n)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO instances (`+cols+`) VALUES (`+vals+`)`, args...); err != nil {
		t.Fatalf("insert instance: %v", err)
	}
}

// sampleBody reads a request sample as raw JSON.
func sampleBody(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apisamples.Root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestQuotaSetSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := quotaAPI(t, database)
		for _, v := range []struct{ version, dir string }{
			{"2.1", ""}, {"2.35", ""}, {"2.36", "v2.36/"}, {"2.56", "v2.36/"}, {"2.57", "v2.57/"}, {"2.104", "v2.57/"},
		} {
			t.Run(v.version, func(t *testing.T) {
				admin := c.As(adminToken, v.version)
				base := "nova/api_samples/os-quota-sets/" + v.dir
				p := "/v2.1/os-quota-sets/fake_tenant"
				apisamples.Assert(t, base+"quotas-show-get-resp.json", admin.Do("GET", p, nil).Expect(t, 200).Body, apisamples.Options{})
				apisamples.Assert(t, base+"user-quotas-show-get-resp.json", admin.Do("GET", p+"?user_id=fake_user", nil).Expect(t, 200).Body, apisamples.Options{})
				apisamples.Assert(t, base+"quotas-show-detail-get-resp.json", admin.Do("GET", p+"/detail", nil).Expect(t, 200).Body, apisamples.Options{})
				apisamples.Assert(t, base+"quotas-show-defaults-get-resp.json", admin.Do("GET", p+"/defaults", nil).Expect(t, 200).Body, apisamples.Options{})
				for _, s := range []struct{ req, resp, query string }{
					{"quotas-update-post-req.json", "quotas-update-post-resp.json", ""},
					{"quotas-update-force-post-req.json", "quotas-update-force-post-resp.json", ""},
					{"user-quotas-update-post-req.json", "user-quotas-update-post-resp.json", "?user_id=fake_user"},
				} {
					got := admin.Do("PUT", p+s.query, sampleBody(t, base+s.req)).Expect(t, 200)
					apisamples.Assert(t, base+s.resp, got.Body, apisamples.Options{})
				}
				admin.Do("DELETE", p, nil).Expect(t, 202)
				// The project owner reads its own quotas too.
				apisamples.Assert(t, base+"quotas-show-get-resp.json", c.As("u1:fake_tenant", v.version).Do("GET", p, nil).Expect(t, 200).Body, apisamples.Options{})
			})
		}
	})
}

func TestQuotaClassSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := quotaAPI(t, database)
		for _, v := range []struct{ version, dir string }{
			{"2.1", ""}, {"2.49", ""}, {"2.50", "v2.50/"}, {"2.57", "v2.57/"}, {"2.104", "v2.57/"},
		} {
			t.Run(v.version, func(t *testing.T) {
				admin := c.As(adminToken, v.version)
				base := "nova/api_samples/os-quota-class-sets/" + v.dir
				apisamples.Assert(t, base+"quota-classes-show-get-resp.json",
					admin.Do("GET", "/v2.1/os-quota-class-sets/default", nil).Expect(t, 200).Body, apisamples.Options{})
				got := admin.Do("PUT", "/v2.1/os-quota-class-sets/test_class", sampleBody(t, base+"quota-classes-update-post-req.json")).Expect(t, 200)
				apisamples.Assert(t, base+"quota-classes-update-post-resp.json", got.Body, apisamples.Options{})
				if b := got.JSON(t)["quota_class_set"].(map[string]any); b["instances"] != float64(50) || b["cores"] != float64(50) {
					t.Errorf("update answer does not show the new limits: %v", b)
				}
			})
		}
	})
}

func TestLimitsSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := quotaAPI(t, database)
		for _, v := range []struct{ version, dir string }{
			{"2.1", ""}, {"2.36", "v2.36/"}, {"2.38", "v2.36/"}, {"2.39", "v2.39/"}, {"2.56", "v2.39/"}, {"2.57", "v2.57/"}, {"2.104", "v2.57/"},
		} {
			t.Run(v.version, func(t *testing.T) {
				for _, token := range []string{adminToken, userToken} {
					got := c.As(token, v.version).Do("GET", "/v2.1/limits", nil).Expect(t, 200)
					apisamples.Assert(t, "nova/api_samples/limits/"+v.dir+"limit-get-resp.json", got.Body, apisamples.Options{})
				}
			})
		}
	})
}

// quotaSet decodes a quota_set answer.
func quotaSet(t *testing.T, r *apitest.Response) map[string]any {
	t.Helper()
	qs, ok := r.JSON(t)["quota_set"].(map[string]any)
	if !ok {
		t.Fatalf("no quota_set in %s", r.Body)
	}
	return qs
}

// With Keystone (kumo's builtin identity) the quota API refuses projects
// that do not exist, as Nova does; noauth has no projects to ask about.
func TestQuotaSetUnknownProject(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := apptest.New(t, apptest.Options{Database: database})
		for _, tc := range []struct {
			name, method string
			body         any
		}{
			{"show", "GET", nil},
			{"update", "PUT", `{"quota_set": {"instances": 5}}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Admin.As(c.Admin.Token, "2.1").Do(tc.method, "/v2.1/os-quota-sets/missing1", tc.body).Expect(t, 400)
				if msg := faultMessage(t, r); msg != "Project ID missing1 is not a valid project." {
					t.Errorf("message %q", msg)
				}
			})
		}
		c.Admin.Do("GET", "/v2.1/os-quota-sets/"+c.MemberProject, nil).Expect(t, 200)
	})
}

func TestQuotaSetBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, db := quotaAPI(t, database)
		addQuotaInstance(t, db, "p1", "u1", 2, 1024)
		addQuotaInstance(t, db, "p1", "u1", 2, 1024)
		addQuotaInstance(t, db, "p1", "u2", 1, 512)
		admin := c.As(adminToken, "2.1")
		user := c.As(userToken, "2.1") // u1 in p1

		// Usage is counted from the instances, per project or per user.
		d := quotaSet(t, user.Do("GET", "/v2.1/os-quota-sets/p1/detail", nil).Expect(t, 200))
		if in := d["cores"].(map[string]any)["in_use"]; in != float64(5) {
			t.Errorf("project cores in use %v, want 5", in)
		}
		d = quotaSet(t, admin.Do("GET", "/v2.1/os-quota-sets/p1/detail?user_id=u1", nil).Expect(t, 200))
		if in := d["instances"].(map[string]any)["in_use"]; in != float64(2) {
			t.Errorf("user instances in use %v, want 2", in)
		}

		cases := []struct {
			name         string
			cl           *apitest.Client
			method, path string
			body         any
			status       int
			message      string
		}{
			{"other project", user, "GET", "/v2.1/os-quota-sets/p2", nil, 403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed."},
			{"other project detail", user, "GET", "/v2.1/os-quota-sets/p2/detail", nil, 403, "Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed."},
			{"defaults of any project", user, "GET", "/v2.1/os-quota-sets/p2/defaults", nil, 200, ""},
			{"update by user", user, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"instances": 5}}`, 403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."},
			{"delete by user", user, "DELETE", "/v2.1/os-quota-sets/p1", nil, 403, "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed."},
			{"policy before schema", user, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"instances": "x"}}`, 403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."},
			{"below usage", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"instances": 2}}`, 400, "Quota limit 2 for instances must be greater than or equal to already used and reserved 3."},
			{"below usage forced", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"instances": 2, "force": "true"}}`, 200, ""},
			{"user above project", admin, "PUT", "/v2.1/os-quota-sets/p1?user_id=u1", `{"quota_set": {"instances": 3}}`, 400, "Quota limit 3 for instances must be less than or equal to 2."},
			{"below minimum", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"cores": -2}}`, 400, "Invalid input for field/attribute cores. Value: -2. -2 is less than the minimum of -1"},
			{"above maximum", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"cores": 2147483648}}`, 400, "Invalid input for field/attribute cores. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"},
			{"float", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"cores": 1.5}}`, 400, "Invalid input for field/attribute cores. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
			{"bad force", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"force": "maybe"}}`, 400, "Invalid input for field/attribute force. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
			{"unknown resource", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"networks": 5}}`, 400, "Invalid input for field/attribute quota_set. Value: {'networks': 5}. Additional properties are not allowed ('networks' was unexpected)"},
			{"missing quota_set", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"instances": 5}`, 400, "'quota_set' is a required property"},
			{"numeric string", admin, "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"ram": "4096"}}`, 200, ""},
			{"extra query before 2.75", admin, "GET", "/v2.1/os-quota-sets/p1?bogus=1", nil, 200, ""},
			{"extra query at 2.75", c.As(adminToken, "2.75"), "GET", "/v2.1/os-quota-sets/p1?bogus=1", nil, 400, "Additional properties are not allowed ('bogus' was unexpected)"},
			{"network quota at 2.36", c.As(adminToken, "2.36"), "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"floating_ips": 5}}`, 400, "Invalid input for field/attribute quota_set. Value: {'floating_ips': 5}. Additional properties are not allowed ('floating_ips' was unexpected)"},
			{"personality quota at 2.57", c.As(adminToken, "2.57"), "PUT", "/v2.1/os-quota-sets/p1", `{"quota_set": {"injected_files": 5}}`, 400, "Invalid input for field/attribute quota_set. Value: {'injected_files': 5}. Additional properties are not allowed ('injected_files' was unexpected)"},
			{"legacy v2 drops unknown keys", c.As(adminToken, ""), "PUT", "/v2/os-quota-sets/p1", `{"quota_set": {"networks": 5, "key_pairs": 7}}`, 200, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.cl.Do(tc.method, tc.path, tc.body).Expect(t, tc.status)
				if tc.message != "" && !strings.Contains(string(r.Body), fmt.Sprintf("%q", tc.message)) {
					t.Errorf("body %s, want message %q", r.Body, tc.message)
				}
			})
		}

		qs := quotaSet(t, admin.Do("GET", "/v2.1/os-quota-sets/p1", nil).Expect(t, 200))
		if qs["instances"] != float64(2) || qs["ram"] != float64(4096) || qs["key_pairs"] != float64(7) {
			t.Errorf("stored limits: %v", qs)
		}
		// DELETE restores the defaults (Nova answers 202 with no body).
		r := admin.Do("DELETE", "/v2.1/os-quota-sets/p1", nil).Expect(t, 202)
		if len(r.Body) != 0 {
			t.Errorf("delete body %q", r.Body)
		}
		qs = quotaSet(t, admin.Do("GET", "/v2.1/os-quota-sets/p1", nil).Expect(t, 200))
		if qs["instances"] != float64(10) || qs["ram"] != float64(51200) {
			t.Errorf("limits after delete: %v", qs)
		}
	})
}

func TestQuotaClassBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := quotaAPI(t, database)
		admin := c.As(adminToken, "2.50")
		user := c.As(userToken, "2.50")
		user.Do("GET", "/v2.1/os-quota-class-sets/default", nil).Expect(t, 403)
		r := user.Do("PUT", "/v2.1/os-quota-class-sets/default", `{"quota_class_set": {"instances": 5}}`).Expect(t, 403)
		if !strings.Contains(string(r.Body), "os_compute_api:os-quota-class-sets:update") {
			t.Errorf("403 body %s", r.Body)
		}
		admin.Do("PUT", "/v2.1/os-quota-class-sets/default", `{"quota_class_set": {"floating_ips": 5}}`).Expect(t, 400)
		admin.Do("PUT", "/v2.1/os-quota-class-sets/default", `{"quota_class_set": {"instances": 15, "server_groups": 3}}`).Expect(t, 200)
		// The default class is every project's default.
		qs := quotaSet(t, admin.Do("GET", "/v2.1/os-quota-sets/p9/defaults", nil).Expect(t, 200))
		if qs["instances"] != float64(15) || qs["server_groups"] != float64(3) {
			t.Errorf("defaults after class update: %v", qs)
		}
		qs = quotaSet(t, user.Do("GET", "/v2.1/os-quota-sets/p1", nil).Expect(t, 200))
		if qs["instances"] != float64(15) {
			t.Errorf("project limits after class update: %v", qs)
		}
		long := strings.Repeat("c", 256)
		r = admin.Do("PUT", "/v2.1/os-quota-class-sets/"+long, `{"quota_class_set": {"instances": 5}}`).Expect(t, 400)
		if !strings.Contains(string(r.Body), "quota_class_name has 256 characters, more than 255.") {
			t.Errorf("long class name: %s", r.Body)
		}
		c.As(adminToken, "2.57").Do("PUT", "/v2.1/os-quota-class-sets/default", `{"quota_class_set": {"injected_files": 5}}`).Expect(t, 400)
		c.As(adminToken, "2.102").Do("GET", "/v2.1/os-quota-class-sets/default?x=1", nil).Expect(t, 400)
		c.As(adminToken, "2.101").Do("GET", "/v2.1/os-quota-class-sets/default?x=1", nil).Expect(t, 200)
	})
}

func TestLimitsBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, db := quotaAPI(t, database)
		addQuotaInstance(t, db, "p1", "u1", 2, 1024)
		addQuotaInstance(t, db, "p1", "u2", 4, 2048)
		addQuotaInstance(t, db, "p2", "u3", 8, 4096)
		absolute := func(r *apitest.Response) map[string]any {
			return r.JSON(t)["limits"].(map[string]any)["absolute"].(map[string]any)
		}
		a := absolute(c.As(userToken, "2.1").Do("GET", "/v2.1/limits", nil).Expect(t, 200))
		if a["totalInstancesUsed"] != float64(2) || a["totalCoresUsed"] != float64(6) || a["totalRAMUsed"] != float64(3072) || a["maxTotalInstances"] != float64(10) {
			t.Errorf("limits of p1: %v", a)
		}
		a = absolute(c.As(adminToken, "2.1").Do("GET", "/v2.1/limits?tenant_id=p2", nil).Expect(t, 200))
		if a["totalInstancesUsed"] != float64(1) || a["totalCoresUsed"] != float64(8) {
			t.Errorf("limits of p2 for admin: %v", a)
		}
		r := c.As(userToken, "2.1").Do("GET", "/v2.1/limits?tenant_id=p1", nil).Expect(t, 403)
		if !strings.Contains(string(r.Body), "Policy doesn't allow os_compute_api:limits:other_project to be performed.") {
			t.Errorf("403 body %s", r.Body)
		}
		c.As(userToken, "2.74").Do("GET", "/v2.1/limits?reserved=1", nil).Expect(t, 200)
		c.As(userToken, "2.75").Do("GET", "/v2.1/limits?reserved=1", nil).Expect(t, 400)
		// The legacy /v2 endpoint answers as 2.1.
		a = absolute(c.As(userToken, "").Do("GET", "/v2/limits", nil).Expect(t, 200))
		if _, ok := a["maxImageMeta"]; !ok {
			t.Errorf("v2 limits lack maxImageMeta: %v", a)
		}
	})
}
