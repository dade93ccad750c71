package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestHugeMultipleCreate is kumo issue 17's "bounded work per request":
// a POST /servers with max_count 10^20 in a project that has a server
// gets Nova's answer at once (the quota's nine more servers), while
// another project's create goes through; a min_count of 2^64 is Nova's
// 403 with the numbers whole. Before, the quota sums wrapped, the check
// passed and one transaction inserted servers until the client hung up,
// holding SQLite's write lock: every other create waited, RSS and the
// database grew without bound.
func TestHugeMultipleCreate(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, hugeMultipleCreate)
}

func hugeMultipleCreate(t *testing.T, engineArgs []string) {
	s := Start(t, kumoBin, Options{Args: engineArgs})
	cloudsA, _ := newProjectUser(t, s, "p-huge", "u-huge")
	cloudsB, _ := newProjectUser(t, s, "p-other", "u-other")
	a, b := NewClients(t, cloudsA, "kumo"), NewClients(t, cloudsB, "kumo")
	a.Compute.Microversion, b.Compute.Microversion = computeVersion, computeVersion
	imageID := imageIDByName(t, a, "kumo-tiny")
	// Generous: the old code never answered, and a loaded machine is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := servers.Create(ctx, a.Compute, servers.CreateOpts{Name: "first", ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract(); err != nil {
		t.Fatalf("first server of p-huge: %v", err)
	}
	// gophercloud's CreateOpts counts are ints; the body is written out.
	huge := func(counts map[string]any) (*http.Response, error) {
		server := map[string]any{"name": "huge", "imageRef": imageID, "flavorRef": "1", "networks": "none"}
		for k, v := range counts {
			server[k] = v
		}
		var out map[string]any
		return a.Compute.Post(ctx, a.Compute.ServiceURL("servers"), map[string]any{"server": server}, &out,
			&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted}})
	}

	var wg sync.WaitGroup
	var hugeErr, otherErr error
	var hugeTook, otherTook time.Duration
	wg.Add(2)
	go func() {
		defer wg.Done()
		start := time.Now()
		_, hugeErr = huge(map[string]any{"max_count": json.Number("100000000000000000000")})
		hugeTook = time.Since(start)
	}()
	go func() {
		defer wg.Done()
		start := time.Now()
		_, otherErr = servers.Create(ctx, b.Compute, servers.CreateOpts{Name: "other", ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
		otherTook = time.Since(start)
	}()
	wg.Wait()
	t.Logf("max_count 10^20 answered in %v; p-other's create meanwhile took %v; kumo's RSS %s", hugeTook, otherTook, rssOf(s))
	if hugeErr != nil {
		t.Fatalf("create with max_count 10^20: %v, want 202 (Nova lowers max_count to what the quota allows)", hugeErr)
	}
	if otherErr != nil {
		t.Fatalf("p-other's create while p-huge's ran: %v", otherErr)
	}
	// Exactly the quota: the first server and nine more.
	list := gcListAll(t, a.Compute, servers.ListOpts{})
	if len(list) != 10 {
		t.Errorf("p-huge has %d servers after max_count 10^20, want its instances quota of 10", len(list))
	}
	if got := gcListAll(t, b.Compute, servers.ListOpts{}); len(got) != 1 {
		t.Errorf("p-other has %d servers, want 1", len(got))
	}

	// Nothing left: min_count 2^64 is Nova's TooManyInstances, numbers whole.
	_, err := huge(map[string]any{"min_count": "18446744073709551616"})
	want := "Quota exceeded for cores, instances, ram: Requested 18446744073709551616, 18446744073709551616, 9444732965739290427392, but already used 10, 10, 5120 of 20, 10, 51200 cores, instances, ram"
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) || !strings.Contains(err.Error(), want) {
		t.Errorf("min_count 2^64: %v, want Nova's 403 %q", err, want)
	}
}

// rssOf is the resident memory of kumo's process, as /proc shows it.
func rssOf(s *Server) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
