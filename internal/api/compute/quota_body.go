package compute

// Request bodies and microversion filtering shared by os-quota-sets,
// os-quota-class-sets and limits, as Nova's schemas
// (nova/api/openstack/compute/schemas/quota_sets.py) define them.

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/quota"
)

// networkQuotas left the quota APIs with nova-network (2.36 for quota sets
// and limits, 2.50 for quota classes).
var networkQuotas = []string{quota.FixedIPs, quota.FloatingIPs, quota.SecurityGroupRules, quota.SecurityGroups}

// personalityQuotas left with personality files in 2.57.
var personalityQuotas = []string{quota.InjectedFiles, quota.InjectedFileContentBytes, quota.InjectedFilePathBytes}

// quotaSetResources are the resources os-quota-sets shows and accepts at
// c's microversion.
func quotaSetResources(c *api.Call) []string {
	return visibleQuotas(c.AtLeast(mv.V2_36), c.AtLeast(mv.V2_57))
}

// quotaClassResources are the resources os-quota-class-sets accepts at
// c's microversion; before 2.50 server groups are accepted but not shown.
func quotaClassResources(c *api.Call) []string {
	return visibleQuotas(c.AtLeast(mv.V2_50), c.AtLeast(mv.V2_57))
}

// visibleQuotas lists the resources left once the nova-network and the
// personality quotas are dropped, as the microversion requires.
func visibleQuotas(dropNetwork, dropPersonality bool) []string {
	var out []string
	for _, r := range quota.Resources() {
		if dropNetwork && slices.Contains(networkQuotas, r) {
			continue
		}
		if dropPersonality && slices.Contains(personalityQuotas, r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

var quotaValuePattern = regexp.MustCompile(`^-?[0-9]+$`)

// forceValues is Nova's parameter_types.boolean enum, in its order.
var forceValues = []any{true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
	false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}

// quotaBody is a validated quota update.
type quotaBody struct {
	changes []quota.Change
	force   bool
}

// parseQuotaBody validates {root: {resource: limit, ...}} where the
// resources allowed are allowed (plus "force" when withForce).
func parseQuotaBody(c *api.Call, root string, allowed []string, withForce bool) (*quotaBody, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var doc any
	if err := api.DecodeJSON(b, &doc); err != nil {
		return nil, err
	}
	e := newSchemaErrors(c)
	top := e.checkObject(nil, doc, []string{root}, []string{root})
	if top == nil {
		return nil, e.err()
	}
	keys := slices.Clone(allowed)
	if withForce {
		keys = append(keys, "force")
	}
	set := e.checkObject([]string{root}, top[root], nil, keys)
	if set == nil {
		if err := e.err(); err != nil {
			return nil, err
		}
		return nil, errs.Invalid("'%s' is a required property", root)
	}
	out := &quotaBody{}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := set[k]
		path := []string{root, k}
		if k == "force" && withForce {
			if e.checkType(path, v, "boolean", "string") {
				if !slices.Contains(forceValues, v) {
					e.add(path, v, api.PyRepr(v)+" is not one of "+api.PyRepr(forceValues))
				}
			}
			out.force = forceTrue(v)
			continue
		}
		if !slices.Contains(keys, k) {
			continue // the legacy v2 endpoint drops unknown keys
		}
		if !e.checkType(path, v, "integer", "string") {
			continue
		}
		e.checkPattern(path, v, quotaValuePattern, "^-?[0-9]+$")
		e.checkRange(path, v, quota.Unlimited, false, quota.MaxLimit, strconv.Itoa(quota.MaxLimit))
		if n, ok := quotaInt(v); ok {
			out.changes = append(out.changes, quota.Change{Resource: k, Limit: n})
		}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// quotaInt converts a validated limit (an integer or a numeric string).
func quotaInt(v any) (int, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// forceTrue is oslo's bool_from_string for the force flag.
func forceTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "1", "t", "true", "on", "y", "yes":
			return true
		}
	}
	return false
}

// quotaMap renders limits for the resources shown, with the id when set.
func quotaMap(id string, limits quota.Limits, shown []string) map[string]any {
	out := map[string]any{}
	if id != "" {
		out["id"] = id
	}
	for _, r := range shown {
		if v, ok := limits[r]; ok {
			out[r] = v
		}
	}
	return out
}
