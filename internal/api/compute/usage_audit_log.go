package compute

// os-instance_usage_audit_log (Nova's instance_usage_audit_log.py): the
// state of the periodic instance usage audit of each compute host for
// the last completed audit period (a month, Nova's default). kumo's
// hosts do not run that audit (Nova's instance_usage_audit=False), so
// every compute host is reported as not run, as Nova reports it then.

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// usageAuditLogRoutes serve os-instance_usage_audit_log.
func (h *handlers) usageAuditLogRoutes() []api.Route {
	rule := func(op string) string { return "os_compute_api:os-instance-usage-audit-log:" + op }
	return []api.Route{
		{Method: "GET", Path: "/os-instance_usage_audit_log", Rule: rule("list"), Handler: h.listUsageAuditLogs},
		{Method: "GET", Path: "/os-instance_usage_audit_log/{before}", Rule: rule("show"), Handler: h.showUsageAuditLog},
	}
}

func (h *handlers) listUsageAuditLogs(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	log, err := h.usageAuditLog(c, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"instance_usage_audit_logs": log}), nil
}

func (h *handlers) showUsageAuditLog(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	raw := c.Param("before")
	layout := "2006-01-02 15:04:05"
	if strings.Contains(raw, ".") {
		layout = "2006-01-02 15:04:05.999999"
	}
	before, err := time.Parse(layout, raw)
	if err != nil {
		return nil, errs.Invalid("Invalid timestamp for date %s", raw)
	}
	log, err := h.usageAuditLog(c, before)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"instance_usage_audit_log": log}), nil
}

// lastAuditPeriod is Nova's last_completed_audit_period for its default
// unit, a month starting on the 1st.
func lastAuditPeriod(before time.Time) (begin, end time.Time) {
	end = time.Date(before.Year(), before.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !end.Before(before) {
		end = end.AddDate(0, -1, 0)
	}
	return end.AddDate(0, -1, 0), end
}

func (h *handlers) usageAuditLog(c *api.Call, before time.Time) (map[string]any, error) {
	all, err := h.Hosts.Services(c.Ctx)
	if err != nil {
		return nil, err
	}
	notRun := []string{}
	for _, s := range all {
		if s.Binary == "nova-compute" {
			notRun = append(notRun, s.Host)
		}
	}
	begin, end := lastAuditPeriod(before)
	const pyStr = "2006-01-02 15:04:05"
	return map[string]any{
		"period_beginning": begin.Format(pyStr), "period_ending": end.Format(pyStr),
		"num_hosts": len(notRun), "num_hosts_done": 0, "num_hosts_running": 0,
		"num_hosts_not_run": len(notRun), "hosts_not_run": notRun,
		"total_instances": 0, "total_errors": 0, "log": map[string]any{},
		"overall_status": overallAuditStatus(0, len(notRun), 0),
	}, nil
}

// overallAuditStatus is Nova's "ALL hosts done. 0 errors." or "0 of 2
// hosts done. 0 errors.".
func overallAuditStatus(done, total, errors int) string {
	if done == total {
		return fmt.Sprintf("ALL hosts done. %d errors.", errors)
	}
	return fmt.Sprintf("%d of %d hosts done. %d errors.", done, total, errors)
}
