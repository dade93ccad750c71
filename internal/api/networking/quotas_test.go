package networking_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// quotaKeys are the resources of quotas-list-for-project-response.json
// that kumo's networking API has so far.
var quotaKeys = []string{"network", "subnet", "port", "floatingip", "router"}

func TestQuotas(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		path := "/networking/v2.0/quotas/" + c.MemberProject
		own := obj(t, c.member.Do("GET", path, nil).Expect(t, http.StatusOK), "quota")
		wantKeys(t, "quota", own, quotaKeys)
		if own["network"] != float64(100) || own["subnet"] != float64(100) || own["port"] != float64(500) || own["floatingip"] != float64(50) {
			t.Errorf("default quota %v", own)
		}
		wantError(t, c.other.Do("GET", path, nil), 403, "PolicyNotAuthorized", "(rule:get_quota) is disallowed by policy")
		wantError(t, c.member.Do("PUT", path, map[string]any{"quota": map[string]any{"network": 1}}), 403, "PolicyNotAuthorized",
			"(rule:update_quota) is disallowed by policy")

		create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n1"})
		wantError(t, c.Admin.Do("PUT", path, map[string]any{"quota": map[string]any{"network": 0}}), 400, "HTTPBadRequest",
			"Quota limit 0 for network must be greater than or equal to already used 1")
		wantError(t, c.Admin.Do("PUT", path, map[string]any{"quota": map[string]any{"rbac_policy": 1}}), 400, "HTTPBadRequest",
			"Unrecognized attribute(s) 'rbac_policy'")
		wantError(t, c.Admin.Do("PUT", path, map[string]any{"quota": map[string]any{"network": -2}}), 400, "HTTPBadRequest",
			"Invalid input for network. Reason: '-2' is too small - must be at least '-1'.")
		set := obj(t, c.Admin.Do("PUT", path, map[string]any{"quota": map[string]any{"network": 1, "port": "7"}}).Expect(t, http.StatusOK), "quota")
		if set["network"] != float64(1) || set["port"] != float64(7) || set["subnet"] != float64(100) {
			t.Errorf("set quota %v", set)
		}
		wantError(t, c.member.Do("POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"name": "n2"}}),
			409, "OverQuota", "Quota exceeded for resources: ['network'].")

		details := obj(t, c.member.Do("GET", path+"/details", nil).Expect(t, http.StatusOK), "quota")
		if n := details["network"].(map[string]any); n["used"] != float64(1) || n["limit"] != float64(1) || n["reserved"] != float64(0) {
			t.Errorf("quota details %v", details)
		}
		list := c.Admin.Do("GET", "/networking/v2.0/quotas", nil).Expect(t, http.StatusOK).JSON(t)["quotas"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["project_id"] != c.MemberProject {
			t.Errorf("projects with quotas %v", list)
		}
		wantError(t, c.member.Do("GET", "/networking/v2.0/quotas", nil), 403, "PolicyNotAuthorized", "(rule:get_quota) is disallowed by policy")
		defaults := obj(t, c.member.Do("GET", path+"/default", nil).Expect(t, http.StatusOK), "quota")
		if defaults["network"] != float64(100) {
			t.Errorf("defaults %v", defaults)
		}

		c.Admin.Do("DELETE", path, nil).Expect(t, http.StatusNoContent)
		if got := obj(t, c.member.Do("GET", path, nil).Expect(t, http.StatusOK), "quota"); got["network"] != float64(100) {
			t.Errorf("quota after reset %v", got)
		}
		create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n2"})
	})
}
