package networking

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
)

// view is one object as Neutron shows it: its attribute dict.
type view = map[string]any

// collection describes a resource to the list machinery.
type collection struct {
	// Name is the collection's key and path segment ("networks").
	Name string
	// Segment is the path segment when it differs from the key
	// ("security-groups" of security_groups).
	Segment string
	// Sortable are the attributes sort_key may name (Neutron's
	// is_sort_key attributes).
	Sortable []string
	// Filters match the attributes whose filters are no plain comparison
	// (ports' fixed_ips=ip_address=...): true when the view passes the
	// filter's values.
	Filters map[string]func(v view, values []string) (bool, error)
	// Key is the primary key attribute that ends every sort and that
	// markers name; "" is "id".
	Key string
}

// segment is the collection's path segment.
func (c collection) segment() string {
	if c.Segment != "" {
		return c.Segment
	}
	return c.Name
}

// key is the collection's primary key attribute.
func (c collection) key() string { return cmp.Or(c.Key, "id") }

// listQuery is a list request's query as Neutron reads it
// (neutron/api/api_common.py): attribute filters (a repeated key matches
// any of its values), tag filters, fields, sorting and emulated paging.
type listQuery struct {
	custom                             map[string]func(view, []string) (bool, error)
	key                                string // the primary key attribute
	filters                            url.Values
	tags, tagsAny, notTags, notTagsAny []string
	fields                             []string
	sorts                              []sortKey
	limit                              int // 0: no paging
	marker                             string
	pageReverse                        bool
}

type sortKey struct {
	key string
	asc bool
}

// reservedParams are the query keys that are not attribute filters.
var reservedParams = map[string]bool{
	"fields": true, "sort_key": true, "sort_dir": true, "limit": true, "marker": true, "page_reverse": true,
	"tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true,
}

// nonEmpty is webob's getall without empty values (api_common.list_args).
func nonEmpty(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// tagList reads a tag filter: comma-separated tags, the key repeated or
// not.
func tagList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			if t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// parseListQuery reads q for coll, with Neutron's 400s.
func parseListQuery(q url.Values, coll collection) (listQuery, error) {
	lq := listQuery{custom: coll.Filters, key: coll.key(), filters: url.Values{}, fields: nonEmpty(q["fields"]),
		tags: tagList(q["tags"]), tagsAny: tagList(q["tags-any"]),
		notTags: tagList(q["not-tags"]), notTagsAny: tagList(q["not-tags-any"])}
	for k, vs := range q {
		if vs = nonEmpty(vs); !reservedParams[k] && len(vs) > 0 {
			lq.filters[k] = vs
		}
	}
	keys, dirs := nonEmpty(q["sort_key"]), nonEmpty(q["sort_dir"])
	if len(keys) != len(dirs) {
		return lq, badRequest("The number of sort_keys and sort_dirs must be same")
	}
	var badKeys, badDirs []string
	for i, k := range keys {
		if !slices.Contains(coll.Sortable, k) {
			badKeys = append(badKeys, k)
		}
		if dirs[i] != "asc" && dirs[i] != "desc" {
			badDirs = append(badDirs, dirs[i])
		}
		lq.sorts = append(lq.sorts, sortKey{key: k, asc: dirs[i] == "asc"})
	}
	if len(badKeys) > 0 {
		return lq, badRequest("%s is invalid attribute for sort_keys", pyList(badKeys))
	}
	if len(badDirs) > 0 {
		return lq, badRequest("%s is invalid value for sort_dirs, valid value is 'asc' and 'desc'", pyList(badDirs))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, badRequest("Limit must be an integer 0 or greater and not '%s'", v)
		}
		lq.limit = n
	}
	if lq.limit > 0 {
		lq.marker = q.Get("marker")
		lq.pageReverse = strings.EqualFold(q.Get("page_reverse"), "true")
	}
	return lq, nil
}

// pyList prints names as Python prints a list of str.
func pyList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// listReply answers a list call of coll: the views the caller may see
// (already checked by the resource's service), filtered, sorted, paged
// and cut to the requested fields, with <collection>_links when paged.
func listReply(c *api.Call, coll collection, items []view) (*api.Reply, error) {
	lq, err := parseListQuery(c.Query(), coll)
	if err != nil {
		return nil, err
	}
	page, links, err := lq.apply(items, func(q url.Values) string {
		return c.BaseURL + strings.TrimSuffix(c.Req.URL.Path[len(Mount):], "/") + "?" + q.Encode()
	}, c.Query())
	if err != nil {
		return nil, err
	}
	body := map[string]any{coll.Name: page}
	if links != nil {
		body[coll.Name+"_links"] = links
	}
	return api.JSON(http.StatusOK, body), nil
}

// apply runs the query over items; link builds a paging link from query
// parameters.
func (lq listQuery) apply(items []view, link func(url.Values) string, q url.Values) ([]view, []api.Link, error) {
	out := make([]view, 0, len(items))
	for _, it := range items {
		ok, err := lq.matches(it)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	lq.sort(out)
	var links []api.Link
	if lq.limit > 0 {
		out = lq.page(out)
		links = lq.links(out, link, q)
	}
	if len(lq.fields) > 0 {
		for i, it := range out {
			out[i] = onlyFields(it, lq.fields)
		}
	}
	return out, links, nil
}

// matches reports whether it passes every attribute and tag filter.
// Filters on attributes the view lacks are ignored, as Neutron without
// filter-validation ignores them.
func (lq listQuery) matches(it view) (bool, error) {
	for k, want := range lq.filters {
		if f, ok := lq.custom[k]; ok {
			if match, err := f(it, want); err != nil || !match {
				return false, err
			}
			continue
		}
		have, ok := it[k]
		if !ok {
			continue
		}
		match, err := matchesAny(k, have, want)
		if err != nil || !match {
			return false, err
		}
	}
	tags := stringsOf(it["tags"])
	has := func(t string) bool { return slices.Contains(tags, t) }
	if len(lq.tags) > 0 && !all(lq.tags, has) {
		return false, nil
	}
	if len(lq.tagsAny) > 0 && !slices.ContainsFunc(lq.tagsAny, has) {
		return false, nil
	}
	if len(lq.notTags) > 0 && all(lq.notTags, has) {
		return false, nil
	}
	if slices.ContainsFunc(lq.notTagsAny, has) {
		return false, nil
	}
	return true, nil
}

func all(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// matchesAny compares an attribute's value with a filter's values, each
// converted as the attribute's convert_to would (booleans, integers);
// a list attribute matches when any element does.
func matchesAny(key string, have any, want []string) (bool, error) {
	for _, w := range want {
		ok, err := matchesOne(key, have, w)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func matchesOne(key string, have any, want string) (bool, error) {
	switch h := have.(type) {
	case nil:
		return false, nil
	case bool:
		b, err := parseBool(want)
		if err != nil {
			return false, invalidInput("'%s' cannot be converted to boolean", want)
		}
		return h == b, nil
	case int:
		n, err := strconv.Atoi(want)
		if err != nil {
			return false, invalidInput("'%s' is not an integer", want)
		}
		return h == n, nil
	case string:
		return h == want, nil
	case []string:
		return slices.Contains(h, want), nil
	case []any:
		for _, e := range h {
			if ok, err := matchesOne(key, e, want); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return fmt.Sprint(have) == want, nil
}

// parseBool is neutron-lib's convert_to_boolean for query text.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// primary is the primary key attribute ("id" unless set).
func (lq listQuery) primary() string { return cmp.Or(lq.key, "id") }

// sort orders items by the requested keys, then by the primary key
// (Neutron's native sorting adds it); None sorts first.
func (lq listQuery) sort(items []view) {
	keys := append(slices.Clone(lq.sorts), sortKey{key: lq.primary(), asc: true})
	slices.SortStableFunc(items, func(a, b view) int {
		for _, k := range keys {
			if c := compareValues(a[k.key], b[k.key]); c != 0 {
				if !k.asc {
					return -c
				}
				return c
			}
		}
		return 0
	})
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return cmp.Compare(x, y)
	case int:
		y, _ := b.(int)
		return cmp.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// page is Neutron's PaginationEmulatedHelper.paginate: the limit items
// after the marker (before it when page_reverse), none when the marker
// is not among the items.
func (lq listQuery) page(items []view) []view {
	if len(items) == 0 {
		return items
	}
	i := 0
	if lq.marker != "" {
		i = slices.IndexFunc(items, func(v view) bool { return v[lq.primary()] == lq.marker })
		if i < 0 {
			return []view{}
		}
	} else if lq.pageReverse {
		i = len(items)
	}
	if lq.pageReverse {
		return items[max(i-lq.limit, 0):i]
	}
	if lq.marker != "" {
		i++
	}
	return items[i:min(i+lq.limit, len(items))]
}

// links are Neutron's get_pagination_links: "next" unless a forward
// page came back short, "previous" unless a reverse page did.
func (lq listQuery) links(items []view, link func(url.Values) string, q url.Values) []api.Link {
	links := []api.Link{}
	if !(len(items) < lq.limit && !lq.pageReverse) {
		p := cloneValues(q)
		p.Del("marker")
		p.Del("page_reverse")
		if len(items) > 0 {
			p.Set("marker", fmt.Sprint(items[len(items)-1][lq.primary()]))
		}
		links = append(links, api.Link{Rel: "next", Href: link(p)})
	}
	if !(len(items) < lq.limit && lq.pageReverse) {
		p := cloneValues(q)
		p.Del("marker")
		if len(items) > 0 {
			p.Set("marker", fmt.Sprint(items[0][lq.primary()]))
		}
		p.Set("page_reverse", "True")
		links = append(links, api.Link{Rel: "previous", Href: link(p)})
	}
	return links
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		out[k] = slices.Clone(vs)
	}
	return out
}

// onlyFields cuts v to the named attributes (the fields parameter).
func onlyFields(v view, fields []string) view {
	out := make(view, len(fields))
	for _, f := range fields {
		if x, ok := v[f]; ok {
			out[f] = x
		}
	}
	return out
}

// showReply answers a show call: the view, cut to the fields asked for.
func showReply(c *api.Call, singular string, v view) *api.Reply {
	if fields := nonEmpty(c.Query()["fields"]); len(fields) > 0 {
		v = onlyFields(v, fields)
	}
	return api.JSON(http.StatusOK, map[string]any{singular: v})
}
