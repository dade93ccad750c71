package compute

// The servers list filters: project scope (all_tenants), Nova's filter
// mapping onto the domain's options, and the address filters.

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// scopeServerList applies all_tenants: admins may list every project (or
// one, with project_id/tenant_id); everyone else sees their own project.
func scopeServerList(c *api.Call, filters url.Values, detail bool, o *compute.ListOptions) error {
	allTenants := false
	if _, ok := filters["all_tenants"]; ok {
		// An empty all_tenants turns it on.
		v := lastValue(filters, "all_tenants")
		b, valid := strictBool(v)
		if v == "" {
			b, valid = true, true
		}
		if !valid {
			return errs.Invalid("Invalid input received: Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", lastValue(filters, "all_tenants"))
		}
		allTenants = b
	}
	if !allTenants {
		o.ProjectID = c.ProjectID()
		if o.ProjectID == "" {
			o.UserID = c.Principal.UserID
		}
		return nil
	}
	rule := "os_compute_api:servers:index:get_all_tenants"
	if detail {
		rule = "os_compute_api:servers:detail:get_all_tenants"
	}
	if err := c.Authorize(rule, nil); err != nil {
		return err
	}
	if _, ok := filters["project_id"]; ok {
		o.ProjectID = lastValue(filters, "project_id")
	} else if _, ok := filters["tenant_id"]; ok {
		o.ProjectID = lastValue(filters, "tenant_id")
	}
	return nil
}

// applyServerFilters maps the remaining filters onto the domain's.
func applyServerFilters(c *api.Call, filters url.Values, o *compute.ListOptions) error {
	get := func(k string) (string, bool) {
		if _, ok := filters[k]; !ok {
			return "", false
		}
		return lastValue(filters, k), true
	}
	first := func(keys ...string) (string, bool) {
		for _, k := range keys {
			if v, ok := get(k); ok {
				return v, true
			}
		}
		return "", false
	}
	if v, ok := first("name", "display_name"); ok {
		o.Name = v
	}
	if v, ok := first("description", "display_description"); ok {
		o.Description = v
	}
	// Nova matches image and flavor ids exactly (a URL matches nothing).
	if v, ok := first("image", "image_ref"); ok {
		o.ImageRef = v
	}
	if v, ok := get("flavor"); ok {
		o.FlavorID = v
	}
	strs := []struct {
		key string
		dst *string
	}{
		{"user_id", &o.UserID}, {"host", &o.Host}, {"node", &o.Node}, {"availability_zone", &o.AZ},
		{"key_name", &o.KeyName}, {"reservation_id", &o.ReservationID}, {"hostname", &o.Hostname},
		{"access_ip_v4", &o.AccessIPv4}, {"access_ip_v6", &o.AccessIPv6},
	}
	for _, s := range strs {
		if v, ok := get(s.key); ok {
			*s.dst = v
		}
	}
	if v, ok := get("uuid"); ok {
		o.IDs, o.RestrictIDs = []string{v}, true
	}
	if v, ok := get("vm_state"); ok && o.Status == nil {
		o.VMStates = []string{v}
	}
	if v, ok := get("task_state"); ok && o.Status == nil {
		o.TaskStates = []string{v}
	}
	if v, ok := get("power_state"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // matches nothing, as the database comparison would
		}
		o.PowerStates = []int{n}
	}
	if v, ok := get("locked"); ok {
		b, valid := strictBool(v)
		if !valid {
			return errs.Invalid("Invalid input received: Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", v)
		}
		o.Locked = &b
	}
	if v, ok := get("config_drive"); ok {
		b := boolFromString(v)
		o.ConfigDrive = &b
	}
	if v, ok := get("launched_at"); ok {
		if t, valid := parseISOTime(v); valid {
			o.LaunchedAt = &t
		}
	}
	if v, ok := get("terminated_at"); ok {
		if t, valid := parseISOTime(v); valid {
			o.TerminatedAt = &t
		}
	}
	if c.AtLeast(mv.V2_26) {
		tagLists := []struct {
			key string
			dst *[]string
		}{{"tags", &o.Tags}, {"tags-any", &o.TagsAny}, {"not-tags", &o.NotTags}, {"not-tags-any", &o.NotTagsAny}}
		for _, tl := range tagLists {
			if v, ok := get(tl.key); ok {
				*tl.dst = strings.Split(v, ",")
			}
		}
	}
	return nil
}

// applyIPFilters restricts the list to servers with a matching address
// (ip, and ip6 from 2.5 for everyone); both filters give the union.
// none is true when nothing can match.
func (h *handlers) applyIPFilters(c *api.Call, filters url.Values, o *compute.ListOptions) (none bool, err error) {
	var ids []string
	used := false
	patterns := map[string]string{}
	for _, k := range []string{"ip", "ip6"} {
		if _, ok := filters[k]; ok {
			patterns[k] = lastValue(filters, k)
		}
	}
	for _, f := range []struct {
		key string
		v6  bool
	}{{"ip", false}, {"ip6", true}} {
		pattern, ok := patterns[f.key]
		if !ok {
			continue
		}
		used = true
		found, err := h.Network.InstancesWithIP(c.Ctx, o.ProjectID, pattern, f.v6)
		if err != nil {
			return false, err
		}
		ids = append(ids, found...)
	}
	if !used {
		return false, nil
	}
	if o.RestrictIDs {
		var both []string
		for _, id := range ids {
			if slices.Contains(o.IDs, id) {
				both = append(both, id)
			}
		}
		ids = both
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	o.IDs, o.RestrictIDs = ids, true
	return len(ids) == 0, nil
}
