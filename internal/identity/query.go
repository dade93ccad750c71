package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/store"
)

// conds collects WHERE conditions and their arguments.
type conds struct {
	parts []string
	args  []any
}

func (c *conds) add(cond string, args ...any) {
	c.parts = append(c.parts, cond)
	c.args = append(c.args, args...)
}

// in adds "col IN (?, ...)"; an empty list matches nothing.
func (c *conds) in(col string, vals []string) {
	if len(vals) == 0 {
		c.parts = append(c.parts, "1 = 0")
		return
	}
	c.parts = append(c.parts, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
	for _, v := range vals {
		c.args = append(c.args, v)
	}
}

func (c *conds) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// exists reports whether a query returns a row.
func exists(ctx context.Context, q store.Querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("query: %w", err)
	}
	return true, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
