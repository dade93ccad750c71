package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestInstancesQuotaCLI sets a project's instances quota to 2 and races
// three server creates: exactly two win, the third gets Nova's 403.
func TestInstancesQuotaCLI(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)
	clouds, projectID := newProjectUser(t, s, "p-quota", "u-quota")
	user := NewCLI(clouds, "kumo")

	t.Run("quota set and show", func(t *testing.T) {
		admin.Run(t, "quota", "set", "--instances", "2", "p-quota")
		var q obj
		admin.JSON(t, &q, "quota", "show", "p-quota")
		if q.num(t, "instances") != 2 || q.num(t, "cores") != 20 || q.num(t, "ram") != 51200 {
			t.Errorf("quota show p-quota = %v, want instances 2 and the default cores 20, ram 51200", q)
		}
		if q["project"] != projectID {
			t.Errorf("quota show p-quota: project %v, want %s", q["project"], projectID)
		}
		admin.JSON(t, &q, "quota", "show")
		if q.num(t, "instances") != 10 {
			t.Errorf("the admin project's quota changed too: %v", q)
		}
	})

	results := make([]Result, 3)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = user.Exec(osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "-f", "json", fmt.Sprintf("q%d", i))...)
		}()
	}
	wg.Wait()

	var failures []Result
	for _, r := range results {
		if r.Err != nil {
			failures = append(failures, r)
		}
	}
	if len(failures) != 1 {
		for _, r := range results {
			t.Logf("openstack %s: err %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), r.Err, r.Stdout, r.Stderr)
		}
		t.Fatalf("%d of 3 parallel creates failed, want exactly 1 with an instances quota of 2", len(failures))
	}
	want := "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances"
	if stderr := failures[0].Stderr; !strings.Contains(stderr, want) || !strings.Contains(stderr, "HTTP 403") {
		t.Errorf("the refused create failed with:\n%s\nwant Nova's 403 %q", stderr, want)
	}

	var rows []obj
	user.JSON(t, &rows, "server", "list")
	if len(rows) != 2 {
		t.Errorf("u-quota's server list = %v, want exactly 2 servers", rows)
	}
	admin.JSON(t, &rows, "server", "list", "--all-projects", "--project", "p-quota")
	if len(rows) != 2 {
		t.Errorf("admin's server list of p-quota = %v, want exactly 2 servers", rows)
	}

	limits := absoluteLimits(t, user)
	for k, v := range map[string]float64{"maxTotalInstances": 2, "totalInstancesUsed": 2, "totalCoresUsed": 2, "totalRAMUsed": 1024} {
		if limits[k] != v {
			t.Errorf("u-quota's limits show --absolute: %s = %v, want %v (all: %v)", k, limits[k], v, limits)
		}
	}

	// A fourth create, serially, fails the same way.
	stderr := user.Fail(t, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "q-late")...)
	if !strings.Contains(stderr, want) {
		t.Errorf("a create over quota failed with:\n%s\nwant %q", stderr, want)
	}
}

// TestInstancesQuotaGophercloud races ten creates against an instances
// quota of 2, then checks multi-create (min_count/max_count) against the
// room left, as Nova sizes it.
func TestInstancesQuotaGophercloud(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, raceInstancesQuota)
}

func raceInstancesQuota(t *testing.T, engineArgs []string) {
	s := Start(t, kumoBin, Options{Args: engineArgs})
	clouds, projectID := newProjectUser(t, s, "p-race", "u-race")
	ac := NewClients(t, s.CloudsFile(), "kumo")
	uc := NewClients(t, clouds, "kumo")
	uc.Compute.Microversion = computeVersion
	ctx := context.Background()
	imageID := imageIDByName(t, uc, "kumo-tiny")

	setInstances := func(n int) {
		t.Helper()
		q, err := quotasets.Update(ctx, ac.Compute, projectID, quotasets.UpdateOpts{Instances: &n}).Extract()
		if err != nil || q.Instances != n {
			t.Fatalf("set instances quota of p-race to %d: %+v, %v", n, q, err)
		}
	}
	setInstances(2)

	const racers = 10
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = servers.Create(ctx, uc.Compute, servers.CreateOpts{
				Name: fmt.Sprintf("race-%d", i), ImageRef: imageID, FlavorRef: "1", Networks: "none",
			}, nil).Extract()
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !gophercloud.ResponseCodeIs(err, http.StatusForbidden) || !strings.Contains(err.Error(), "Quota exceeded for instances"):
			t.Errorf("create race-%d: %v, want success or Nova's 403 \"Quota exceeded for instances\"", i, err)
		}
	}
	list := gcListAll(t, uc.Compute, servers.ListOpts{})
	if won != 2 || len(list) != 2 {
		t.Fatalf("%d of %d parallel creates succeeded and %d servers exist (%v), want exactly 2 with an instances quota of 2", won, racers, len(list), serverNames(list))
	}

	// Room for 3 more: min 2 max 5 makes 3, named Nova's way.
	setInstances(5)
	_, err := servers.Create(ctx, uc.Compute, servers.CreateOpts{
		Name: "multi", ImageRef: imageID, FlavorRef: "1", Networks: "none", Min: 2, Max: 5,
	}, nil).Extract()
	if err != nil {
		t.Fatalf("create min 2 max 5 with room for 3: %v", err)
	}
	multi := gcListAll(t, uc.Compute, servers.ListOpts{Name: "^multi"})
	if got := serverNames(multi); !slices.Equal(got, []string{"multi-1", "multi-2", "multi-3"}) {
		t.Errorf("servers of a min 2 max 5 create with room for 3: %v, want multi-1, multi-2 and multi-3", got)
	}
	for _, srv := range multi {
		gcWaitStatus(t, uc.Compute, srv.ID, "ACTIVE")
	}

	// No room left: even min 1 fails; Nova names the range requested.
	_, err = servers.Create(ctx, uc.Compute, servers.CreateOpts{
		Name: "one-more", ImageRef: imageID, FlavorRef: "1", Networks: "none", Min: 1, Max: 2,
	}, nil).Extract()
	want := "Quota exceeded for instances: Requested 1-2, but already used 5 of 5 instances"
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) || !strings.Contains(err.Error(), want) {
		t.Errorf("create with no room: err = %v, want Nova's 403 %q", err, want)
	}
	lim, err := limits.Get(ctx, uc.Compute, nil).Extract()
	if err != nil {
		t.Fatalf("get limits: %v", err)
	}
	if lim.Absolute.MaxTotalInstances != 5 || lim.Absolute.TotalInstancesUsed != 5 || lim.Absolute.TotalRAMUsed != 5*512 {
		t.Errorf("limits %+v, want 5 of 5 instances and 2560 MB used", lim.Absolute)
	}
}
