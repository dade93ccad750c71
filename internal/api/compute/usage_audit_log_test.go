package compute_test

import (
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestInstanceUsageAuditLog(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		admin := x.client.As(hostsAdmin, "2.1")
		dir := "nova/api_samples/os-instance-usage-audit-log/"
		// kumo runs no usage audit, so the sample's per-host log entries never appear.
		var optional []string
		for _, root := range []string{"instance_usage_audit_logs", "instance_usage_audit_log"} {
			for _, host := range []string{"2c8ef37b-f0cc-4a9e-92a6-32df0095cb12", "60dbe74d-0cf3-419b-83f5-407e4b78c7b4", "2aa90c00-23eb-4da6-aff9-eda66bb56182"} {
				optional = append(optional, root+".log."+host)
			}
		}
		list := admin.Do("GET", "/v2.1/os-instance_usage_audit_log", nil).Expect(t, 200)
		apisamples.Assert(t, dir+"inst-usage-audit-log-index-get-resp.json", list.Body, apisamples.Options{Optional: optional})
		show := admin.Do("GET", "/v2.1/os-instance_usage_audit_log/2012-07-05%2010:00:00", nil).Expect(t, 200)
		apisamples.Assert(t, dir+"inst-usage-audit-log-show-get-resp.json", show.Body, apisamples.Options{Optional: optional})

		log := show.JSON(t)["instance_usage_audit_log"].(map[string]any)
		if log["period_beginning"] != "2012-06-01 00:00:00" || log["period_ending"] != "2012-07-01 00:00:00" {
			t.Errorf("period %v - %v, want June 2012", log["period_beginning"], log["period_ending"])
		}
		// The hosts: the cloud's own (fake-host), node-a and node-b.
		if log["num_hosts"] != float64(3) || log["num_hosts_not_run"] != float64(3) || log["overall_status"] != "0 of 3 hosts done. 0 errors." {
			t.Errorf("hosts: %v", log)
		}
		// The first of a month belongs to the month before it.
		first := admin.Do("GET", "/v2.1/os-instance_usage_audit_log/2012-07-01%2000:00:00.000000", nil).Expect(t, 200).JSON(t)["instance_usage_audit_log"].(map[string]any)
		if first["period_beginning"] != "2012-05-01 00:00:00" {
			t.Errorf("period before 2012-07-01: %v", first["period_beginning"])
		}
		now := list.JSON(t)["instance_usage_audit_logs"].(map[string]any)
		if want := time.Date(time.Now().UTC().Year(), time.Now().UTC().Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02 15:04:05"); now["period_ending"] != want {
			t.Errorf("current period ends %v, want %s", now["period_ending"], want)
		}
		if msg := faultMessage(t, admin.Do("GET", "/v2.1/os-instance_usage_audit_log/yesterday", nil).Expect(t, 400)); msg != "Invalid timestamp for date yesterday" {
			t.Errorf("bad timestamp: %q", msg)
		}
		x.client.As(hostsMember, "2.1").Do("GET", "/v2.1/os-instance_usage_audit_log", nil).Expect(t, 403)
		x.client.As(hostsMember, "2.1").Do("GET", "/v2.1/os-instance_usage_audit_log/2012-07-05%2010:00:00", nil).Expect(t, 403)
	})
}
