package compute_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestListQueriesUseIndexes: the pages of the default order, with and
// without a marker, for a project and for every project, are read off an
// index alone: SQLite neither reads nor scans the instances table nor
// sorts the matching servers in a temporary B-tree, and a marker page
// starts at the marker, so a page costs the same with 10,000 servers as
// with 100.
func TestListQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	c := computetest.New(t, filepath.Join(t.TempDir(), "kumo.db"), computetest.Options{Stopped: true})
	ctx := context.Background()
	marker := c.CreateServer(t, snapOwner, "m", nil).Servers[0].ID
	cases := map[string]compute.ListOptions{
		"project":              {ProjectID: "p1", Limit: 100},
		"project after marker": {ProjectID: "p1", Limit: 100, Marker: marker},
		"all projects":         {Limit: 100},
		"all after marker":     {Limit: 100, Marker: marker},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			q, args, err := c.Compute.ListQuery(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			text := storetest.SQLitePlan(t, c.DB, q, args...)
			ranged := o.Marker == "" || strings.Contains(text, "created_at<?")
			if !strings.Contains(text, "USING COVERING INDEX") || !ranged || strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "SCAN instances") {
				t.Errorf("plan of %s: %s", q, text)
			}
		})
	}
}
