package compute

import (
	"net/http"
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/quota"
)

// absoluteLimitNames are Nova's names for limits in GET /limits
// (views/limits.py); metadata_items is shown twice before 2.39.
var absoluteLimitNames = map[string][]string{
	quota.RAM:                      {"maxTotalRAMSize"},
	quota.Instances:                {"maxTotalInstances"},
	quota.Cores:                    {"maxTotalCores"},
	quota.KeyPairs:                 {"maxTotalKeypairs"},
	quota.FloatingIPs:              {"maxTotalFloatingIps"},
	quota.MetadataItems:            {"maxServerMeta", "maxImageMeta"},
	quota.InjectedFiles:            {"maxPersonality"},
	quota.InjectedFileContentBytes: {"maxPersonalitySize"},
	quota.SecurityGroups:           {"maxSecurityGroups"},
	quota.SecurityGroupRules:       {"maxSecurityGroupRules"},
	quota.ServerGroups:             {"maxServerGroups"},
	quota.ServerGroupMembers:       {"maxServerGroupMembers"},
}

// usedLimitNames are the usage counters GET /limits reports.
var usedLimitNames = map[string]string{
	"totalRAMUsed":            quota.RAM,
	"totalCoresUsed":          quota.Cores,
	"totalInstancesUsed":      quota.Instances,
	"totalFloatingIpsUsed":    quota.FloatingIPs,
	"totalSecurityGroupsUsed": quota.SecurityGroups,
	"totalServerGroupsUsed":   quota.ServerGroups,
}

// filteredLimits are the resources GET /limits leaves out at c's
// microversion (limits.py FILTERED_LIMITS_v236 / v257).
func filteredLimits(c *api.Call) []string {
	var out []string
	if c.AtLeast(mv.V2_36) {
		out = append(out, quota.FloatingIPs, quota.SecurityGroups, quota.SecurityGroupRules)
	}
	if c.AtLeast(mv.V2_57) {
		out = append(out, quota.InjectedFiles, quota.InjectedFileContentBytes)
	}
	return out
}

func (h *handlers) showLimits(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, []flavorQueryRule{{name: "tenant_id", check: func(string) string { return "" }}}, c.AtLeast(mv.V2_75))
	if err != nil {
		return nil, err
	}
	projectID := c.ProjectID()
	if vs, ok := q["tenant_id"]; ok {
		projectID = vs[len(vs)-1]
		if err := c.Authorize("os_compute_api:limits:other_project", policy.Target{"project_id": projectID}); err != nil {
			return nil, err
		}
	}
	detail, err := h.Quotas.Detail(c.Ctx, projectID, "")
	if err != nil {
		return nil, err
	}
	filtered := filteredLimits(c)
	absolute := map[string]any{}
	for res, names := range absoluteLimitNames {
		if slices.Contains(filtered, res) {
			continue
		}
		for _, name := range names {
			if name == "maxImageMeta" && c.AtLeast(mv.V2_39) {
				continue
			}
			absolute[name] = detail[res].Limit
		}
	}
	for name, res := range usedLimitNames {
		if !slices.Contains(filtered, res) {
			absolute[name] = detail[res].InUse
		}
	}
	rate, err := h.rateLimits(c)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"limits": map[string]any{
		"rate":     rate,
		"absolute": absolute,
	}}), nil
}

// rateLimit and rateLimitGroup are the "rate" section's entries, fields
// in the v2 document's order (views/limits.py _build_rate_limits).
type rateLimit struct {
	NextAvailable string `json:"next-available"`
	Remaining     int    `json:"remaining"`
	Unit          string `json:"unit"`
	Value         int    `json:"value"`
	Verb          string `json:"verb"`
}

type rateLimitGroup struct {
	Limit []rateLimit `json:"limit"`
	Regex string      `json:"regex"`
	URI   string      `json:"uri"`
}

// rateLimits is the "rate" section of the caller's project (even with
// ?tenant_id=, as Nova showed its caller's): the rules grouped by
// (uri, regex) in their order, as Nova's view grouped them; [] when rate
// limits are off.
func (h *handlers) rateLimits(c *api.Call) ([]rateLimitGroup, error) {
	out := []rateLimitGroup{}
	limits, err := h.RateLimits.Status(c.Ctx, c.ProjectID())
	if err != nil {
		return nil, err
	}
	for _, l := range limits {
		i := slices.IndexFunc(out, func(g rateLimitGroup) bool { return g.URI == l.URI && g.Regex == l.Regex })
		if i < 0 {
			out = append(out, rateLimitGroup{Limit: []rateLimit{}, Regex: l.Regex, URI: l.URI})
			i = len(out) - 1
		}
		out[i].Limit = append(out[i].Limit, rateLimit{NextAvailable: l.NextAvailable.UTC().Format("2006-01-02T15:04:05Z"),
			Remaining: l.Remaining, Unit: l.Unit, Value: l.Value, Verb: l.Verb})
	}
	return out, nil
}
