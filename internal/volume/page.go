package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/store"
)

// pageQuery builds Cinder's sorted, marker-paged listings: sort keys are
// mapped to SQL expressions, id is the final tie break (so the default
// created_at, id order is one index scan), and a marker continues after
// its row by keyset comparison.
type pageQuery struct {
	table      string
	alias      string
	sortable   map[string]string // API key -> SQL expression
	defaultKey string
	defaultDir string
}

func (pq pageQuery) build(ctx context.Context, q store.Querier, base string, where []string, args []any,
	sort []SortKey, marker string, limit, offset int, notFound func(string) error) (string, []any, error) {
	type key struct{ expr, dir string }
	var keys []key
	if len(sort) == 0 {
		sort = []SortKey{{Key: pq.defaultKey, Dir: pq.defaultDir}}
	}
	hasID := false
	for _, s := range sort {
		expr, ok := pq.sortable[s.Key]
		if !ok {
			return "", nil, invalidInput("Invalid sort key %s", s.Key)
		}
		dir := strings.ToLower(s.Dir)
		switch dir {
		case "":
			dir = "desc"
		case "asc", "desc":
		default:
			return "", nil, invalidInput("Unknown sort direction, must be 'desc' or 'asc'")
		}
		keys = append(keys, key{expr, dir})
		if s.Key == "id" {
			hasID = true
		}
	}
	if !hasID {
		keys = append(keys, key{pq.alias + ".id", keys[len(keys)-1].dir})
	}
	if marker != "" {
		exprs := make([]string, len(keys))
		for i, k := range keys {
			exprs[i] = k.expr
		}
		mq := `SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + pq.table + ` ` + pq.alias + joinsOf(base) +
			` WHERE ` + strings.Join(append(append([]string{}, where...), pq.alias+".id = ?"), " AND ")
		vals := make([]any, len(keys))
		ptrs := make([]any, len(keys))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err := q.QueryRowContext(ctx, mq, append(append([]any{}, args...), marker)...).Scan(ptrs...)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, notFound(marker)
		}
		if err != nil {
			return "", nil, fmt.Errorf("read marker %s: %w", marker, err)
		}
		// (k1 > m1) OR (k1 = m1 AND k2 > m2) OR ...
		var ors []string
		for i, k := range keys {
			var ands []string
			for j := 0; j < i; j++ {
				ands = append(ands, keys[j].expr+" = ?")
				args = append(args, vals[j])
			}
			op := ">"
			if k.dir == "desc" {
				op = "<"
			}
			ands = append(ands, k.expr+" "+op+" ?")
			args = append(args, vals[i])
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	sql := base
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = k.expr + " " + strings.ToUpper(k.dir)
	}
	sql += " ORDER BY " + strings.Join(order, ", ")
	if limit > 0 {
		sql += fmt.Sprintf(" LIMIT %d", limit)
	} else if offset > 0 {
		sql += " LIMIT -1"
		if q.Dialect() == store.Postgres {
			sql = strings.TrimSuffix(sql, " LIMIT -1") + " LIMIT ALL"
		}
	}
	if offset > 0 {
		sql += fmt.Sprintf(" OFFSET %d", offset)
	}
	return sql, args, nil
}

// joinsOf is the JOIN part of a "SELECT ... FROM t a JOIN ..." query, so
// the marker lookup can use the same expressions.
func joinsOf(base string) string {
	if i := strings.Index(base, " JOIN "); i >= 0 {
		return base[i:]
	}
	return ""
}
