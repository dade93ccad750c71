package blockstorage

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/volume"
)

// maxLimit is Cinder's osapi_max_limit: a listing without limit returns
// at most this many, with a next link.
const maxLimit = 1000

// page is a listing's paging and sorting (common.get_pagination_params,
// get_sort_params).
type page struct {
	Marker string
	Limit  int
	Offset int
	Sort   []volume.SortKey
}

// listParams takes paging and sort parameters off q (which keeps the
// filters), with Cinder's messages.
func listParams(q url.Values) (page, error) {
	var p page
	p.Limit = maxLimit
	if q.Has("limit") {
		n, err := strconv.Atoi(strings.TrimSpace(q.Get("limit")))
		if err != nil {
			return p, errs.Invalid("limit param must be an integer")
		}
		if n < 0 {
			return p, errs.Invalid("limit param must be positive")
		}
		p.Limit = min(n, maxLimit)
	}
	p.Marker = q.Get("marker")
	if q.Has("offset") {
		n, err := strconv.Atoi(strings.TrimSpace(q.Get("offset")))
		if err != nil {
			return p, errs.Invalid("offset must be an integer.")
		}
		if n < 0 {
			return p, errs.Invalid("offset must be >= 0.")
		}
		if n > 0x7FFFFFFF {
			return p, errs.Invalid("offset must be <= 2147483647.")
		}
		p.Offset = n
	}
	if q.Has("sort") && (q.Has("sort_key") || q.Has("sort_dir")) {
		return p, errs.Invalid("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.")
	}
	if q.Has("sort") {
		for _, s := range strings.Split(strings.TrimSpace(q.Get("sort")), ",") {
			key, dir, _ := strings.Cut(s, ":")
			if dir == "" {
				dir = "desc"
			}
			p.Sort = append(p.Sort, volume.SortKey{Key: strings.TrimSpace(key), Dir: strings.TrimSpace(dir)})
		}
	} else if q.Has("sort_key") || q.Has("sort_dir") {
		key, dir := q.Get("sort_key"), q.Get("sort_dir")
		if !q.Has("sort_key") {
			key = "created_at"
		}
		if !q.Has("sort_dir") {
			dir = "desc"
		}
		p.Sort = []volume.SortKey{{Key: strings.TrimSpace(key), Dir: strings.TrimSpace(dir)}}
	}
	for _, k := range []string{"limit", "marker", "offset", "sort", "sort_key", "sort_dir"} {
		q.Del(k)
	}
	return p, nil
}

// filters are a listing's query filters once Cinder has vetted them.
type filters struct {
	AllTenants bool
	ProjectID  string
	Exact      map[string]string
	Like       map[string]string
	Metadata   map[string]string
	Image      map[string]string
	WithCount  bool
}

// listFilters vets the remaining query parameters of a listing of
// resource against Cinder's resource_filters.json (allowed) as
// reject_invalid_filters does from 3.31 (admins may use any key), and as
// remove_invalid_filter_options did before (unknown keys of non-admins
// are dropped). all_tenants is an admin's only.
func listFilters(c *api.Call, q url.Values, allowed []string) (filters, error) {
	f := filters{Exact: map[string]string{}, Like: map[string]string{}}
	admin := c.IsAdmin()
	if c.AtLeast(mv.V3_45) && q.Has("with_count") {
		b, ok := parseBool(q.Get("with_count"))
		if !ok {
			return f, errs.Invalid("Invalid value '%s' for with_count", q.Get("with_count"))
		}
		f.WithCount = b
		q.Del("with_count")
	}
	if q.Has("all_tenants") {
		if admin {
			b, ok := parseBool(q.Get("all_tenants"))
			f.AllTenants = !ok || b
		}
		q.Del("all_tenants")
	}
	if p := q.Get("project_id"); p != "" && admin && f.AllTenants {
		f.ProjectID = p
		q.Del("project_id")
	}
	like := c.AtLeast(mv.V3_34)
	var invalid []string
	for key := range q {
		base := strings.TrimSuffix(key, "~")
		ok := admin || slices.Contains(allowed, base) && (base == key || like)
		if !ok {
			invalid = append(invalid, key)
			q.Del(key)
		}
	}
	if len(invalid) > 0 && c.AtLeast(mv.V3_31) {
		return f, errs.Invalid("Invalid filters %s are found in query options.", strings.Join(invalid, ","))
	}
	for key := range q {
		val := q.Get(key)
		switch {
		case key == "metadata" || key == "glance_metadata" || key == "volume_image_metadata":
			m, err := parseDict(val)
			if err != nil {
				return f, errs.Invalid("Invalid %s value", key)
			}
			if key == "metadata" {
				f.Metadata = m
			} else {
				f.Image = m
			}
		case strings.HasSuffix(key, "~") && like:
			f.Like[strings.TrimSuffix(key, "~")] = val
		default:
			f.Exact[key] = val
		}
	}
	return f, nil
}

// parseDict reads a metadata filter: Cinder evaluates it as a Python
// literal ({'k': 'v'}); JSON is the same with double quotes.
func parseDict(s string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		if err := json.Unmarshal([]byte(strings.ReplaceAll(s, "'", `"`)), &raw); err != nil {
			return nil, err
		}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch t := v.(type) {
		case string:
			out[k] = t
		default:
			b, _ := json.Marshal(t)
			out[k] = string(b)
		}
	}
	return out, nil
}

// parseBool is oslo's bool_from_string in strict mode.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

// listing is one page of a collection as Cinder answers it.
type listing[T any] struct {
	key        string // the body's key: "volumes"
	linksKey   string // the next link's key: "volumes_links"
	collection string // the path the next link names: "volumes/detail"
	items      []T
	limit      int
	id         func(T) string
	view       func(T) map[string]any
	// count counts all that match, not just this page (with_count);
	// nil leaves "count" out.
	count func() (int, error)
}

// reply is the listing's 200: the views, a next link when the page is as
// long as the limit allows (Cinder's _get_collection_links) and the count.
func (l listing[T]) reply(c *api.Call) (*api.Reply, error) {
	out := make([]map[string]any, 0, len(l.items))
	for _, it := range l.items {
		out = append(out, l.view(it))
	}
	body := map[string]any{l.key: out}
	if n := len(l.items); n > 0 && n >= l.limit {
		q := c.Query()
		q.Set("marker", l.id(l.items[n-1]))
		body[l.linksKey] = []api.Link{{Rel: "next", Href: c.Link("/"+l.collection) + "?" + q.Encode()}}
	}
	if l.count != nil {
		n, err := l.count()
		if err != nil {
			return nil, err
		}
		body["count"] = n
	}
	return api.JSON(http.StatusOK, body), nil
}
