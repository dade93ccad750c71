package compute

import "github.com/kumocloud/kumo/internal/store"

// MaxFilterRegexpLen is the longest pattern a regex filter of the server
// list takes (ListOptions' regex columns).
const MaxFilterRegexpLen = store.MaxRegexpLen

// CheckFilterRegexp refuses a regex filter pattern the database engines
// would not run alike (store.CheckRegexp), so the API answers 400 on
// SQLite and PostgreSQL rather than PostgreSQL's 500.
func CheckFilterRegexp(pattern string) error { return store.CheckRegexp(pattern) }
