package compute

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// MaxLimit is Nova's max_limit: the largest page a list returns.
const MaxLimit = 1000

// ListOptions filter, sort and page a server list. The API decides which
// options a caller may use (admins only, per microversion); the service
// applies whatever it is given. Name, Description, Hostname, Node, AZ,
// KeyName, ReservationID and the access IPs are unanchored regular
// expressions, as in Nova.
type ListOptions struct {
	ProjectID      string // "" = every project
	UserID         string
	OnlyDeleted    bool // deleted=True
	IncludeDeleted bool // changes-since without deleted=False
	Name           string
	Status         *state.Filter
	ImageRef       string
	FlavorID       string
	Host           string
	Node           string
	AZ             string
	KeyName        string
	ReservationID  string
	Hostname       string
	Description    string
	IDs            []string // restrict to these ids (ip filters); empty slice = nothing
	RestrictIDs    bool
	Locked         *bool
	ConfigDrive    *bool
	VMStates       []string
	TaskStates     []string
	PowerStates    []int
	AccessIPv4     string
	AccessIPv6     string
	ChangesSince   *time.Time
	ChangesBefore  *time.Time
	LaunchedAt     *time.Time
	TerminatedAt   *time.Time
	Tags           []string
	TagsAny        []string
	NotTags        []string
	NotTagsAny     []string
	SortKeys       []string // Nova's column names: created_at, display_name, ...
	SortDirs       []string // "asc"/"desc", one per key (missing: desc)
	Limit          int      // 0 = MaxLimit
	Marker         string

	// SoftDeleted is Nova's soft_deleted filter (nil: not given): with
	// deleted=False it adds soft-deleted servers, with deleted=True it
	// leaves them out when false.
	SoftDeleted *bool
}

// sortColumns maps Nova's sort keys to kumo's columns; nullable columns
// are coalesced so NULLs sort alike on both engines.
var sortColumns = map[string]string{
	"access_ip_v4": "access_ip_v4", "access_ip_v6": "access_ip_v6",
	"auto_disk_config": "disk_config", "availability_zone": "COALESCE(availability_zone, '')",
	"config_drive": "config_drive", "created_at": "created_at",
	"display_description": "COALESCE(description, '')", "display_name": "name",
	"host": "COALESCE(host, '')", "hostname": "hostname", "image_ref": "image_ref",
	"instance_type_id": "flavor_id", "key_name": "COALESCE(key_name, '')",
	"launch_index": "launch_index", "launched_at": "COALESCE(launched_at, 0)",
	"locked": "locked", "locked_by": "COALESCE(locked_by, '')", "node": "COALESCE(node, '')",
	"power_state": "power_state", "progress": "progress", "project_id": "project_id",
	"task_state": "COALESCE(task_state, '')", "terminated_at": "COALESCE(terminated_at, 0)",
	"updated_at": "updated_at", "user_id": "user_id", "uuid": "id", "vm_state": "vm_state",
	"reservation_id": "reservation_id", "id": "number",
}

// SortKeyKnown reports whether key is a sort key the service supports.
func SortKeyKnown(key string) bool { _, ok := sortColumns[key]; return ok }

type whereBuilder struct {
	conds []string
	args  []any
}

func (w *whereBuilder) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// List returns one page of servers matching o, with metadata and tags.
func (s *Service) List(ctx context.Context, o ListOptions) ([]*Server, error) {
	q, args, err := s.listQuery(ctx, o)
	if err != nil {
		return nil, err
	}
	page, err := s.listPage(ctx, q, args)
	if err != nil {
		return nil, err
	}
	if len(page) == 0 && o.Marker != "" {
		if err := s.markerExists(ctx, o.Marker); err != nil {
			return nil, err
		}
	}
	return s.loadServers(ctx, page)
}

// listPage runs a listQuery: the numbers and revisions of a page's
// servers, in order.
func (s *Service) listPage(ctx context.Context, q string, args []any) ([]pageRow, error) {
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, listError(err)
	}
	defer rows.Close()
	var page []pageRow
	for rows.Next() {
		var p pageRow
		if err := rows.Scan(&p.number, &p.rev); err != nil {
			return nil, listError(err)
		}
		page = append(page, p)
	}
	if err := rows.Err(); err != nil {
		return nil, listError(err)
	}
	return page, nil
}

// listError wraps a listing's database error. A regex filter that Go
// compiled (the API checks each with store.CheckRegexp) but PostgreSQL's
// dialect refuses is the caller's mistake, a 400, not a 500.
func listError(err error) error {
	if reason, ok := store.InvalidRegexp(err); ok {
		return &errs.Error{Kind: errs.KindInvalid, Message: "Invalid input for query parameters: " + reason, Err: err}
	}
	return fmt.Errorf("list servers: %w", err)
}

// loadPart is the fewest servers loadServers reads on a connection of
// their own.
const loadPart = 250

// loadServers returns the servers of page, in its order, with metadata
// and tags; a server deleted from the table meanwhile is left out. The
// servers come from the service's rowCache where it holds them at the
// page's revision. The others are read in parts, one per core, on
// connections of their own: SQLite's driver spends about 0.15 µs on
// each column it hands over, and reading a whole page of 1000 servers
// need not use one core only.
func (s *Service) loadServers(ctx context.Context, page []pageRow) ([]*Server, error) {
	out := make([]*Server, len(page))
	missing := s.rows.fill(page, out)
	numbers := make([]string, len(missing))
	for i, at := range missing {
		numbers[i] = strconv.FormatInt(page[at].number, 10)
	}
	read := make([]*Server, len(missing))
	parts := max(1, min(runtime.GOMAXPROCS(0), len(numbers)/loadPart))
	g, gctx := errgroup.WithContext(ctx)
	size := max(1, (len(numbers)+parts-1)/parts)
	for lo := 0; lo < len(numbers); lo += size {
		hi := min(lo+size, len(numbers))
		g.Go(func() error { return s.loadServersInto(gctx, numbers[lo:hi], read[lo:hi]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, at := range missing {
		out[at] = read[i]
	}
	return slices.DeleteFunc(out, func(srv *Server) bool { return srv == nil }), nil
}

// loadServersInto reads the servers with numbers, with their metadata
// and tags, into out at their numbers' positions: the rowCache keeps
// each server as read, out gets a copy. The details are read after the
// rows, so they are never older than the revision they are kept at.
func (s *Service) loadServersInto(ctx context.Context, numbers []string, out []*Server) error {
	at := make(map[int64]int, len(numbers))
	for i, n := range numbers {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return fmt.Errorf("load servers: number %q: %w", n, err)
		}
		at[v] = i
	}
	from, arg := store.StringsTable(s.DB, "k", numbers)
	rows, err := s.DB.QueryContext(ctx, `SELECT `+instanceColumns+`, instances.rev FROM `+from+
		` JOIN instances ON instances.number = CAST(k.value AS BIGINT)`, arg)
	if err != nil {
		return fmt.Errorf("load servers: %w", err)
	}
	defer rows.Close()
	scanner := s.listScanner()
	read := make([]cachedRow, 0, len(numbers))
	for rows.Next() {
		var e cachedRow
		if e.srv, err = scanner.scan(rows, &e.rev); err != nil {
			return fmt.Errorf("load servers: %w", err)
		}
		read = append(read, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load servers: %w", err)
	}
	rows.Close()
	if err := s.loadCachedDetails(ctx, read); err != nil {
		return err
	}
	for _, e := range read {
		out[at[e.srv.Number]] = copyServer(e.srv)
	}
	return nil
}

// listQuery is the SELECT of the numbers of one page of servers matching
// o (read off an index alone for the default filters), in o's
// order with kumo's tie-breaker, after o's marker.
func (s *Service) listQuery(ctx context.Context, o ListOptions) (string, []any, error) {
	w := &whereBuilder{}
	s.filters(w, o)
	keys, dirs := o.sortSpec()
	if o.Marker != "" {
		markerCondition(w, o.Marker, keys, dirs)
	}
	limit := o.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	var order []string
	for i, k := range keys {
		order = append(order, k+" "+dirs[i])
	}
	q := `SELECT number, rev FROM instances`
	if len(w.conds) > 0 {
		q += ` WHERE ` + strings.Join(w.conds, " AND ")
	}
	q += ` ORDER BY ` + strings.Join(order, ", ") + fmt.Sprintf(` LIMIT %d`, limit)
	return q, w.args, nil
}

// sortSpec resolves the sort keys to columns and directions, always
// ending with the unique number so pages never skip or repeat a server.
func (o ListOptions) sortSpec() (cols, dirs []string) {
	keys := o.SortKeys
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	last := "desc"
	for i, k := range keys {
		col, ok := sortColumns[k]
		if !ok {
			continue
		}
		dir := "desc"
		if i < len(o.SortDirs) && strings.EqualFold(o.SortDirs[i], "asc") {
			dir = "asc"
		}
		cols, dirs = append(cols, col), append(dirs, dir)
		last = dir
	}
	cols, dirs = append(cols, "number"), append(dirs, last)
	return cols, dirs
}

// markerCondition restricts the list to rows after the marker server in
// the sort order (keyset pagination). The marker's values are scalar
// subqueries of the page's query, not read before it: a page is one
// round trip. Each engine runs them once, and can still seek its index
// by them. The sort columns are never NULL (sortColumns coalesces the
// nullable ones), so an unknown marker, whose subqueries are NULL,
// matches no row: List then tells it apart from the end of the list.
func markerCondition(w *whereBuilder, marker string, cols, dirs []string) {
	val := func(col string) string {
		w.args = append(w.args, marker)
		return "(SELECT " + col + " FROM instances WHERE id = ?)"
	}
	var ors []string
	for i := range cols {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, cols[j]+" = "+val(cols[j]))
		}
		op := ">"
		if dirs[i] == "desc" {
			op = "<"
		}
		ands = append(ands, cols[i]+" "+op+" "+val(cols[i]))
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	w.conds = append(w.conds, "("+strings.Join(ors, " OR ")+")")
	// Implied by the OR above, but SQLite cannot seek by an OR: this
	// starts the index scan at the marker, not at the first page.
	op := ">="
	if dirs[0] == "desc" {
		op = "<="
	}
	w.conds = append(w.conds, cols[0]+" "+op+" "+val(cols[0]))
}

// markerExists tells an unknown marker (Nova's 400) from one with no
// servers after it: asked only when a page after a marker is empty.
func (s *Service) markerExists(ctx context.Context, marker string) error {
	var one int
	err := s.DB.QueryRowContext(ctx, `SELECT 1 FROM instances WHERE id = ?`, marker).Scan(&one)
	if isNoRows(err) {
		return errs.Invalid("marker [%s] not found", marker)
	}
	if err != nil {
		return fmt.Errorf("load marker: %w", err)
	}
	return nil
}

func (s *Service) filters(w *whereBuilder, o ListOptions) {
	switch {
	case o.OnlyDeleted && (o.SoftDeleted == nil || *o.SoftDeleted):
		w.add("(deleted = TRUE OR vm_state = ?)", string(state.VMSoftDeleted))
	case o.OnlyDeleted:
		w.add("deleted = TRUE")
	case o.IncludeDeleted:
	case o.SoftDeleted != nil && *o.SoftDeleted:
		w.add("deleted = FALSE")
	default: // Nova hides soft-deleted servers unless asked
		w.add("deleted = FALSE AND (vm_state IS NULL OR vm_state <> ?)", string(state.VMSoftDeleted))
	}
	eq := func(col, v string) {
		if v != "" {
			w.add(col+" = ?", v)
		}
	}
	eq("project_id", o.ProjectID)
	eq("user_id", o.UserID)
	eq("image_ref", o.ImageRef)
	eq("flavor_id", o.FlavorID)
	eq("host", o.Host)
	// Nova matches every other string filter as an unanchored regex.
	re := func(col, pattern string) {
		if pattern != "" {
			w.add(s.DB.Dialect().Regexp(col), pattern)
		}
	}
	re("COALESCE(node, '')", o.Node)
	re("COALESCE(availability_zone, '')", o.AZ)
	re("COALESCE(key_name, '')", o.KeyName)
	re("reservation_id", o.ReservationID)
	re("access_ip_v4", o.AccessIPv4)
	re("access_ip_v6", o.AccessIPv6)
	re("name", o.Name)
	re("hostname", o.Hostname)
	re("COALESCE(description, '')", o.Description)
	if o.Status != nil {
		w.add("vm_state IN ("+placeholders(len(o.Status.VMStates))+")", anySlice(o.Status.VMStates)...)
		if !o.Status.AnyTask {
			if len(o.Status.TaskStates) == 0 {
				w.add("1 = 0")
			} else {
				w.add("task_state IN ("+placeholders(len(o.Status.TaskStates))+")", anySlice(o.Status.TaskStates)...)
			}
		}
	}
	if len(o.VMStates) > 0 {
		w.add("vm_state IN ("+placeholders(len(o.VMStates))+")", anySlice(o.VMStates)...)
	}
	if len(o.TaskStates) > 0 {
		w.add("task_state IN ("+placeholders(len(o.TaskStates))+")", anySlice(o.TaskStates)...)
	}
	if len(o.PowerStates) > 0 {
		w.add("power_state IN ("+placeholders(len(o.PowerStates))+")", anySlice(o.PowerStates)...)
	}
	if o.RestrictIDs {
		if len(o.IDs) == 0 {
			w.add("1 = 0")
		} else {
			w.add("id IN ("+placeholders(len(o.IDs))+")", anySlice(o.IDs)...)
		}
	}
	if o.Locked != nil {
		w.add("locked = ?", *o.Locked)
	}
	if o.ConfigDrive != nil {
		if *o.ConfigDrive {
			w.add("config_drive <> ''")
		} else {
			w.add("config_drive = ''")
		}
	}
	// A server's updated is shown in whole seconds, as Nova's database
	// keeps it; the bounds compare that second, not the microseconds
	// kept (a server updated at 12:00:00.4 is shown 12:00:00, and
	// changes-before=12:00:00 must find it).
	if o.ChangesSince != nil {
		w.add("updated_at >= ?", secondCeil(*o.ChangesSince).UnixMicro())
	}
	if o.ChangesBefore != nil {
		w.add("updated_at < ?", o.ChangesBefore.Truncate(time.Second).Add(time.Second).UnixMicro())
	}
	if o.LaunchedAt != nil {
		w.add("launched_at >= ?", o.LaunchedAt.UnixMicro())
	}
	if o.TerminatedAt != nil {
		w.add("terminated_at >= ?", o.TerminatedAt.UnixMicro())
	}
	hasAll := func(tags []string) (string, []any) {
		return "id IN (SELECT instance_id FROM instance_tags WHERE tag IN (" + placeholders(len(tags)) +
			") GROUP BY instance_id HAVING COUNT(DISTINCT tag) = " + fmt.Sprint(len(tags)) + ")", anySlice(tags)
	}
	hasAny := func(tags []string) (string, []any) {
		return "id IN (SELECT instance_id FROM instance_tags WHERE tag IN (" + placeholders(len(tags)) + "))", anySlice(tags)
	}
	if len(o.Tags) > 0 {
		c, a := hasAll(o.Tags)
		w.add(c, a...)
	}
	if len(o.TagsAny) > 0 {
		c, a := hasAny(o.TagsAny)
		w.add(c, a...)
	}
	if len(o.NotTags) > 0 {
		c, a := hasAll(o.NotTags)
		w.add("NOT "+c, a...)
	}
	if len(o.NotTagsAny) > 0 {
		c, a := hasAny(o.NotTagsAny)
		w.add("NOT "+c, a...)
	}
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

var _ store.Querier = (*store.DB)(nil)

// secondCeil is t rounded up to a whole second: the first second whose
// stored times, shown in whole seconds, are not before t.
func secondCeil(t time.Time) time.Time {
	if c := t.Truncate(time.Second); !c.Equal(t) {
		return c.Add(time.Second)
	}
	return t
}
