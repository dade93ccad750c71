package compute

import (
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

// actionView renders an action as Nova's ACTION_KEYS (updated_at from
// 2.58); times are naive UTC with microseconds.
func actionView(c *api.Call, a *compute.Action) map[string]any {
	m := map[string]any{
		"action":        a.Action,
		"instance_uuid": a.InstanceID,
		"request_id":    a.RequestID,
		"user_id":       a.UserID,
		"project_id":    a.ProjectID,
		"start_time":    actionTime(&a.StartTime),
		"message":       a.Message,
	}
	if c.AtLeast(mv.V2_58) {
		m["updated_at"] = actionTime(&a.UpdatedAt)
	}
	return m
}

// actionEventView renders an event for c: traceback for admins; from
// 2.62 the host for admins and the hashed hostId for everyone; from 2.84
// details for admins (policy os-instance-actions:events:details).
func actionEventView(c *api.Call, projectID string, e compute.ActionEvent) map[string]any {
	m := map[string]any{
		"event":       e.Event,
		"start_time":  actionTime(&e.StartTime),
		"finish_time": actionTime(e.FinishTime),
		"result":      e.Result,
	}
	admin := c.Allowed("os_compute_api:os-instance-actions:events:details", nil)
	if admin {
		m["traceback"] = e.Traceback
	}
	if c.AtLeast(mv.V2_62) {
		if admin {
			m["host"] = e.Host
		}
		m["hostId"] = hostID(projectID, e.Host)
	}
	if admin && c.AtLeast(mv.V2_84) {
		m["details"] = e.Details
	}
	return m
}

// actionTime is how Nova serialises these datetimes: naive ISO 8601 with
// microseconds, null when unset.
func actionTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(pyDatetimeLayout)
}
