package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
)

// TestRecoveryAfterKill starts builds on a slow fake driver, kills kumo
// with SIGKILL while they are in flight, restarts it on the same data dir
// and checks every server settles (ACTIVE or ERROR), none is lost or
// duplicated, and each has exactly one create action.
func TestRecoveryAfterKill(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, recoverBuilds)
}

func recoverBuilds(t *testing.T, engineArgs []string) {
	const inFlight = 9 // the default instances quota is 10: one is left for after the restart
	args := append([]string{"--fake-delay", "3s"}, engineArgs...)
	s := Start(t, kumoBin, Options{Args: args})
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	imageID := imageIDByName(t, c, "kumo-tiny")

	names := make([]string, inFlight)
	ids := make([]string, inFlight)
	errs := make([]error, inFlight)
	var wg sync.WaitGroup
	for i := range names {
		names[i] = fmt.Sprintf("rec-%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: names[i], ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
			if err == nil {
				ids[i] = srv.ID
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %s: %v", names[i], err)
		}
	}
	building := 0
	for _, srv := range gcListAll(t, c.Compute, servers.ListOpts{}) {
		if srv.Status == "BUILD" {
			building++
		}
	}
	if building == 0 {
		t.Fatalf("no build was in flight before the kill; the test proves nothing (is --fake-delay honoured?)")
	}
	t.Logf("killing kumo with %d of %d builds in flight", building, inFlight)
	s.Kill()

	s2 := Start(t, kumoBin, Options{DataDir: s.DataDir, Listen: s.Listen, Args: args})
	c2 := NewClients(t, s2.CloudsFile(), "kumo")
	c2.Compute.Microversion = computeVersion

	settled := waitSettled(t, c2, ids)
	list := gcListAll(t, c2.Compute, servers.ListOpts{})
	if got := serverNames(list); !slices.Equal(got, names) {
		t.Errorf("servers after the restart: %v, want each of %v exactly once", got, names)
	}
	outcome := map[string]int{}
	for _, srv := range settled {
		outcome[srv.Status]++
	}
	t.Logf("after the restart: %v", outcome)
	for _, srv := range settled {
		if srv.Status == "ERROR" && srv.Fault.Message == "" {
			t.Errorf("%s is ERROR with no fault message", srv.Name)
		}
		actions := gcActions(t, c2.Compute, srv.ID)
		if len(actions) != 1 || actions[0].Action != "create" {
			var got []string
			for _, a := range actions {
				got = append(got, a.Action+" "+a.RequestID)
			}
			t.Errorf("%s (%s) has actions %v, want exactly one create", srv.Name, srv.Status, got)
		}
	}

	// The restarted agent builds new servers too.
	srv, err := servers.Create(ctx, c2.Compute, servers.CreateOpts{Name: "rec-after", ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatalf("create after the restart: %v", err)
	}
	gcWaitStatus(t, c2.Compute, srv.ID, "ACTIVE")
}

// waitSettled waits until every server is ACTIVE or ERROR with no task
// in progress, and returns them.
func waitSettled(t *testing.T, c *Clients, ids []string) []*servers.Server {
	t.Helper()
	deadline := time.Now().Add(serverWait)
	for {
		var out []*servers.Server
		var pending []string
		for _, id := range ids {
			srv, err := servers.Get(context.Background(), c.Compute, id).Extract()
			if err != nil {
				t.Fatalf("get server %s after the restart: %v", id, err)
			}
			if (srv.Status != "ACTIVE" && srv.Status != "ERROR") || srv.TaskState != "" {
				pending = append(pending, srv.Name+": "+statusOf(srv))
			}
			out = append(out, srv)
		}
		if len(pending) == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers not ACTIVE or ERROR %v after the restart: %v", serverWait, pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRecoveryDeleteInFlight kills kumo while deletes are in flight on a
// slow fake driver: after a restart the deleted servers are gone (404,
// their actions a create and a delete), the others untouched and ACTIVE,
// and the usage counts only those.
func TestRecoveryDeleteInFlight(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, recoverDeletes)
}

func recoverDeletes(t *testing.T, engineArgs []string) {
	args := append([]string{"--fake-delay", "2s"}, engineArgs...)
	s := Start(t, kumoBin, Options{Args: args})
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	ids := gcCreateActive(t, c, "keep-0", "keep-1", "gone-0", "gone-1")
	for _, name := range []string{"gone-0", "gone-1"} {
		if err := servers.Delete(ctx, c.Compute, ids[name]).ExtractErr(); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
		srv, err := servers.Get(ctx, c.Compute, ids[name]).Extract()
		if err != nil {
			t.Fatalf("get %s right after its delete: %v (the delete finished before the kill; the test proves nothing)", name, err)
		}
		if srv.TaskState != "deleting" {
			t.Errorf("%s right after its delete: %s, want task_state deleting", name, statusOf(srv))
		}
	}
	s.Kill()

	s2 := Start(t, kumoBin, Options{DataDir: s.DataDir, Listen: s.Listen, Args: args})
	c2 := NewClients(t, s2.CloudsFile(), "kumo")
	c2.Compute.Microversion = computeVersion
	for _, name := range []string{"gone-0", "gone-1"} {
		gcWaitGone(t, c2.Compute, ids[name])
		var got []string
		for _, a := range gcActions(t, c2.Compute, ids[name]) {
			got = append(got, a.Action)
		}
		if !slices.Equal(got, []string{"delete", "create"}) {
			t.Errorf("actions of the deleted %s: %v, want delete then create (newest first)", name, got)
		}
	}
	settled := waitSettled(t, c2, []string{ids["keep-0"], ids["keep-1"]})
	for _, srv := range settled {
		if srv.Status != "ACTIVE" {
			t.Errorf("%s after the restart: %s, want ACTIVE (it was never touched)", srv.Name, statusOf(srv))
		}
	}
	if got := serverNames(gcListAll(t, c2.Compute, servers.ListOpts{})); !slices.Equal(got, []string{"keep-0", "keep-1"}) {
		t.Errorf("servers after the restart: %v, want keep-0 and keep-1", got)
	}
	lim, err := limits.Get(ctx, c2.Compute, nil).Extract()
	if err != nil {
		t.Fatalf("get limits: %v", err)
	}
	if lim.Absolute.TotalInstancesUsed != 2 || lim.Absolute.TotalCoresUsed != 2 || lim.Absolute.TotalRAMUsed != 1024 {
		t.Errorf("usage after the restart: %+v, want 2 instances, 2 cores, 1024 MB", lim.Absolute)
	}
}

// TestRecoveryKillDuringCreates kills kumo in the middle of a burst of
// create calls: after a restart every server a client was told about
// exists, every server that exists settles (no build left hanging
// without a task), and the instances usage matches what is listed.
func TestRecoveryKillDuringCreates(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, recoverCreateBurst)
}

func recoverCreateBurst(t *testing.T, engineArgs []string) {
	args := append([]string{"--fake-delay", "500ms"}, engineArgs...)
	s := Start(t, kumoBin, Options{Args: args})
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	imageID := imageIDByName(t, c, "kumo-tiny")
	projectID := authProjectID(t, c)
	many := 100
	if _, err := quotasets.Update(ctx, c.Compute, projectID, quotasets.UpdateOpts{Instances: &many, Cores: &many, RAM: ptrInt(many * 512)}).Extract(); err != nil {
		t.Fatalf("raise the admin project's quota: %v", err)
	}

	// Eight clients create servers one after another until the kill.
	var mu sync.Mutex
	acked := map[string]string{} // id -> name the API answered 202 for
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("burst-%d-%02d", w, i)
				srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
				if err != nil {
					return // kumo is gone
				}
				mu.Lock()
				acked[srv.ID] = name
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 12 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no create was answered before the kill")
	}

	s2 := Start(t, kumoBin, Options{DataDir: s.DataDir, Listen: s.Listen, Args: args})
	c2 := NewClients(t, s2.CloudsFile(), "kumo")
	c2.Compute.Microversion = computeVersion
	list := gcListAll(t, c2.Compute, servers.ListOpts{})
	var ids []string
	seen := map[string]bool{}
	for _, srv := range list {
		ids = append(ids, srv.ID)
		if seen[srv.Name] {
			t.Errorf("server name %s is listed twice after the restart", srv.Name)
		}
		seen[srv.Name] = true
	}
	for id, name := range acked {
		if !slices.Contains(ids, id) {
			t.Errorf("%s (%s) was answered 202 before the kill but is gone after the restart", name, id)
		}
	}
	settled := waitSettled(t, c2, ids)
	outcome := map[string]int{}
	for _, srv := range settled {
		outcome[srv.Status]++
		if actions := gcActions(t, c2.Compute, srv.ID); len(actions) != 1 || actions[0].Action != "create" {
			t.Errorf("%s has %d actions, want exactly one create", srv.Name, len(actions))
		}
	}
	t.Logf("%d creates answered before the kill, %d servers after the restart: %v", len(acked), len(list), outcome)
	lim, err := limits.Get(ctx, c2.Compute, nil).Extract()
	if err != nil {
		t.Fatalf("get limits: %v", err)
	}
	if lim.Absolute.TotalInstancesUsed != len(list) || lim.Absolute.TotalRAMUsed != 512*len(list) {
		t.Errorf("usage after the restart: %d instances, %d MB RAM; %d servers are listed", lim.Absolute.TotalInstancesUsed, lim.Absolute.TotalRAMUsed, len(list))
	}
}

func ptrInt(n int) *int { return &n }

// authProjectID is the project the clients' token is scoped to.
func authProjectID(t *testing.T, c *Clients) string {
	t.Helper()
	pages, err := projects.List(c.Identity, projects.ListOpts{Name: c.Auth.TenantName}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list the admin's projects: %v", err)
	}
	list, err := projects.ExtractProjects(pages)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if p.Name == c.Auth.TenantName {
			return p.ID
		}
	}
	t.Fatalf("no project named %s: %v", c.Auth.TenantName, list)
	return ""
}

// TestRecoveryAfterKillDuringActions kills kumo while creates and every
// kind of long action are in flight on a slow fake driver (resize, a
// resize's confirm, createImage, rebuild, delete), restarts it on the same
// data dir and checks: every server the API accepted exists once and
// settles where its action leads, none is left in a task state, the
// deleted one is gone, no image is left queued or saving, the quota usage
// is what the servers hold, and the guests outlived the crash (each
// remaining server stops, and the resized one confirms).
func TestRecoveryAfterKillDuringActions(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, recoverActions)
}

func recoverActions(t *testing.T, engineArgs []string) {
	args := append([]string{"--fake-delay", "1500ms"}, engineArgs...)
	s := Start(t, kumoBin, Options{Args: args})
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	imageID := imageIDByName(t, c, "kumo-tiny")
	create := func(c *Clients, name string) string {
		srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return srv.ID
	}
	ids := map[string]string{}
	for _, name := range []string{"resize", "confirm", "snapshot", "rebuild", "delete"} {
		ids[name] = create(c, name)
	}
	for _, id := range ids {
		gcWaitStatus(t, c.Compute, id, "ACTIVE")
	}
	if err := servers.Resize(ctx, c.Compute, ids["confirm"], servers.ResizeOpts{FlavorRef: "2"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, ids["confirm"], "VERIFY_RESIZE")

	// Everything at once, then the kill while the driver works on it.
	var snapID string
	steps := []struct {
		name string
		do   func() error
	}{
		{"resize", func() error {
			return servers.Resize(ctx, c.Compute, ids["resize"], servers.ResizeOpts{FlavorRef: "2"}).ExtractErr()
		}},
		{"confirm", func() error { return servers.ConfirmResize(ctx, c.Compute, ids["confirm"]).ExtractErr() }},
		{"createImage", func() (err error) {
			snapID, err = servers.CreateImage(ctx, c.Compute, ids["snapshot"], servers.CreateImageOpts{Name: "crash-snap"}).ExtractImageID()
			return err
		}},
		{"rebuild", func() error {
			_, err := servers.Rebuild(ctx, c.Compute, ids["rebuild"], servers.RebuildOpts{ImageRef: imageID}).Extract()
			return err
		}},
		{"delete", func() error { return servers.Delete(ctx, c.Compute, ids["delete"]).ExtractErr() }},
		{"create", func() error { ids["new-0"] = create(c, "new-0"); return nil }},
		{"create", func() error { ids["new-1"] = create(c, "new-1"); return nil }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	busy := 0
	for _, id := range ids {
		srv, err := servers.Get(ctx, c.Compute, id).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if srv.TaskState != "" || srv.Status == "BUILD" {
			busy++
		}
	}
	if busy < 5 {
		t.Fatalf("only %d servers were busy before the kill; the test proves little (is --fake-delay honoured?)", busy)
	}
	s.Kill()

	s2 := Start(t, kumoBin, Options{DataDir: s.DataDir, Listen: s.Listen, Args: args})
	c2 := NewClients(t, s2.CloudsFile(), "kumo")
	c2.Compute.Microversion = computeVersion
	gcWaitGone(t, c2.Compute, ids["delete"])
	delete(ids, "delete")
	want := map[string]string{"resize": "VERIFY_RESIZE", "confirm": "ACTIVE", "snapshot": "ACTIVE", "rebuild": "ACTIVE",
		"new-0": "ACTIVE", "new-1": "ACTIVE"}
	flavors := map[string]string{"resize": "2", "confirm": "2"}
	for name, id := range ids {
		srv := gcWaitStatus(t, c2.Compute, id, want[name], "ERROR")
		gcWaitTaskDone(t, c2, id)
		if srv.Status != want[name] {
			t.Errorf("%s after the restart: %s, want %s (fault %v)", name, statusOf(srv), want[name], srv.Fault)
		}
		f := flavors[name]
		if f == "" {
			f = "1"
		}
		if got, _ := srv.Flavor["id"].(string); got != f {
			t.Errorf("%s after the restart has flavor %v, want %s", name, srv.Flavor["id"], f)
		}
	}
	list := gcListAll(t, c2.Compute, servers.ListOpts{})
	if got, wantNames := serverNames(list), []string{"confirm", "new-0", "new-1", "rebuild", "resize", "snapshot"}; !slices.Equal(got, wantNames) {
		t.Errorf("servers after the restart: %v, want each of %v once", got, wantNames)
	}
	waitImageActive(t, c2, snapID)
	assertNoUnfinishedImages(t, c2)
	// m1.tiny is 1 vCPU and 512 MB, m1.small 1 vCPU and 2048 MB.
	lim, err := limits.Get(ctx, c2.Compute, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if a := lim.Absolute; a.TotalInstancesUsed != 6 || a.TotalCoresUsed != 6 || a.TotalRAMUsed != 4*512+2*2048 {
		t.Errorf("usage after the restart: %d instances, %d cores, %d MB; want 6, 6, %d", a.TotalInstancesUsed,
			a.TotalCoresUsed, a.TotalRAMUsed, 4*512+2*2048)
	}

	// The guests outlived the crash: the driver finds each of them.
	if err := servers.ConfirmResize(ctx, c2.Compute, ids["resize"]).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if srv := gcWaitStatus(t, c2.Compute, ids["resize"], "ACTIVE", "ERROR"); srv.Status != "ACTIVE" {
		t.Errorf("confirm after the restart: %s, want ACTIVE (fault %v)", statusOf(srv), srv.Fault)
	}
	for _, id := range ids {
		if err := servers.Stop(ctx, c2.Compute, id).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	for name, id := range ids {
		gcWaitTaskDone(t, c2, id)
		if srv, err := servers.Get(ctx, c2.Compute, id).Extract(); err != nil || srv.Status != "SHUTOFF" {
			t.Errorf("stop of %s after the restart: %s %v, want SHUTOFF (its guest gone?)", name, statusOf(srv), err)
		}
	}
}
