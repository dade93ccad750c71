package image

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
)

// List pagination limits (Glance's limit_param_default, api_limit_max).
const (
	DefaultLimit = 25
	MaxLimit     = 1000
)

// SortKeys are the attributes a list may be sorted by.
var SortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

// Sort is one sort key and direction.
type Sort struct {
	Key string
	Dir string // asc or desc
}

// TimeFilter compares a timestamp with Op (gt, gte, eq, neq, lt, lte).
type TimeFilter struct {
	Op string
	At time.Time
}

// ListOptions select and order the images of a list. Empty fields do not
// filter.
type ListOptions struct {
	// In-lists (Glance's "in:" operator) or single values.
	Names, IDs, Statuses, ContainerFormats, DiskFormats []string
	Visibility                                          string // public, private, shared, community, all
	MemberStatus                                        string // default accepted; all for any
	Owner                                               string
	Tags                                                []string
	Properties                                          map[string]string
	Protected                                           *bool
	OSHidden                                            bool // default lists only images that are not hidden
	SizeMin, SizeMax                                    *int64
	MinDisk, MinRAM                                     *int
	CreatedAt, UpdatedAt                                []TimeFilter
	Sort                                                []Sort
	Limit                                               int // 0 means DefaultLimit; capped at MaxLimit
	Marker                                              string
	// NoLimit returns every match (Nova's proxy pages through all).
	NoLimit bool
}

// Page is one page of a list; More reports that the page was full, so a
// next page may exist.
type Page struct {
	Images []*Image
	More   bool
}

// sortExpr gives each sort key an expression with one order on both
// engines: NULLs become the lowest value.
var sortExpr = map[string]string{
	"name": "COALESCE(i.name, '')", "status": "i.status",
	"container_format": "COALESCE(i.container_format, '')", "disk_format": "COALESCE(i.disk_format, '')",
	"size": "COALESCE(i.size, -1)", "id": "i.id", "created_at": "i.created_at", "updated_at": "i.updated_at",
}

// List returns the images the viewer may see that match o, Glance's way:
// public, owned, and shared images whose membership has the requested
// status; community images only when asked for (or owned).
func (s *Service) List(ctx context.Context, p *auth.Principal, o ListOptions) (*Page, error) {
	sorts, err := normalizeSorts(o.Sort)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	add("i.deleted = FALSE AND i.status <> ?", StatusKilled)
	if err := visibilityConditions(p, o, add); err != nil {
		return nil, err
	}
	fieldConditions(o, add)
	if o.Marker != "" {
		if err := s.markerCondition(ctx, p, o.Marker, sorts, add); err != nil {
			return nil, err
		}
	}
	q := `SELECT ` + imageColumns + ` FROM images i WHERE ` + strings.Join(where, " AND ") + ` ORDER BY `
	for i, st := range sorts {
		if i > 0 {
			q += ", "
		}
		q += sortExpr[st.Key] + " " + strings.ToUpper(st.Dir)
	}
	limit := o.Limit
	if limit <= 0 && !o.NoLimit {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if !o.NoLimit {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer rows.Close()
	page := &Page{Images: []*Image{}}
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("scan image: %w", err)
		}
		page.Images = append(page.Images, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	rows.Close()
	if err := loadDetails(ctx, s.db, page.Images); err != nil {
		return nil, err
	}
	page.More = !o.NoLimit && len(page.Images) > 0 && len(page.Images) == limit
	return page, nil
}

// normalizeSorts validates sort keys and appends created_at and id so the
// order is total and markers are unambiguous.
func normalizeSorts(in []Sort) ([]Sort, error) {
	out := []Sort{}
	defaultDir := "desc"
	if len(in) > 0 && in[0].Dir != "" {
		defaultDir = in[0].Dir
	}
	for _, st := range in {
		if !slices.Contains(SortKeys, st.Key) {
			return nil, errs.Invalid("Invalid sort key: %s. It must be one of the following: %s.", st.Key, strings.Join(SortKeys, ", "))
		}
		if st.Dir == "" {
			st.Dir = defaultDir
		}
		if st.Dir != "asc" && st.Dir != "desc" {
			return nil, errs.Invalid("Invalid sort direction: %s", st.Dir)
		}
		out = append(out, st)
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(out, func(st Sort) bool { return st.Key == k }) {
			out = append(out, Sort{Key: k, Dir: defaultDir})
		}
	}
	return out, nil
}

func visibilityConditions(p *auth.Principal, o ListOptions, add func(string, ...any)) error {
	if o.Visibility != "" && o.Visibility != "all" {
		if err := validVisibility(o.Visibility); err != nil {
			return errs.Invalid("Invalid visibility value: %s", o.Visibility)
		}
	}
	memberStatus := o.MemberStatus
	if memberStatus == "" {
		memberStatus = MemberAccepted
	}
	if !slices.Contains([]string{MemberPending, MemberAccepted, MemberRejected, "all"}, memberStatus) {
		return errs.Invalid("Invalid status: %s", memberStatus)
	}
	project := projectOf(p)
	if !p.IsAdmin() {
		member := `EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = ?`
		margs := []any{Public, Community, project, Shared, project}
		if memberStatus != "all" {
			member += ` AND m.status = ?`
			margs = append(margs, memberStatus)
		}
		add(`(i.visibility IN (?, ?) OR i.owner = ? OR (i.visibility = ? AND `+member+`)))`, margs...)
	}
	switch {
	case o.Visibility == "all":
	case o.Visibility != "":
		add("i.visibility = ?", o.Visibility)
	default:
		add("(i.owner = ? OR i.visibility <> ?)", project, Community)
	}
	return nil
}

func fieldConditions(o ListOptions, add func(string, ...any)) {
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		a := make([]any, len(vals))
		for i, v := range vals {
			a[i] = v
		}
		add(col+" IN ("+placeholders(len(vals))+")", a...)
	}
	in("i.name", o.Names)
	in("i.id", o.IDs)
	in("i.status", o.Statuses)
	in("i.container_format", o.ContainerFormats)
	in("i.disk_format", o.DiskFormats)
	if o.Owner != "" {
		add("i.owner = ?", o.Owner)
	}
	if o.Protected != nil {
		add("i.protected = ?", *o.Protected)
	}
	add("i.os_hidden = ?", o.OSHidden)
	if o.SizeMin != nil {
		add("i.size >= ?", *o.SizeMin)
	}
	if o.SizeMax != nil {
		add("i.size <= ?", *o.SizeMax)
	}
	if o.MinDisk != nil {
		add("i.min_disk = ?", *o.MinDisk)
	}
	if o.MinRAM != nil {
		add("i.min_ram = ?", *o.MinRAM)
	}
	for _, t := range o.Tags {
		add("EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.value = ?)", t)
	}
	for k, v := range o.Properties {
		add("EXISTS (SELECT 1 FROM image_properties pr WHERE pr.image_id = i.id AND pr.name = ? AND pr.value = ?)", k, v)
	}
	for _, f := range o.CreatedAt {
		timeCondition("i.created_at", f, add)
	}
	for _, f := range o.UpdatedAt {
		timeCondition("i.updated_at", f, add)
	}
}

// timeCondition compares at the one-second resolution timestamps are
// shown with, so "eq:" matches what a client read.
func timeCondition(col string, f TimeFilter, add func(string, ...any)) {
	lo := f.At.Truncate(time.Second).UnixMicro()
	hi := lo + int64(time.Second/time.Microsecond)
	switch f.Op {
	case "gt":
		add(col+" >= ?", hi)
	case "gte":
		add(col+" >= ?", lo)
	case "lt":
		add(col+" < ?", lo)
	case "lte":
		add(col+" < ?", hi)
	case "neq":
		add("("+col+" < ? OR "+col+" >= ?)", lo, hi)
	default: // eq
		add(col+" >= ? AND "+col+" < ?", lo, hi)
	}
}

// markerCondition keeps the rows after the marker image in the sort
// order: (k1 > m1) OR (k1 = m1 AND k2 > m2) OR ...
func (s *Service) markerCondition(ctx context.Context, p *auth.Principal, marker string, sorts []Sort, add func(string, ...any)) error {
	if _, err := getVisible(ctx, s.db, p, marker); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return errs.Invalid("No image found with ID %s", marker)
		}
		return err
	}
	exprs := make([]string, len(sorts))
	for i, st := range sorts {
		exprs[i] = sortExpr[st.Key]
	}
	values := make([]any, len(sorts))
	ptrs := make([]any, len(sorts))
	for i := range values {
		ptrs[i] = &values[i]
	}
	err := s.db.QueryRowContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM images i WHERE i.id = ?`, marker).Scan(ptrs...)
	if err != nil {
		return fmt.Errorf("load marker image: %w", err)
	}
	var ors []string
	var args []any
	for i, st := range sorts {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, exprs[j]+" = ?")
			args = append(args, normalizeValue(values[j]))
		}
		op := ">"
		if st.Dir == "desc" {
			op = "<"
		}
		ands = append(ands, exprs[i]+" "+op+" ?")
		args = append(args, normalizeValue(values[i]))
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	add("("+strings.Join(ors, " OR ")+")", args...)
	return nil
}

// normalizeValue turns driver byte slices back into strings so they bind
// as text on both engines.
func normalizeValue(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
