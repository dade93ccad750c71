package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
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

// Bounds of a regular expression filter, so that one pattern is taken or
// refused alike on both engines (SQLite runs Go's regexp, PostgreSQL its
// own engine).
const (
	// MaxRegexpLen bounds a pattern in bytes. The columns filtered hold
	// at most 255 characters; four times that leaves room for an
	// alternation of several names.
	MaxRegexpLen = 1024
	// maxRegexpRepeat is PostgreSQL's largest repetition count (its
	// DUPMAX); Go's is 1000.
	maxRegexpRepeat = 255
	// maxRegexpInsts bounds the size of the compiled pattern. PostgreSQL
	// refuses patterns whose automaton is too large ("regular expression
	// is too complex"): 100,000 literal characters and (x{250}){255}
	// (64,000 Go instructions) were refused, 20,000 instructions were
	// not. SQLite runs Go's matcher, whose cost per row grows with it.
	maxRegexpInsts = 10000
)

// CheckRegexp reports why pattern cannot be used as a REGEXP filter, or
// nil. A pattern it accepts compiles in Go, uses no syntax that only Go
// knows and is within PostgreSQL's limits, so both engines take it; the
// rare one PostgreSQL still refuses, InvalidRegexp recognises.
func CheckRegexp(pattern string) error {
	if len(pattern) > MaxRegexpLen {
		return fmt.Errorf("pattern longer than %d bytes", MaxRegexpLen)
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return errors.New("pattern contains a NUL character")
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return err
	}
	if err := goOnlySyntax(pattern); err != nil {
		return err
	}
	if n := maxRepeat(re); n > maxRegexpRepeat {
		return fmt.Errorf("repetition count %d above %d", n, maxRegexpRepeat)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return err
	}
	if len(prog.Inst) > maxRegexpInsts {
		return errors.New("pattern too complex")
	}
	return nil
}

// goOnlySyntax finds syntax of Go's regexp that PostgreSQL refuses:
// Unicode classes (\pL), \Q...\E, \z, \x{41}, negated POSIX classes
// ([[:^alpha:]]), named groups, and flags other than one (?i), (?m) or
// (?s) group at the very start. It is a lexical scan, so it also refuses
// such text inside a bracket expression, where it would be harmless.
func goOnlySyntax(p string) error {
	if strings.Contains(p, "[:^") {
		return errors.New("negated POSIX class")
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 < len(p) {
				switch c := p[i+1]; {
				case strings.IndexByte("pPQEzC", c) >= 0, c == 'x' && strings.HasPrefix(p[i+2:], "{"):
					return fmt.Errorf("escape \\%c", c)
				}
			}
			i++
		case '(':
			if !strings.HasPrefix(p[i+1:], "?") || strings.HasPrefix(p[i+1:], "?:") {
				continue
			}
			flags, _, closed := strings.Cut(p[i+2:], ")")
			if i != 0 || !closed || flags == "" || strings.Trim(flags, "ims") != "" {
				return errors.New("group syntax or flags PostgreSQL does not take")
			}
		}
	}
	return nil
}

// maxRepeat is the largest bound of any {n,m} in re.
func maxRepeat(re *syntax.Regexp) int {
	n := 0
	if re.Op == syntax.OpRepeat {
		n = max(re.Min, re.Max)
	}
	for _, sub := range re.Sub {
		n = max(n, maxRepeat(sub))
	}
	return n
}

// InvalidRegexp reports whether err is PostgreSQL refusing a regular
// expression (SQLSTATE 2201B), one that CheckRegexp let through but that
// PostgreSQL's dialect does not take, and PostgreSQL's reason.
func InvalidRegexp(err error) (reason string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "2201B" {
		return pgErr.Message, true
	}
	return "", false
}
