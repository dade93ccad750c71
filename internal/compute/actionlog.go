package compute

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Action is one recorded instance action (os-instance-actions), with its
// events when read through GetAction.
type Action struct {
	ID         string
	InstanceID string
	ProjectID  string
	UserID     string
	Action     string
	RequestID  string
	Message    *string // "Error" once an event failed
	StartTime  time.Time
	FinishTime *time.Time
	UpdatedAt  time.Time
	Events     []ActionEvent
}

// ActionEvent is one step of an action, as a compute host or the
// scheduler recorded it.
type ActionEvent struct {
	Event      string
	Result     *string
	Traceback  *string
	Details    *string
	Host       string // "" when no host was involved
	StartTime  time.Time
	FinishTime *time.Time
}

// ActionListOptions narrow and page ListActions.
type ActionListOptions struct {
	// Limit caps the page; nil lists every action, 0 none.
	Limit *int
	// Marker is the request_id of the last action of the previous page.
	Marker *string
	// ChangesSince and ChangesBefore bound updated_at (inclusive).
	ChangesSince  *time.Time
	ChangesBefore *time.Time
	// WithDeleted reads actions of deleted servers too (2.21).
	WithDeleted bool
}

const actionColumns = `id, instance_id, project_id, user_id, action, request_id, message, start_time,
	finish_time, updated_at`

// ListActions returns a server's actions, newest first, as Nova's
// actions_get pages them (start time, then id, descending).
func (s *Service) ListActions(ctx context.Context, p *auth.Principal, serverID string, o ActionListOptions) ([]*Action, error) {
	if _, err := s.actionServer(ctx, p, serverID, o.WithDeleted); err != nil {
		return nil, err
	}
	if o.Limit != nil && *o.Limit == 0 {
		return []*Action{}, nil
	}
	w := &whereBuilder{}
	w.add(`instance_id = ?`, serverID)
	if o.ChangesSince != nil {
		w.add(`updated_at >= ?`, o.ChangesSince.UnixMicro())
	}
	if o.ChangesBefore != nil {
		w.add(`updated_at <= ?`, o.ChangesBefore.UnixMicro())
	}
	if o.Marker != nil {
		marker, err := s.actionByRequestID(ctx, serverID, *o.Marker)
		if err != nil {
			return nil, err
		}
		if marker == nil {
			// Nova reports the marker it failed to load, which is None by
			// then (db.actions_get rebinds the name before raising).
			return nil, errs.Invalid("Marker None could not be found.")
		}
		w.add(`(start_time < ? OR (start_time = ? AND id < ?))`,
			marker.StartTime.UnixMicro(), marker.StartTime.UnixMicro(), marker.ID)
	}
	query := `SELECT ` + actionColumns + ` FROM instance_actions WHERE ` + strings.Join(w.conds, " AND ") + ` ORDER BY start_time DESC, id DESC`
	args := w.args
	if o.Limit != nil {
		query += ` LIMIT ?`
		args = append(args, *o.Limit)
	}
	rows, err := s.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list actions of %s: %w", serverID, err)
	}
	defer rows.Close()
	actions := []*Action{}
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("read action of %s: %w", serverID, err)
		}
		actions = append(actions, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list actions of %s: %w", serverID, err)
	}
	return actions, nil
}

// GetAction returns the server's action with requestID and its events,
// newest first. withDeleted reads deleted servers' actions (2.21).
func (s *Service) GetAction(ctx context.Context, p *auth.Principal, serverID, requestID string, withDeleted bool) (*Action, error) {
	if _, err := s.actionServer(ctx, p, serverID, withDeleted); err != nil {
		return nil, err
	}
	a, err := s.actionByRequestID(ctx, serverID, requestID)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, errs.NotFound("Action %s not found", requestID)
	}
	a.Events, err = s.actionEvents(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// actionServer loads the server whose actions p reads (the route has
// checked os-instance-actions' rule): another project's server is a 404,
// as Nova cannot find it.
func (s *Service) actionServer(ctx context.Context, p *auth.Principal, serverID string, withDeleted bool) (*Server, error) {
	srv, err := s.get(ctx, s.DB, serverID, withDeleted)
	if err != nil {
		return nil, err
	}
	if !canSee(p, srv) {
		return nil, notFound(serverID)
	}
	return srv, nil
}

// actionByRequestID is the newest action of the server with requestID,
// or nil.
func (s *Service) actionByRequestID(ctx context.Context, serverID, requestID string) (*Action, error) {
	a, err := scanAction(s.DB.QueryRowContext(ctx, `SELECT `+actionColumns+` FROM instance_actions
		WHERE instance_id = ? AND request_id = ? ORDER BY start_time DESC, id DESC LIMIT 1`, serverID, requestID))
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load action %s of %s: %w", requestID, serverID, err)
	}
	return a, nil
}

func (s *Service) actionEvents(ctx context.Context, actionID string) ([]ActionEvent, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT event, result, traceback, details, host, start_time, finish_time
		FROM instance_action_events WHERE action_id = ? ORDER BY start_time DESC, seq DESC`, actionID)
	if err != nil {
		return nil, fmt.Errorf("list events of action %s: %w", actionID, err)
	}
	defer rows.Close()
	events := []ActionEvent{}
	for rows.Next() {
		var e ActionEvent
		var result, traceback, details sql.NullString
		var start int64
		var finish sql.NullInt64
		if err := rows.Scan(&e.Event, &result, &traceback, &details, &e.Host, &start, &finish); err != nil {
			return nil, fmt.Errorf("read event of action %s: %w", actionID, err)
		}
		e.Result, e.Traceback, e.Details = store.StringPtr(result), store.StringPtr(traceback), store.StringPtr(details)
		e.StartTime, e.FinishTime = store.Time(start), optTime(finish)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events of action %s: %w", actionID, err)
	}
	return events, nil
}

func scanAction(r rowScanner) (*Action, error) {
	var a Action
	var message sql.NullString
	var start, updated int64
	var finish sql.NullInt64
	if err := r.Scan(&a.ID, &a.InstanceID, &a.ProjectID, &a.UserID, &a.Action, &a.RequestID, &message,
		&start, &finish, &updated); err != nil {
		return nil, err
	}
	a.Message, a.FinishTime = store.StringPtr(message), optTime(finish)
	a.StartTime, a.UpdatedAt = store.Time(start), store.Time(updated)
	return &a, nil
}
