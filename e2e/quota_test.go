package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestInstancesQuotaCLI sets a project's instances quota to 2 and races
// three server creates: exactly two win, the third gets Nova's 403.
func TestInstancesQuotaCLI(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)
	clouds, projectID := newProjectUser(t, s, admin, "p-quota", "u-quota")
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
