package store

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
)

// SQLite has the REGEXP operator but no implementation; kumo registers
// one (Go's RE2 syntax, unanchored search like PostgreSQL's "~" and
// Python's re.search, which Nova uses for name filters).
func init() {
	var cache sync.Map // pattern -> *regexp.Regexp, at most maxCached entries
	var cached atomic.Int64
	const maxCached = 256
	sqlite.MustRegisterDeterministicScalarFunction("regexp", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		pattern, ok1 := args[0].(string)
		var subject string
		switch v := args[1].(type) {
		case string:
			subject = v
		case []byte:
			subject = string(v)
		case nil:
			return false, nil
		default:
			subject = fmt.Sprint(v)
		}
		if !ok1 {
			return false, nil
		}
		re, ok := cache.Load(pattern)
		if !ok {
			compiled, err := regexp.Compile(pattern)
			if err != nil {
				return nil, fmt.Errorf("invalid regular expression: %w", err)
			}
			re = compiled
			if cached.Add(1) <= maxCached {
				cache.Store(pattern, compiled)
			}
		}
		return re.(*regexp.Regexp).MatchString(subject), nil
	})
}

// Regexp is a condition that col matches the regular expression bound to
// the following "?" placeholder.
func (d Dialect) Regexp(col string) string {
	if d == Postgres {
		return col + " ~ ?"
	}
	return col + " REGEXP ?"
}
