package compute

// The servers list paging and sorting (Nova's get_limit_and_marker,
// get_sort_params, remove_invalid_sort_keys and process_sort_params),
// and oslo's boolean parsing the filters use.

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
)

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
