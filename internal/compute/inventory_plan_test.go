package compute

import (
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestInstanceCountReadsAnIndexOnly: the count every create runs reads
// the covering index, never the instances table, so it stays cheap with
// 10,000 servers in the project.
func TestInstanceCountReadsAnIndexOnly(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	for _, user := range []string{"", "u1"} {
		q, args := instanceCountQuery("p1", user)
		if plan := storetest.SQLitePlan(t, db, q, args...); !strings.Contains(plan, "COVERING INDEX instances_usage") {
			t.Errorf("count for user %q: plan %s", user, plan)
		}
	}
}
