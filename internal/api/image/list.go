package image

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// list answers GET /v2/images.
func (h *handlers) list(c *api.Call) (*api.Reply, error) {
	if emptyID(c) {
		return nil, errs.NotFound("The resource could not be found.")
	}
	q := c.Query()
	o, err := listOptions(q)
	if err != nil {
		return nil, err
	}
	page := &image.Page{Images: []*image.Image{}}
	if o.Limit != 0 || !q.Has("limit") {
		// Glance honours limit=0 literally: an empty page.
		if page, err = h.svc.List(c.Ctx, c.Principal, o); err != nil {
			return nil, err
		}
	}
	views := make([]map[string]any, 0, len(page.Images))
	for _, img := range page.Images {
		views = append(views, imageView(img))
	}
	body := map[string]any{"images": views, "schema": "/v2/schemas/images", "first": "/v2/images"}
	params := url.Values{}
	for k, vs := range q {
		if k != "marker" {
			params[k] = vs
		}
	}
	if len(params) > 0 {
		body["first"] = "/v2/images?" + params.Encode()
	}
	if page.More {
		params.Set("marker", page.Images[len(page.Images)-1].ID)
		body["next"] = "/v2/images?" + params.Encode()
	}
	return api.JSON(http.StatusOK, body), nil
}

// listKeys are the query parameters that are not extra-property filters.
var listKeys = map[string]bool{
	"limit": true, "marker": true, "member_status": true, "tag": true, "sort": true, "sort_key": true,
	"sort_dir": true, "visibility": true, "os_hidden": true, "protected": true, "size": true, "size_min": true,
	"size_max": true, "created_at": true, "updated_at": true, "owner": true, "name": true, "id": true,
	"status": true, "container_format": true, "disk_format": true, "min_ram": true, "min_disk": true,
}

// listOptions reads Glance's list query: filters with "in:" and
// comparison operators, classic and new sort syntax, limit and marker;
// any other parameter filters on an extra property.
func listOptions(q url.Values) (image.ListOptions, error) {
	var o image.ListOptions
	if _, ok := q["changes-since"]; ok {
		return o, errs.Invalid("The \"changes-since\" filter is no longer available on v2.")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return o, errs.Invalid("limit param must be an integer")
		}
		if n < 0 {
			return o, errs.Invalid("limit param must be positive")
		}
		o.Limit = n
	}
	o.Marker = q.Get("marker")
	o.MemberStatus = q.Get("member_status")
	o.Visibility = q.Get("visibility")
	o.Owner = q.Get("owner")
	o.Tags = q["tag"]
	var err error
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"name", &o.Names}, {"id", &o.IDs}, {"status", &o.Statuses},
		{"container_format", &o.ContainerFormats}, {"disk_format", &o.DiskFormats}} {
		if v, ok := q[f.key]; ok {
			if *f.dst, err = inFilter(v[len(v)-1]); err != nil {
				return o, err
			}
		}
	}
	if v := q.Get("os_hidden"); v != "" {
		switch strings.ToLower(v) {
		case "true":
			o.OSHidden = true
		case "false":
		default:
			return o, errs.Invalid("Invalid value '%s' for 'os_hidden' filter. Valid values are 'true' or 'false'.", v)
		}
	}
	if v, ok := q["protected"]; ok {
		b, err := boolFilter("protected", v[0])
		if err != nil {
			return o, err
		}
		o.Protected = &b
	}
	for _, f := range []struct {
		key string
		dst **int64
	}{{"size_min", &o.SizeMin}, {"size_max", &o.SizeMax}} {
		if v := q.Get(f.key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return o, errs.Invalid("Unable to filter on a range with a non-numeric value.")
			}
			*f.dst = &n
		}
	}
	// size is an image column, so Glance's DB layer filters on it exactly.
	if v := q.Get("size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return o, errs.Invalid("Unable to filter on a range with a non-numeric value.")
		}
		if o.SizeMin == nil || *o.SizeMin < n {
			o.SizeMin = &n
		}
		if o.SizeMax == nil || *o.SizeMax > n {
			o.SizeMax = &n
		}
	}
	for _, f := range []struct {
		key string
		dst **int
	}{{"min_ram", &o.MinRAM}, {"min_disk", &o.MinDisk}} {
		if v := q.Get(f.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, errs.Invalid("Invalid value '%s' for '%s' filter", v, f.key)
			}
			*f.dst = &n
		}
	}
	for _, f := range []struct {
		key string
		dst *[]image.TimeFilter
	}{{"created_at", &o.CreatedAt}, {"updated_at", &o.UpdatedAt}} {
		for _, v := range q[f.key] {
			tf, err := timeFilter(f.key, v)
			if err != nil {
				return o, err
			}
			*f.dst = append(*f.dst, tf)
		}
	}
	if o.Sort, err = sorting(q); err != nil {
		return o, err
	}
	for k, vs := range q {
		if !listKeys[k] {
			if o.Properties == nil {
				o.Properties = map[string]string{}
			}
			o.Properties[k] = vs[len(vs)-1]
		}
	}
	return o, nil
}

func boolFilter(key, v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errs.Invalid("Invalid value '%s' for '%s' filter. Valid values are 'true' or 'false'.", v, key)
}

// splitOp splits "op:value"; a value without a known operator (an ISO
// time with colons, a plain name) is an equality test.
func splitOp(expr string) (op, value string) {
	left, right, ok := strings.Cut(expr, ":")
	if !ok {
		return "eq", expr
	}
	if _, err := parseISOTime(expr); err == nil {
		return "eq", expr
	}
	return left, right
}

// inFilter reads an equality or "in:" filter value.
func inFilter(expr string) ([]string, error) {
	op, v := splitOp(expr)
	switch op {
	case "eq":
		return []string{v}, nil
	case "in":
		return splitQuoted(v)
	}
	return nil, errs.Invalid("Unable to filter by unknown operator '%s'.", op)
}

var quotedItem = regexp.MustCompile(`"((?:[^"\\]|\\.)*)",?|([^,]+),?|,`)

// splitQuoted splits an "in:" list on commas; items may be quoted to
// hold commas.
func splitQuoted(v string) ([]string, error) {
	if (strings.Count(v, `"`)-strings.Count(v, `\"`))%2 != 0 {
		return nil, errs.Invalid("Invalid filter value %s. The quote is not closed.", v)
	}
	var out []string
	for _, m := range quotedItem.FindAllStringSubmatch(v, -1) {
		if m[1] != "" {
			out = append(out, strings.ReplaceAll(m[1], `\"`, `"`))
		} else {
			out = append(out, m[2])
		}
	}
	return out, nil
}

func parseISOTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errs.Invalid("invalid time %s", s)
}

func timeFilter(key, expr string) (image.TimeFilter, error) {
	op, v := splitOp(expr)
	switch op {
	case "gt", "gte", "eq", "neq", "lt", "lte":
	default:
		return image.TimeFilter{}, errs.Invalid("Invalid operator %s for %s filter", op, key)
	}
	t, err := parseISOTime(v)
	if err != nil {
		return image.TimeFilter{}, errs.Invalid("Bad \"%s\" query filter format. Use ISO 8601 DateTime notation.", key)
	}
	return image.TimeFilter{Op: op, At: t}, nil
}

// sorting reads sort=key:dir,... or the classic sort_key/sort_dir pairs.
func sorting(q url.Values) ([]image.Sort, error) {
	var out []image.Sort
	if v, ok := q["sort"]; ok {
		if q.Has("sort_key") || q.Has("sort_dir") {
			return nil, errs.Invalid("Old and new sorting syntax cannot be combined")
		}
		for _, part := range strings.Split(strings.TrimSpace(v[0]), ",") {
			key, dir, _ := strings.Cut(part, ":")
			dir = strings.TrimSpace(dir)
			if dir == "" {
				dir = "desc"
			}
			out = append(out, image.Sort{Key: strings.TrimSpace(key), Dir: dir})
		}
		return out, validDirs(out)
	}
	keys, dirs := q["sort_key"], q["sort_dir"]
	if len(dirs) > 1 && len(dirs) != len(keys) {
		return nil, errs.Invalid("Number of sort dirs does not match the number of sort keys")
	}
	for i, k := range keys {
		st := image.Sort{Key: strings.TrimSpace(k)}
		switch {
		case len(dirs) == 1:
			st.Dir = strings.TrimSpace(dirs[0])
		case i < len(dirs):
			st.Dir = strings.TrimSpace(dirs[i])
		}
		out = append(out, st)
	}
	if len(keys) == 0 && len(dirs) == 1 {
		out = append(out, image.Sort{Key: "created_at", Dir: strings.TrimSpace(dirs[0])})
	}
	return out, validDirs(out)
}

func validDirs(sorts []image.Sort) error {
	for _, st := range sorts {
		if st.Dir != "" && st.Dir != "asc" && st.Dir != "desc" {
			return errs.Invalid("Invalid sort direction: %s", st.Dir)
		}
	}
	return nil
}
