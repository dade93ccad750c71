package image

// Glance's tasks: the record of an import. Every import makes one
// (type api_image_import); the tasks API lists and shows them. Tasks
// live in the image_tasks table with their input and result as JSON.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Task types and statuses, as Glance names them.
const (
	TaskTypeImport         = "import" // the legacy tasks API import
	TaskTypeAPIImageImport = "api_image_import"
	TaskTypeLocationImport = "location_import"

	TaskPending    = "pending"
	TaskProcessing = "processing"
	TaskSuccess    = "success"
	TaskFailure    = "failure"
)

// TaskTypes and TaskStatuses are the values the task schema allows.
var (
	TaskTypes    = []string{TaskTypeImport, TaskTypeAPIImageImport, TaskTypeLocationImport}
	TaskStatuses = []string{TaskPending, TaskProcessing, TaskSuccess, TaskFailure}
)

// taskTimeToLive is how long a finished task is kept (Glance's
// [task] task_time_to_live, 48 hours).
const taskTimeToLive = 48 * time.Hour

// Task is one task record.
type Task struct {
	ID        string
	Type      string
	Status    string
	Owner     string
	ImageID   string
	RequestID string
	UserID    string
	Input     map[string]any
	Result    map[string]any // nil until the task succeeds
	Message   string
	ExpiresAt *int64 // set when the task ends
	CreatedAt int64
	UpdatedAt int64
}

const taskColumns = `id, type, status, owner, image_id, request_id, user_id, input, result, message, expires_at, created_at, updated_at`

func scanTask(r rowScanner) (*Task, error) {
	var (
		t                      Task
		imageID, reqID, userID sql.NullString
		input                  string
		result                 sql.NullString
		expires                sql.NullInt64
	)
	if err := r.Scan(&t.ID, &t.Type, &t.Status, &t.Owner, &imageID, &reqID, &userID, &input, &result,
		&t.Message, &expires, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	t.ImageID, t.RequestID, t.UserID = imageID.String, reqID.String, userID.String
	if err := json.Unmarshal([]byte(input), &t.Input); err != nil {
		return nil, fmt.Errorf("task %s input: %w", t.ID, err)
	}
	if result.Valid {
		if err := json.Unmarshal([]byte(result.String), &t.Result); err != nil {
			return nil, fmt.Errorf("task %s result: %w", t.ID, err)
		}
	}
	if expires.Valid {
		t.ExpiresAt = &expires.Int64
	}
	return &t, nil
}

func insertTask(ctx context.Context, q store.Querier, t *Task) error {
	input, err := json.Marshal(t.Input)
	if err != nil {
		return fmt.Errorf("encode task input: %w", err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO image_tasks (`+taskColumns+`) VALUES (?,?,?,?,?,?,?,?,NULL,?,NULL,?,?)`,
		t.ID, t.Type, t.Status, t.Owner, nullIfEmpty(t.ImageID), nullIfEmpty(t.RequestID), nullIfEmpty(t.UserID),
		string(input), t.Message, t.CreatedAt, t.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create task %s: %w", t.ID, err)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// loadTask reads a task that has not expired; store.ErrNotFound when
// there is none.
func loadTask(ctx context.Context, q store.Querier, id string) (*Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM image_tasks
		WHERE id = ? AND (expires_at IS NULL OR expires_at >= ?)`, id, store.Now()))
	if isNoRows(err) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load task %s: %w", id, err)
	}
	return t, nil
}

// taskVisible is Glance's _is_task_visible: admins see every task,
// others their project's.
func taskVisible(p *auth.Principal, t *Task) bool {
	return p.IsAdmin() || (projectOf(p) != "" && t.Owner == projectOf(p))
}

func taskNotFound(id string) error {
	return errs.NotFound("Task with the given ID %s was not found", id)
}

// GetTask returns a task the caller may see.
func (s *Service) GetTask(ctx context.Context, p *auth.Principal, id string) (*Task, error) {
	t, err := loadTask(ctx, s.db, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !taskVisible(p, t)) {
		return nil, taskNotFound(id)
	}
	return t, err
}

// TaskListOptions are GET /v2/tasks' query parameters.
type TaskListOptions struct {
	Status, Type     string
	SortKey, SortDir string
	Limit            int // 0: Glance's default (25); at most 1000
	Marker           string
}

// taskSortKeys are the task columns a list may sort by.
var taskSortKeys = []string{"id", "type", "status", "owner", "created_at", "updated_at", "expires_at"}

// ListTasks lists the tasks the caller may see, newest first unless
// asked otherwise; next is true when a further page may follow.
func (s *Service) ListTasks(ctx context.Context, p *auth.Principal, o TaskListOptions) ([]*Task, bool, error) {
	if o.Status != "" && !slices.Contains(TaskStatuses, o.Status) {
		return nil, false, errs.Invalid("Invalid status value: %s", o.Status)
	}
	if o.Type != "" && o.Type != TaskTypeImport {
		return nil, false, errs.Invalid("Invalid type value: %s", o.Type)
	}
	key, dir := cmp.Or(o.SortKey, "created_at"), cmp.Or(o.SortDir, "desc")
	if dir != "asc" && dir != "desc" {
		return nil, false, errs.Invalid("Invalid sort direction: %s", dir)
	}
	if !slices.Contains(taskSortKeys, key) {
		return nil, false, errs.Invalid("Invalid sort key: %s.", key)
	}
	limit := o.Limit
	if limit <= 0 {
		limit = 25
	}
	limit = min(limit, 1000)
	where := `(expires_at IS NULL OR expires_at >= ?)`
	args := []any{store.Now()}
	if !p.IsAdmin() {
		where += ` AND owner = ?`
		args = append(args, projectOf(p))
	}
	if o.Status != "" {
		where += ` AND status = ?`
		args = append(args, o.Status)
	}
	if o.Type != "" {
		where += ` AND type = ?`
		args = append(args, o.Type)
	}
	op := "<"
	if dir == "asc" {
		op = ">"
	}
	if o.Marker != "" {
		m, err := loadTask(ctx, s.db, o.Marker)
		if err != nil || !taskVisible(p, m) {
			return nil, false, errs.Invalid("Task with the given ID %s was not found", o.Marker)
		}
		var mv any
		if err := s.db.QueryRowContext(ctx, `SELECT `+key+` FROM image_tasks WHERE id = ?`, m.ID).Scan(&mv); err != nil {
			return nil, false, fmt.Errorf("read task marker: %w", err)
		}
		where += fmt.Sprintf(` AND (%[1]s %[2]s ? OR (%[1]s = ? AND (created_at %[2]s ? OR (created_at = ? AND id %[2]s ?))))`, key, op)
		args = append(args, mv, mv, m.CreatedAt, m.CreatedAt, m.ID)
	}
	q := `SELECT ` + taskColumns + ` FROM image_tasks WHERE ` + where +
		fmt.Sprintf(` ORDER BY %[1]s %[2]s, created_at %[2]s, id %[2]s LIMIT ?`, key, dir)
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, false, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, false, fmt.Errorf("scan task: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list tasks: %w", err)
	}
	return out, len(out) == limit, nil
}

// ImageTasks lists the unexpired tasks of an image the caller may get
// (GET /v2/images/{id}/tasks); an image it may not get is not found.
func (s *Service) ImageTasks(ctx context.Context, p *auth.Principal, imageID string) ([]*Task, error) {
	if _, err := getVisible(ctx, s.db, p, imageID); err != nil {
		return nil, errs.NotFound("The resource could not be found.")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+taskColumns+` FROM image_tasks
		WHERE image_id = ? AND (expires_at IS NULL OR expires_at >= ?) ORDER BY created_at, id`, imageID, store.Now())
	if err != nil {
		return nil, fmt.Errorf("list tasks of image %s: %w", imageID, err)
	}
	defer rows.Close()
	out := []*Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("scan task: %w", err)
		}
		if taskVisible(p, t) {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// finishTask records a task's end: success with its result or failure
// with a message; either way it expires after taskTimeToLive.
func finishTask(ctx context.Context, q store.Querier, id, status string, result map[string]any, message string) error {
	var res any
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("encode task result: %w", err)
		}
		res = string(b)
	}
	now := store.Now()
	_, err := q.ExecContext(ctx, `UPDATE image_tasks SET status = ?, result = ?, message = ?, expires_at = ?, updated_at = ?
		WHERE id = ?`, status, res, message, now+taskTimeToLive.Microseconds(), now, id)
	if err != nil {
		return fmt.Errorf("finish task %s: %w", id, err)
	}
	return nil
}
