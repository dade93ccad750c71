package compute_test

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
)

// recheckQuotas is the real quota engine, watching the per-server checks
// a multiple create makes after its first transaction: it records how
// many servers of the project were committed (read outside the
// transaction) at each, and fails or cancels at the chosen one.
type recheckQuotas struct {
	*quota.Service
	db        *store.DB
	project   string
	committed []int
	failAt    int   // 1-based recheck that fails with failErr (0: none)
	failErr   error // nil: cancel cancels the create's context instead
	cancel    context.CancelFunc
}

func (q *recheckQuotas) CheckInstanceCount(ctx context.Context, tx *store.Tx, projectID, userID string, minCount, maxCount, vcpus, ramMB int) (int, error) {
	var n int
	if err := q.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM instances WHERE project_id = ?`, q.project).Scan(&n); err != nil {
		return 0, err
	}
	q.committed = append(q.committed, n)
	if len(q.committed) == q.failAt {
		if q.failErr == nil {
			q.cancel()
			return 0, ctx.Err()
		}
		return 0, q.failErr
	}
	return q.Service.CheckInstanceCount(ctx, tx, projectID, userID, minCount, maxCount, vcpus, ramMB)
}

// TestMultipleCreateCommitsPerServer: past min_count, each server of a
// create is a transaction of its own that checks the quota again (so no
// transaction of a multiple create outgrows one of min_count servers);
// when the check fails the create ends with the servers made, unless the
// failure is an internal error.
func TestMultipleCreateCommitsPerServer(t *testing.T) {
	t.Parallel()
	overQuota := errs.OverQuota("Quota exceeded for instances: Requested 1, but already used 10 of 10 instances")
	cases := []struct {
		name          string
		min, max      int
		failAt        int
		failErr       error
		cancel        bool
		made          int
		wantErr       bool
		wantCommitted []int
	}{
		{name: "all fit", min: 2, max: 5, made: 5, wantCommitted: []int{2, 3, 4}},
		{name: "quota gone after two more", min: 2, max: 5, failAt: 3, failErr: overQuota, made: 4, wantCommitted: []int{2, 3, 4}},
		{name: "internal error", min: 1, max: 3, failAt: 1, failErr: errors.New("disk on fire"), wantErr: true, wantCommitted: []int{1}},
		{name: "client gone", min: 1, max: 4, failAt: 2, cancel: true, made: 2, wantCommitted: []int{1, 2}},
		{name: "min equals max: one transaction", min: 3, max: 3, made: 3},
		{name: "max past int", min: 1, max: -1, made: 10, wantCommitted: []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	apptest.Each(t, func(t *testing.T, database string) {
		// Stopped: nothing but this test uses the service while it watches
		// the app's quota engine.
		cl := computetest.New(t, database, computetest.Options{Stopped: true})
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				// Each case creates in a project of its own.
				p := &auth.Principal{UserID: "u1", ProjectID: "multi-" + strconv.Itoa(i), Roles: []string{"member"}}
				q := &recheckQuotas{Service: cl.App.Quotas, db: cl.DB, project: p.ProjectID,
					failAt: c.failAt, failErr: c.failErr, cancel: cancel}
				cl.Compute.Quotas = q
				req := compute.CreateRequest{Name: "multi", ImageRef: cl.ImageID, FlavorRef: "1", MinCount: c.min, MaxCount: c.max}
				if c.max < 0 {
					req.BigMinCount, req.BigMaxCount = big.NewInt(int64(c.min)), new(big.Int).Lsh(big.NewInt(1), 70)
				}
				res, err := cl.Compute.Create(ctx, p, req)
				if c.wantErr {
					if err == nil {
						t.Fatalf("create succeeded with %d servers, want the internal error", len(res.Servers))
					}
				} else if err != nil || len(res.Servers) != c.made {
					t.Fatalf("create: %v, %d servers, want %d", err, lenServers(res), c.made)
				}
				if !slices.Equal(q.committed, c.wantCommitted) {
					t.Errorf("servers committed at each per-server check: %v, want %v", q.committed, c.wantCommitted)
				}
				var n int
				if err := cl.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM instances WHERE project_id = ?`, p.ProjectID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if want := c.made; !c.wantErr && n != want {
					t.Errorf("%d servers in the database, want %d", n, want)
				}
				for i, srv := range serversOf(res) {
					if srv.LaunchIndex != i || srv.Name != "multi-"+strconv.Itoa(i+1) {
						t.Errorf("server %d: %q index %d", i, srv.Name, srv.LaunchIndex)
					}
				}
			})
		}
	})
}

func lenServers(res *compute.CreateResult) int { return len(serversOf(res)) }

func serversOf(res *compute.CreateResult) []*compute.Server {
	if res == nil {
		return nil
	}
	return res.Servers
}
