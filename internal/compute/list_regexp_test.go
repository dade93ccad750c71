package compute_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// TestListFilterRegexpsTheDatabaseRefuses: filters valid in Go's RE2
// syntax (what the API checks) that PostgreSQL's engine cannot compile
// are a 400, not a 500 (found by FuzzServerList on PostgreSQL); SQLite
// runs RE2 itself and lists as usual.
func TestListFilterRegexpsTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		c.CreateServer(t, snapOwner, "aaa", nil)
		for _, pattern := range []string{`a{1000}`, `\pL`, strings.Repeat(`(a|b)*`, 17000)} {
			_, err := c.Compute.List(ctx, compute.ListOptions{ProjectID: snapOwner.ProjectID, Name: pattern, Limit: 10})
			switch {
			case c.DB.Dialect() == store.Postgres && errs.KindOf(err) != errs.KindInvalid:
				t.Errorf("name %.20q on PostgreSQL: %v, want an errs.Invalid", pattern, err)
			case c.DB.Dialect() != store.Postgres && err != nil:
				t.Errorf("name %.20q on SQLite: %v", pattern, err)
			}
		}
	})
}
