package compute

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

// Instance action event results, as Nova writes them.
const (
	resultSuccess = "Success"
	resultError   = "Error"
)

// startAction records that p asked for action on srv (os-instance-actions).
func startAction(ctx context.Context, tx *store.Tx, srv *Server, action, requestID string, p *auth.Principal, now time.Time) (string, error) {
	id := uuid.NewString()
	ts := now.UnixMicro()
	err := tx.ExecDeferred(ctx, `INSERT INTO instance_actions (id, instance_id, project_id, user_id, action,
		request_id, start_time, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, srv.ID, p.ProjectID, p.UserID, action, requestID, ts, ts)
	if err != nil {
		return "", fmt.Errorf("record %s action: %w", action, err)
	}
	return id, nil
}

// recordEvent records a finished event of an action; a failed event also
// marks the action's message "Error", as Nova does.
func recordEvent(ctx context.Context, tx *store.Tx, actionID, event, host string, started time.Time, failure error, now time.Time) error {
	result, traceback, details := resultSuccess, "", ""
	if failure != nil {
		result, traceback, details = resultError, failure.Error(), failure.Error()
	}
	err := tx.ExecDeferred(ctx, `INSERT INTO instance_action_events (id, action_id, event, result, traceback,
		details, host, start_time, finish_time, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
		(SELECT COALESCE(MAX(seq), 0) + 1 FROM instance_action_events WHERE action_id = ?))`,
		uuid.NewString(), actionID, event, result, nullStr(traceback), nullStr(details), host, started.UnixMicro(), now.UnixMicro(), actionID)
	if err != nil {
		return fmt.Errorf("record %s event: %w", event, err)
	}
	if failure != nil {
		err = tx.ExecDeferred(ctx, `UPDATE instance_actions SET message = ?, updated_at = ? WHERE id = ?`, resultError, now.UnixMicro(), actionID)
	} else {
		err = tx.ExecDeferred(ctx, `UPDATE instance_actions SET updated_at = ? WHERE id = ?`, now.UnixMicro(), actionID)
	}
	if err != nil {
		return fmt.Errorf("update action: %w", err)
	}
	return nil
}

// recordFailedEvent records an event that failed before any host was
// involved (e.g. scheduling).
func recordFailedEvent(ctx context.Context, tx *store.Tx, actionID, event, host, message string, now time.Time) error {
	return recordEvent(ctx, tx, actionID, event, host, now, fmt.Errorf("%s", message), now)
}
