package compute

// GET /os-migrations (Nova's migrations.py) and
// /servers/{id}/migrations[/{id}] (server_migrations.py: list, show,
// force_complete, abort).

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// migrationRoutes serve GET /os-migrations and GET /servers/{server_id}/migrations[/{migration_id}].
func (h *handlers) migrationRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/os-migrations", Rule: "os_compute_api:os-migrations:index", Handler: h.listMigrations},
		{Method: "GET", Path: "/servers/{server_id}/migrations", Rule: "os_compute_api:servers:migrations:index", Handler: h.listServerMigrations, MinVer: mv.V2_23},
		{Method: "GET", Path: "/servers/{server_id}/migrations/{migration_id}", Rule: "os_compute_api:servers:migrations:show", Handler: h.showServerMigration, MinVer: mv.V2_23},
		{Method: "DELETE", Path: "/servers/{server_id}/migrations/{migration_id}", Rule: "os_compute_api:servers:migrations:delete", Handler: h.abortServerMigration, MinVer: mv.V2_24},
		actionRoute("/servers/{server_id}/migrations/{migration_id}/action", map[string]action{
			"force_complete": {policy: "os_compute_api:servers:migrations:force_complete", minVer: mv.V2_22, handle: h.forceCompleteServerMigration},
		}),
	}
}

// forceCompleteSchema is Nova's force_complete body.
var forceCompleteSchema = js.Object([]string{"force_complete"}, js.Property{Name: "force_complete", Schema: js.Schema{js.Type("null")}})

// migrationIDParam is the path's migration id; one that is no integer
// names no migration (Nova's routes take \d+ only: a 404).
func migrationIDParam(c *api.Call) (int64, error) {
	id, err := strconv.ParseInt(c.Param("migration_id"), 10, 64)
	if err != nil || id < 0 {
		return 0, errs.NotFound("The resource could not be found.")
	}
	return id, nil
}

// forceCompleteServerMigration answers 202 with no body (2.22).
func (h *handlers) forceCompleteServerMigration(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := forceCompleteSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	id, err := migrationIDParam(c)
	if err != nil {
		return nil, err
	}
	return h.accepted(h.Servers.ForceCompleteLiveMigration(c.Ctx, c.Principal, c.Param("server_id"), id, c.RequestID))
}

// abortServerMigration answers 202 with no body (2.24; queued and
// preparing migrations too from 2.65).
func (h *handlers) abortServerMigration(c *api.Call) (*api.Reply, error) {
	id, err := migrationIDParam(c)
	if err != nil {
		return nil, err
	}
	return h.accepted(h.Servers.AbortLiveMigration(c.Ctx, c.Principal, c.Param("server_id"), id, c.AtLeast(mv.V2_65), c.RequestID))
}

// migrationsPolicy adds to the route's os-migrations:index Nova's
// index:all_projects unless the caller filters by their own project. It
// reports whether the caller may see hosts (index:host).
func migrationsPolicy(c *api.Call, projectFilter string) (bool, error) {
	if projectFilter == "" || projectFilter != c.ProjectID() {
		if err := c.Authorize("os_compute_api:os-migrations:index:all_projects", nil); err != nil {
			return false, err
		}
	}
	return c.Allowed("os_compute_api:os-migrations:index:host", nil), nil
}

// migrationQueryRules is the list query schema at c's version: before
// 2.59 anything goes (additionalProperties True), from 2.59 only these.
func migrationQueryRules(c *api.Call) []flavorQueryRule {
	rules := []flavorQueryRule{{"hidden", anyString}, {"host", anyString}, {"instance_uuid", anyString},
		{"source_compute", anyString}, {"status", anyString}, {"migration_type", anyString}}
	if !c.AtLeast(mv.V2_59) {
		return rules
	}
	rules = append(rules, flavorQueryRule{"limit", nonNegativeIntegerCheck}, flavorQueryRule{"marker", anyString},
		flavorQueryRule{"changes-since", dateTimeCheck})
	if c.AtLeast(mv.V2_66) {
		rules = append(rules, flavorQueryRule{"changes-before", dateTimeCheck})
	}
	if c.AtLeast(mv.V2_80) {
		rules = append(rules, flavorQueryRule{"user_id", anyString}, flavorQueryRule{"project_id", anyString})
	}
	return rules
}

func (h *handlers) listMigrations(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	if c.AtLeast(mv.V2_59) {
		var err error
		if q, err = checkQuery(c, migrationQueryRules(c), true); err != nil {
			return nil, err
		}
	}
	// Like Nova, every query parameter is a filter (before 2.59 even the
	// ones the schema does not name); a repeated one counts with its last
	// value.
	f := compute.MigrationFilter{Host: lastValue(q, "host"), SourceCompute: lastValue(q, "source_compute"),
		Node: lastValue(q, "node"), InstanceUUID: lastValue(q, "instance_uuid"), Type: lastValue(q, "migration_type"),
		UserID: lastValue(q, "user_id"), ProjectID: lastValue(q, "project_id")}
	if _, ok := q["status"]; ok {
		f.Status = []string{lastValue(q, "status")}
	}
	if _, ok := q["hidden"]; ok {
		if b, ok := strictBool(lastValue(q, "hidden")); ok {
			f.Hidden = &b
		}
	}
	showHosts, err := migrationsPolicy(c, f.ProjectID)
	if err != nil {
		return nil, err
	}
	paged := c.AtLeast(mv.V2_59)
	if paged {
		f.Sorted = true
		if _, ok := q["limit"]; ok {
			limit := keypairLimit(q)
			f.Limit = &limit
		} else {
			limit := maxLimit
			f.Limit = &limit
		}
		f.Marker = lastValue(q, "marker")
		if v := lastValue(q, "changes-since"); v != "" {
			t, _ := parseISOTime(v)
			f.ChangesSince = &t
		}
	}
	if c.AtLeast(mv.V2_66) {
		if v := lastValue(q, "changes-before"); v != "" {
			t, _ := parseISOTime(v)
			f.ChangesBefore = &t
			if f.ChangesSince != nil && t.Before(*f.ChangesSince) {
				return nil, errs.Invalid("The value of changes-since must be less than or equal to changes-before.")
			}
		}
	}
	found, err := h.Servers.ListMigrations(c.Ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, 0, len(found))
	for _, m := range found {
		if m.Hidden {
			continue
		}
		items = append(items, migrationView(c, m, showHosts))
	}
	body := map[string]any{"migrations": items}
	if paged && len(items) > 0 && len(items) == *f.Limit {
		body["migrations_links"] = []api.Link{{Rel: "next", Href: nextLink(c, "/os-migrations", q, found[len(found)-1].UUID)}}
	}
	return api.JSON(http.StatusOK, body), nil
}

// migrationView is one os-migrations record at c's version: migration_type
// from 2.23 (with links to /servers/{id}/migrations/{id} for in-progress
// live migrations), uuid from 2.59, user_id and project_id from 2.80;
// hosts are null for callers without os-migrations:index:host.
func migrationView(c *api.Call, m *compute.Migration, showHosts bool) map[string]any {
	out := map[string]any{
		"id": m.ID, "instance_uuid": m.InstanceUUID, "status": m.Status,
		"created_at": usageTime(&m.CreatedAt), "updated_at": usageTime(m.UpdatedAt),
		"old_instance_type_id": m.OldTypeID, "new_instance_type_id": m.NewTypeID,
		"source_compute": nil, "source_node": nil, "dest_compute": nil, "dest_node": nil, "dest_host": nil,
	}
	if showHosts {
		out["source_compute"], out["source_node"] = nullIfEmpty(m.SourceCompute), nullIfEmpty(m.SourceNode)
		out["dest_compute"], out["dest_node"] = nullIfEmpty(m.DestCompute), nullIfEmpty(m.DestNode)
		out["dest_host"] = nullIfEmpty(m.DestHost)
	}
	if c.AtLeast(mv.V2_23) {
		out["migration_type"] = m.Type
		if m.Type == compute.MigrationTypeLive && slices.Contains(compute.LiveMigrationInProgress, m.Status) {
			path := "/servers/" + m.InstanceUUID + "/migrations/" + strconv.FormatInt(m.ID, 10)
			out["links"] = []api.Link{{Href: c.Link(path), Rel: "self"}, {Href: bookmarkLink(c, path), Rel: "bookmark"}}
		}
	}
	if c.AtLeast(mv.V2_59) {
		out["uuid"] = m.UUID
	}
	if c.AtLeast(mv.V2_80) {
		out["user_id"], out["project_id"] = m.UserID, m.ProjectID
	}
	return out
}

// listServerMigrations lists a server's in-progress LIVE migrations, as
// Nova does (get_migrations_in_progress_by_instance(..., 'live-migration')):
// resizes, cold migrations and evacuations never show here.
func (h *handlers) listServerMigrations(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, c.AtLeast(mv.V2_102)); err != nil {
		return nil, err
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	found, err := h.Servers.InProgressLiveMigrations(c.Ctx, srv.ID)
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(found))
	for i, m := range found {
		items[i] = serverMigrationView(c, m, c.Allowed("os_compute_api:servers:migrations:index:host", nil))
	}
	return api.JSON(http.StatusOK, map[string]any{"migrations": items}), nil
}

// showServerMigration shows an in-progress live migration of a server
// (admins only); any other migration is Nova's 404.
func (h *handlers) showServerMigration(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, c.AtLeast(mv.V2_102)); err != nil {
		return nil, err
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	raw := c.Param("migration_id")
	var m *compute.Migration
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if m, err = h.Servers.MigrationOf(c.Ctx, srv.ID, id); err != nil {
			return nil, err
		}
	}
	switch {
	case m == nil:
		return nil, errs.NotFound("In-progress live migration %s is not found for server %s.", raw, srv.ID)
	case m.Type != compute.MigrationTypeLive:
		return nil, errs.NotFound("Migration %s for server %s is not live-migration.", raw, srv.ID)
	case !slices.Contains(compute.LiveMigrationInProgress, m.Status):
		return nil, errs.NotFound("Live migration %s for server %s is not in progress.", raw, srv.ID)
	}
	return api.JSON(http.StatusOK, map[string]any{"migration": serverMigrationView(c, m, true)}), nil
}

// serverMigrationView is Nova's server_migrations output(): the memory
// and disk counters are null until the migration first reports progress.
func serverMigrationView(c *api.Call, m *compute.Migration, showHosts bool) map[string]any {
	out := map[string]any{
		"id": m.ID, "server_uuid": m.InstanceUUID, "status": m.Status,
		"created_at": usageTime(&m.CreatedAt), "updated_at": usageTime(m.UpdatedAt),
		"memory_total_bytes": nil, "memory_processed_bytes": nil, "memory_remaining_bytes": nil,
		"disk_total_bytes": nil, "disk_processed_bytes": nil, "disk_remaining_bytes": nil,
		"source_compute": nil, "source_node": nil, "dest_compute": nil, "dest_node": nil, "dest_host": nil,
	}
	if p := m.Progress; p != nil {
		out["memory_total_bytes"], out["memory_processed_bytes"], out["memory_remaining_bytes"] = p.MemoryTotal, p.MemoryProcessed, p.MemoryRemaining
		out["disk_total_bytes"], out["disk_processed_bytes"], out["disk_remaining_bytes"] = p.DiskTotal, p.DiskProcessed, p.DiskRemaining
	}
	if showHosts {
		out["source_compute"], out["source_node"] = nullIfEmpty(m.SourceCompute), nullIfEmpty(m.SourceNode)
		out["dest_compute"], out["dest_node"] = nullIfEmpty(m.DestCompute), nullIfEmpty(m.DestNode)
		out["dest_host"] = nullIfEmpty(m.DestHost)
	}
	if c.AtLeast(mv.V2_59) {
		out["uuid"] = m.UUID
	}
	if c.AtLeast(mv.V2_80) {
		out["user_id"], out["project_id"] = m.UserID, m.ProjectID
	}
	return out
}
