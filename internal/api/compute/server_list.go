package compute

// GET /servers and /servers/detail: Nova's _get_servers, turning the
// query into the domain's ListOptions with Nova's rules on who may use
// which filter and sort key, and its errors.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
)

func (h *handlers) listServers(c *api.Call) (*api.Reply, error) { return h.serverListing(c, false) }
func (h *handlers) listServersDetail(c *api.Call) (*api.Reply, error) {
	return h.serverListing(c, true)
}

func (h *handlers) serverListing(c *api.Call, detail bool) (*api.Reply, error) {
	known, err := checkServerQuery(c)
	if err != nil {
		return nil, err
	}
	q := url.Values(known)
	opts, empty, err := h.serverListOptions(c, q, detail)
	if err != nil {
		return nil, err
	}
	var servers []*compute.Server
	if !empty {
		if servers, err = h.Servers.List(c.Ctx, opts); err != nil {
			return nil, err
		}
	}
	coll := "/servers"
	var items []map[string]any
	if detail {
		coll = "/servers/detail"
		if items, err = h.serverViews(c, servers, ServerViewOptions{Full: true}); err != nil {
			return nil, err
		}
	} else {
		items = make([]map[string]any, len(servers))
		for i, srv := range servers {
			items[i] = serverBrief(c, srv)
		}
	}
	out := map[string]any{"servers": items}
	limit := compute.MaxLimit
	if _, ok := q["limit"]; ok {
		limit = opts.Limit
	}
	if limit > 0 && len(servers) == limit {
		out["servers_links"] = []api.Link{{Rel: "next", Href: nextLink(c, coll, q, servers[len(servers)-1].ID)}}
	}
	return api.JSON(http.StatusOK, out), nil
}

// serverListOptions builds the domain query. empty is true when Nova
// answers an empty list without looking (an unknown status before 2.38,
// limit=0, an ip filter that matches nothing).
func (h *handlers) serverListOptions(c *api.Call, q url.Values, detail bool) (o compute.ListOptions, empty bool, err error) {
	admin := c.IsAdmin()
	filters := url.Values{}
	for k, vs := range q {
		if slices.Contains(pagingParams, k) {
			continue
		}
		if admin || slices.Contains(userServerFilters(c), k) {
			filters[k] = vs
		}
	}
	for k := range filters {
		if slices.Contains(joinedTableParams, k) || strings.HasPrefix(k, "_") {
			return o, false, errs.Invalid("Invalid filter field: %s.", k)
		}
	}
	get := func(k string) (string, bool) {
		if _, ok := filters[k]; !ok {
			return "", false
		}
		return lastValue(filters, k), true
	}

	if statuses, ok := filters["status"]; ok {
		f, known := state.StatesForStatus(statuses...)
		if !known {
			if c.AtLeast(2, 38) {
				return o, false, errs.Invalid("Invalid status value")
			}
			return o, true, nil
		}
		if f.OnlyDeleted() {
			if !admin {
				return o, false, errs.Forbidden("Only administrators may list deleted instances")
			}
			o.OnlyDeleted = true
		}
		o.Status = &f
	}
	changes := false
	if v, ok := get("changes-since"); ok {
		t, valid := parseISOTime(v)
		if !valid {
			return o, false, errs.Invalid("Invalid filter field: changes-since.")
		}
		o.ChangesSince, changes = &t, true
	}
	if v, ok := get("changes-before"); ok {
		t, valid := parseISOTime(v)
		if !valid {
			return o, false, errs.Invalid("Invalid filter field: changes-before.")
		}
		if o.ChangesSince != nil && t.Before(*o.ChangesSince) {
			return o, false, errs.Invalid("The value of changes-since must be less than or equal to changes-before.")
		}
		o.ChangesBefore, changes = &t, true
	}
	if v, ok := get("deleted"); ok {
		o.OnlyDeleted = o.OnlyDeleted || boolFromString(v)
	} else if changes && !o.OnlyDeleted {
		// changes-since/-before list recently deleted servers too.
		o.IncludeDeleted = true
	}

	if err := scopeServerList(c, filters, detail, &o); err != nil {
		return o, false, err
	}
	if err := applyServerFilters(c, filters, &o); err != nil {
		return o, false, err
	}
	none, err := h.applyIPFilters(c, filters, &o)
	if err != nil || none {
		return o, none, err
	}
	if err := h.serverPaging(c, q, &o); err != nil {
		return o, false, err
	}
	if _, ok := q["limit"]; ok && o.Limit == 0 {
		return o, true, nil
	}
	return o, false, nil
}

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
	if !c.IsAdmin() {
		rule := "index"
		if detail {
			rule = "detail"
		}
		return errs.Forbidden("Policy doesn't allow os_compute_api:servers:%s:get_all_tenants to be performed.", rule)
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
	if c.AtLeast(2, 26) {
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
		if h.Network == nil {
			continue
		}
		found, err := h.Network.InstancesWithIP(c.Ctx, h.Servers.DB, o.ProjectID, pattern, f.v6)
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

// serverPaging applies limit, marker and Nova's sort rules: ignored keys
// dropped with their direction, host and node for admins only, unknown
// directions refused, missing directions taken from the first one, and
// created_at as the default (and tie-breaking) key.
func (h *handlers) serverPaging(c *api.Call, q url.Values, o *compute.ListOptions) error {
	if _, ok := q["limit"]; ok {
		n, err := strconv.Atoi(lastValue(q, "limit"))
		if err != nil {
			n = compute.MaxLimit // digits only, so an overflow: clamp
		}
		o.Limit = min(n, compute.MaxLimit)
	}
	if v := lastValue(q, "marker"); v != "" {
		if !c.IsAdmin() {
			// The marker must be a server the caller could list.
			if srv, err := h.Servers.GetAny(c.Ctx, v); err != nil || srv.ProjectID != c.ProjectID() {
				return errs.Invalid("marker [%s] not found", v)
			}
		}
		o.Marker = v
	}
	keys := trimAll(q["sort_key"])
	dirs := trimAll(q["sort_dir"])
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	ignored := ignoredSortKeys(c)
	for i := 0; i < len(keys); {
		k := keys[i]
		if slices.Contains(ignored, k) {
			if len(dirs) > i {
				dirs = slices.Delete(dirs, i, i+1)
			}
			keys = slices.Delete(keys, i, i+1)
			continue
		}
		if (k == "host" || k == "node") && !c.IsAdmin() {
			return errs.Forbidden("Only administrators can sort servers by %s", k)
		}
		i++
	}
	defaultDir := "desc"
	if len(dirs) > 0 {
		defaultDir = dirs[0]
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			return errs.Invalid("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'")
		}
	}
	for len(dirs) < len(keys) {
		dirs = append(dirs, defaultDir)
	}
	if len(dirs) > len(keys) {
		return errs.Invalid("Invalid input received: Sort direction size exceeds sort key size")
	}
	if !slices.Contains(keys, "created_at") {
		keys, dirs = append(keys, "created_at"), append(dirs, defaultDir)
	}
	for i, k := range keys {
		if compute.SortKeyKnown(k) {
			o.SortKeys, o.SortDirs = append(o.SortKeys, k), append(o.SortDirs, dirs[i])
		}
	}
	return nil
}

func trimAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

var trueStrings = []string{"1", "t", "true", "on", "y", "yes"}
var falseStrings = []string{"0", "f", "false", "off", "n", "no"}

// strictBool is oslo's bool_from_string(strict=True).
func strictBool(v string) (b, ok bool) {
	s := strings.ToLower(strings.TrimSpace(v))
	switch {
	case slices.Contains(trueStrings, s):
		return true, true
	case slices.Contains(falseStrings, s):
		return false, true
	}
	return false, false
}

// boolFromString is oslo's lenient bool_from_string: anything unknown
// is false.
func boolFromString(v string) bool {
	b, _ := strictBool(v)
	return b
}
