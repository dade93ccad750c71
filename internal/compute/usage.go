package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// UsageOptions select the servers os-simple-tenant-usage reports.
type UsageOptions struct {
	// ProjectID limits the report to one project; "" is every project.
	ProjectID  string
	Start, End time.Time
	// Limit and Marker page through the servers (2.40), oldest first.
	Limit  int
	Marker string
}

// ActiveInWindow returns the servers, deleted ones included, that were
// running at some point of [Start, End): launched before End and not
// terminated before Start (Nova's instance_get_active_by_window_joined).
func (s *Service) ActiveInWindow(ctx context.Context, o UsageOptions) ([]*Server, error) {
	q := `SELECT ` + serverColumns + ` FROM instances WHERE (terminated_at IS NULL OR terminated_at > ?) AND launched_at < ?`
	args := []any{o.Start.UnixMicro(), o.End.UnixMicro()}
	if o.ProjectID != "" {
		q += ` AND project_id = ?`
		args = append(args, o.ProjectID)
	}
	if o.Marker != "" {
		var created, number int64
		err := s.DB.QueryRowContext(ctx, `SELECT created_at, number FROM instances WHERE id = ?`, o.Marker).Scan(&created, &number)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.Invalid("Marker %s could not be found.", o.Marker)
		}
		if err != nil {
			return nil, fmt.Errorf("usage marker: %w", err)
		}
		q += ` AND (created_at > ? OR (created_at = ? AND number > ?))`
		args = append(args, created, created, number)
	}
	limit := o.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	q += fmt.Sprintf(` ORDER BY created_at, number LIMIT %d`, limit)
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("usage servers: %w", err)
	}
	defer rows.Close()
	var out []*Server
	scanner := s.listScanner()
	for rows.Next() {
		srv, err := scanner.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("usage servers: %w", err)
		}
		out = append(out, srv)
	}
	return out, rows.Err()
}
