package compute

// os-simple-tenant-usage (Nova's simple_tenant_usage.py): server hours,
// vCPU, RAM and disk usage per project over a time window. Admins list
// every project; a project's members may read their own. 2.40 pages
// through the servers with limit and marker.

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// usageRoutes serve os-simple-tenant-usage.
func (h *handlers) usageRoutes() []api.Route {
	const pol = "os_compute_api:os-simple-tenant-usage:"
	return []api.Route{
		{Method: "GET", Path: "/os-simple-tenant-usage", Rule: pol + "list", Handler: h.listUsage},
		{Method: "GET", Path: "/os-simple-tenant-usage/{tenant_id}", Rule: pol + "show", Target: projectInPath, Handler: h.showUsage},
	}
}

func usageQueryRules(c *api.Call) []flavorQueryRule {
	rules := []flavorQueryRule{{"start", anyString}, {"end", anyString}, {"detailed", anyString}}
	if c.AtLeast(mv.V2_40) {
		rules = append(rules, flavorQueryRule{"limit", nonNegativeIntegerCheck}, flavorQueryRule{"marker", anyString})
	}
	return rules
}

// usageWindow reads start and end as Nova does; end is never later than
// now. Nova reads an absent one as the time it parses it, so an absent
// start is a moment before an absent end, which is before now.
func usageWindow(q url.Values, now time.Time) (start, end time.Time, err error) {
	parse := func(s string, absent time.Time) (time.Time, error) {
		if s == "" {
			return absent, nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, errs.Invalid("Invalid datetime string: Datetime is in invalid format")
	}
	if start, err = parse(q.Get("start"), now.Add(-2*time.Microsecond)); err != nil {
		return
	}
	if end, err = parse(q.Get("end"), now.Add(-time.Microsecond)); err != nil {
		return
	}
	if !start.Before(end) {
		return start, end, errs.Invalid("Invalid start time. The start time cannot occur after the end time.")
	}
	if end.After(now) {
		end = now
	}
	return start, end, nil
}

func (h *handlers) usageReport(c *api.Call, projectID string) (map[string]any, []*compute.Server, url.Values, error) {
	q, err := checkQuery(c, usageQueryRules(c), strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now().UTC()
	start, end, err := usageWindow(q, now)
	if err != nil {
		return nil, nil, nil, err
	}
	o := compute.UsageOptions{ProjectID: projectID, Start: start, End: end}
	if c.AtLeast(mv.V2_40) {
		o.Limit, _ = strconv.Atoi(q.Get("limit"))
		o.Marker = q.Get("marker")
	}
	servers, err := h.Servers.ActiveInWindow(c.Ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	return usageSummaries(servers, start, end, now), servers, q, nil
}

// usageSummaries is Nova's _tenant_usages_for_period: one summary per
// project in order of first appearance, keyed by project id.
func usageSummaries(servers []*compute.Server, start, end, now time.Time) map[string]any {
	order := []string{}
	byProject := map[string]map[string]any{}
	for _, srv := range servers {
		hours := usageHours(srv, start, end)
		local := srv.Flavor.Disk + srv.Flavor.Ephemeral
		started := srv.LaunchedAt.UTC()
		st, uptime := string(srv.VMState), now.Sub(started)
		var ended any
		if srv.TerminatedAt != nil {
			st, uptime, ended = "terminated", srv.TerminatedAt.Sub(started), pyISOTime(srv.TerminatedAt.UTC())
		}
		info := map[string]any{
			"instance_id": srv.ID, "name": srv.Name, "tenant_id": srv.ProjectID, "flavor": srv.Flavor.Name,
			"hours": hours, "memory_mb": srv.Flavor.RAM, "local_gb": local, "vcpus": srv.Flavor.VCPUs,
			"started_at": pyISOTime(started), "ended_at": ended, "state": st, "uptime": int(uptime.Seconds()),
		}
		sum, ok := byProject[srv.ProjectID]
		if !ok {
			sum = map[string]any{
				"tenant_id": srv.ProjectID, "server_usages": []map[string]any{},
				"total_local_gb_usage": 0.0, "total_vcpus_usage": 0.0, "total_memory_mb_usage": 0.0, "total_hours": 0.0,
				"start": pyISOTime(start), "stop": pyISOTime(end),
			}
			byProject[srv.ProjectID] = sum
			order = append(order, srv.ProjectID)
		}
		sum["total_local_gb_usage"] = sum["total_local_gb_usage"].(float64) + float64(local)*hours
		sum["total_vcpus_usage"] = sum["total_vcpus_usage"].(float64) + float64(srv.Flavor.VCPUs)*hours
		sum["total_memory_mb_usage"] = sum["total_memory_mb_usage"].(float64) + float64(srv.Flavor.RAM)*hours
		sum["total_hours"] = sum["total_hours"].(float64) + hours
		sum["server_usages"] = append(sum["server_usages"].([]map[string]any), info)
	}
	return map[string]any{"order": order, "by": byProject}
}

// usageHours is Nova's _hours_for: the hours of [start, end] the server ran.
func usageHours(srv *compute.Server, start, end time.Time) float64 {
	if srv.LaunchedAt == nil {
		return 0
	}
	if srv.TerminatedAt != nil && srv.TerminatedAt.Before(start) {
		return 0
	}
	if srv.LaunchedAt.After(end) {
		return 0
	}
	from, to := *srv.LaunchedAt, end
	if from.Before(start) {
		from = start
	}
	if srv.TerminatedAt != nil && srv.TerminatedAt.Before(to) {
		to = *srv.TerminatedAt
	}
	return to.Sub(from).Seconds() / 3600
}

// pyISOTime prints a naive UTC time as Python's isoformat does (no
// fraction when the microseconds are zero).
func pyISOTime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}

// usageLinks is Nova's next link: present when the page is full.
func usageLinks(c *api.Call, coll string, q url.Values, servers []*compute.Server) []api.Link {
	limit := compute.MaxLimit
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < limit {
		limit = n
	}
	if len(servers) == 0 || len(servers) != limit {
		return nil
	}
	return []api.Link{{Rel: "next", Href: nextLink(c, coll, q, servers[len(servers)-1].ID)}}
}

func (h *handlers) listUsage(c *api.Call) (*api.Reply, error) {
	report, servers, q, err := h.usageReport(c, "")
	if err != nil {
		return nil, err
	}
	detailed := q.Get("detailed") == "1"
	usages := []map[string]any{}
	for _, id := range report["order"].([]string) {
		sum := report["by"].(map[string]map[string]any)[id]
		if !detailed {
			delete(sum, "server_usages")
		}
		usages = append(usages, sum)
	}
	body := map[string]any{"tenant_usages": usages}
	if c.AtLeast(mv.V2_40) {
		if links := usageLinks(c, "/os-simple-tenant-usage", q, servers); links != nil {
			body["tenant_usages_links"] = links
		}
	}
	return api.JSON(http.StatusOK, body), nil
}

func (h *handlers) showUsage(c *api.Call) (*api.Reply, error) {
	project := c.Param("tenant_id")
	report, servers, q, err := h.usageReport(c, project)
	if err != nil {
		return nil, err
	}
	usage := map[string]any{}
	if sum, ok := report["by"].(map[string]map[string]any)[project]; ok {
		usage = sum
	}
	body := map[string]any{"tenant_usage": usage}
	if c.AtLeast(mv.V2_40) {
		if links := usageLinks(c, "/os-simple-tenant-usage/"+project, q, servers); links != nil {
			body["tenant_usage_links"] = links
		}
	}
	return api.JSON(http.StatusOK, body), nil
}
