package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
)

// fleet is one cloud of many processes on one PostgreSQL database: kumo
// api processes and kumo compute hosts, each with a data dir of its own,
// sharing the secret key and the image files.
type fleet struct {
	dsn, images, key string
	apis             []*Server
	hosts            map[string]*Server
	// admins are admin clients and clis admin openstack CLIs, one per
	// API process.
	admins []*Clients
	clis   []*CLI
}

// fleetHostArgs are the flags every compute host of a fleet gets: equal
// capacity, so placement depends on the scheduler alone.
var fleetHostArgs = []string{"--host-vcpus", "8", "--host-memory-mb", "8192", "--host-disk-gb", "100"}

// fleetDownTime is the fleet's --service-down-time: short, so a killed
// host is down within seconds (heartbeats come every second or so).
const fleetDownTime = "6s"

// startFleet migrates a fresh database and starts apis API processes and
// the named compute hosts.
func startFleet(t *testing.T, apis int, hosts ...string) *fleet {
	t.Helper()
	requireCLI(t)
	dsn, _ := postgresSchema(t)
	dir := t.TempDir()
	f := &fleet{dsn: dsn, images: filepath.Join(dir, "images"), key: filepath.Join(dir, "secret.key"), hosts: map[string]*Server{}}
	if err := os.Mkdir(f.images, 0o700); err != nil {
		t.Fatal(err)
	}
	out := RunKumoFail(t, kumoBin, "api", "--database", dsn, "--data-dir", t.TempDir())
	if !strings.Contains(out, "kumo migrate") {
		t.Fatalf("kumo api on a database never migrated said %q, want it to ask for kumo migrate", out)
	}
	RunKumo(t, kumoBin, "migrate", "--database", dsn, "--data-dir", t.TempDir())
	for i := 0; i < apis; i++ {
		// The first API process bootstraps the cloud and writes the
		// admin's clouds.yaml; the others find the cloud made.
		f.apis = append(f.apis, Start(t, kumoBin, Options{Command: "api", Args: append(f.shared(), "--service-down-time", fleetDownTime)}))
	}
	first := f.apis[0]
	clouds, err := os.ReadFile(first.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range f.apis {
		path := filepath.Join(t.TempDir(), "clouds.yaml")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(clouds), first.Listen, a.Listen)), 0o600); err != nil {
			t.Fatal(err)
		}
		c := NewClients(t, path, "kumo")
		c.Compute.Microversion = "2.95"
		f.admins = append(f.admins, c)
		f.clis = append(f.clis, NewCLI(path, "kumo"))
	}
	for _, h := range hosts {
		f.startHost(t, h)
	}
	return f
}

// shared are the flags that make a process part of the fleet's cloud.
func (f *fleet) shared() []string {
	return []string{"--database", f.dsn, "--image-dir", f.images, "--secret-key-file", f.key}
}

// startHost starts compute host name.
func (f *fleet) startHost(t *testing.T, name string, args ...string) *Server {
	t.Helper()
	all := append(append(append([]string{"--host", name, "--service-down-time", fleetDownTime}, f.shared()...), fleetHostArgs...), args...)
	s := Start(t, kumoBin, Options{Command: "compute", Args: all})
	f.hosts[name] = s
	return s
}

// hostOf is the host a server runs on, as an admin sees it.
func (f *fleet) hostOf(t *testing.T, id string) string {
	t.Helper()
	var s struct {
		Host string `json:"OS-EXT-SRV-ATTR:host"`
	}
	if err := servers.Get(context.Background(), f.admins[0].Compute, id).ExtractInto(&s); err != nil {
		t.Fatalf("get server %s: %v", id, err)
	}
	return s.Host
}

// ranOnce fails the test when an event of one of the server's instance
// actions was recorded twice: a task two hosts (or one host twice) ran.
func (f *fleet) ranOnce(t *testing.T, id string) {
	t.Helper()
	c := f.admins[0].Compute
	for _, a := range gcActions(t, c, id) {
		got, err := instanceactions.Get(context.Background(), c, id, a.RequestID).Extract()
		if err != nil {
			t.Fatalf("instance action %s of %s: %v", a.RequestID, id, err)
		}
		seen := map[string]bool{}
		if got.Events == nil {
			t.Fatalf("server %s, action %s: no events", id, a.Action)
		}
		for _, e := range *got.Events {
			if seen[e.Event] {
				t.Errorf("server %s, action %s: event %s recorded twice: %+v", id, a.Action, e.Event, got.Events)
			}
			seen[e.Event] = true
		}
	}
}

// TestManyHosts runs a cloud of two kumo api processes and three kumo
// compute hosts on one PostgreSQL: creates through both APIs spread over
// the hosts, anti-affinity holds across hosts, and every host shows in
// os-services and os-hypervisors.
func TestManyHosts(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 2, "host-1", "host-2", "host-3")
	ctx := context.Background()

	t.Run("a process with another secret key is refused", func(t *testing.T) {
		args := append([]string{"compute", "--host", "host-x", "--data-dir", t.TempDir(), "--listen", freeAddr(t)}, f.shared()...)
		args = append(args, "--secret-key-file", filepath.Join(t.TempDir(), "other.key")) // the last flag wins
		out := RunKumoFail(t, kumoBin, args...)
		if !strings.Contains(out, "is not this cloud's") {
			t.Fatalf("compute with another key said %q", out)
		}
	})

	t.Run("every host is up", func(t *testing.T) {
		pages, err := services.List(f.admins[1].Compute, services.ListOpts{Binary: "nova-compute"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list, err := services.ExtractServices(pages)
		if err != nil {
			t.Fatal(err)
		}
		up := map[string]bool{}
		for _, s := range list {
			up[s.Host] = s.State == "up" && s.Status == "enabled"
		}
		for h := range f.hosts {
			if !up[h] {
				t.Errorf("os-services: %s not enabled and up: %+v", h, list)
			}
		}
		hpages, err := hypervisors.List(f.admins[0].Compute, nil).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := hypervisors.ExtractHypervisors(hpages)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != len(f.hosts) {
			t.Errorf("os-hypervisors lists %d hypervisors, want %d", len(hs), len(f.hosts))
		}
	})

	imageID := imageIDByName(t, f.admins[0], "kumo-tiny")
	create := func(c *Clients, name string, hints servers.SchedulerHintOpts) string {
		t.Helper()
		srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: "none"}, hints).Extract()
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return srv.ID
	}

	t.Run("creates through both APIs spread over the hosts", func(t *testing.T) {
		var ids []string
		for i := 0; i < 6; i++ {
			ids = append(ids, create(f.admins[i%2], "spread-"+string(rune('a'+i)), servers.SchedulerHintOpts{}))
		}
		per := map[string]int{}
		for i, id := range ids {
			// Each server is read through the other API process.
			gcWaitStatus(t, f.admins[(i+1)%2].Compute, id, "ACTIVE")
			per[f.hostOf(t, id)]++
			f.ranOnce(t, id)
		}
		for h := range f.hosts {
			if per[h] != 2 {
				t.Errorf("servers per host %v: want 2 on each of the 3 equal hosts", per)
				break
			}
		}
		for _, id := range ids {
			if err := servers.Delete(ctx, f.admins[0].Compute, id).ExtractErr(); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			gcWaitGone(t, f.admins[1].Compute, id)
		}
	})

	t.Run("anti-affinity across hosts", func(t *testing.T) {
		g, err := servergroups.Create(ctx, f.admins[0].Compute, servergroups.CreateOpts{Name: "apart", Policy: "anti-affinity"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		hosts := map[string]string{}
		for i := 0; i < 3; i++ {
			id := create(f.admins[i%2], "apart-"+string(rune('a'+i)), servers.SchedulerHintOpts{Group: g.ID})
			gcWaitStatus(t, f.admins[0].Compute, id, "ACTIVE")
			h := f.hostOf(t, id)
			if other, taken := hosts[h]; taken {
				t.Fatalf("servers %s and %s of an anti-affinity group both on %s", other, id, h)
			}
			hosts[h] = id
		}
		// A fourth member has no host left.
		id := create(f.admins[1], "apart-d", servers.SchedulerHintOpts{Group: g.ID})
		s := gcWaitStatus(t, f.admins[0].Compute, id, "ERROR")
		if !strings.Contains(s.Fault.Message, "No valid host was found") {
			t.Errorf("fourth anti-affinity member: fault %+v, want No valid host", s.Fault)
		}
	})

	t.Run("cold migrate, confirm and revert between hosts", func(t *testing.T) {
		id := create(f.admins[0], "mover", servers.SchedulerHintOpts{})
		gcWaitStatus(t, f.admins[0].Compute, id, "ACTIVE")
		from := f.hostOf(t, id)
		cli := f.clis[1] // through the other API process
		cli.Run(t, "server", "migrate", "--wait", id)
		gcWaitStatus(t, f.admins[0].Compute, id, "VERIFY_RESIZE")
		to := f.hostOf(t, id)
		if to == from || f.hosts[to] == nil {
			t.Fatalf("migrated from %s to %q", from, to)
		}
		cli.Run(t, "server", "migration", "confirm", id)
		gcWaitIdle(t, f.admins[0], id, "ACTIVE")
		if h := f.hostOf(t, id); h != to {
			t.Fatalf("after confirm the server is on %s, want %s", h, to)
		}
		cli.Run(t, "server", "migrate", "--wait", id)
		gcWaitStatus(t, f.admins[0].Compute, id, "VERIFY_RESIZE")
		if h := f.hostOf(t, id); h == to {
			t.Fatalf("second migration stayed on %s", h)
		}
		cli.Run(t, "server", "migration", "revert", id)
		gcWaitIdle(t, f.admins[0], id, "ACTIVE")
		if h := f.hostOf(t, id); h != to {
			t.Fatalf("after revert the server is on %s, want %s", h, to)
		}
		var migs []obj
		cli.JSON(t, &migs, "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", id)
		statuses := map[string]int{}
		for _, m := range migs {
			statuses[m.str(t, "Status")]++
		}
		if statuses["confirmed"] != 1 || statuses["reverted"] != 1 || len(migs) != 2 {
			t.Errorf("migrations of %s: %v, want one confirmed and one reverted", id, migs)
		}
		f.ranOnce(t, id)
	})

	t.Run("live migration between hosts", func(t *testing.T) {
		id := create(f.admins[1], "live", servers.SchedulerHintOpts{})
		gcWaitStatus(t, f.admins[0].Compute, id, "ACTIVE")
		from := f.hostOf(t, id)
		f.clis[0].Run(t, "--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--wait", id)
		gcWaitIdle(t, f.admins[1], id, "ACTIVE")
		to := f.hostOf(t, id)
		if to == from || f.hosts[to] == nil {
			t.Fatalf("live-migrated from %s to %q", from, to)
		}
		var migs []obj
		f.clis[1].JSON(t, &migs, "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", id)
		if len(migs) != 1 || migs[0].str(t, "Status") != "completed" || migs[0].str(t, "Type") != "live-migration" {
			t.Errorf("migrations of %s: %v, want one completed live-migration", id, migs)
		}
		if got := guestDirs(t, f.hosts[from], id); got != 0 {
			t.Errorf("the source %s still holds the guest", from)
		}
		f.ranOnce(t, id)
	})

	// A server on host-3, to evacuate once it is gone.
	doomed, err := servers.Create(ctx, f.admins[0].Compute, servers.CreateOpts{Name: "doomed", ImageRef: imageID, FlavorRef: "1",
		Networks: "none", AvailabilityZone: "nova:host-3"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, f.admins[0].Compute, doomed.ID, "ACTIVE")

	t.Run("a killed host goes down", func(t *testing.T) {
		f.hosts["host-3"].Kill()
		deadline := time.Now().Add(60 * time.Second)
		for {
			pages, err := services.List(f.admins[0].Compute, services.ListOpts{Binary: "nova-compute", Host: "host-3"}).AllPages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			list, err := services.ExtractServices(pages)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 1 && list[0].State == "down" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("host-3 killed a minute ago: os-services says %+v", list)
			}
			time.Sleep(500 * time.Millisecond)
		}
		// Nothing new lands on it.
		for i := 0; i < 3; i++ {
			id := create(f.admins[i%2], "after-kill-"+string(rune('a'+i)), servers.SchedulerHintOpts{})
			gcWaitStatus(t, f.admins[0].Compute, id, "ACTIVE")
			if h := f.hostOf(t, id); h == "host-3" {
				t.Fatalf("server %s placed on the down host", id)
			}
		}
	})

	t.Run("evacuate from the dead host, which forgets the guest when back", func(t *testing.T) {
		dead := f.hosts["host-3"]
		// gophercloud, not the CLI: python-openstackclient 6.0's server
		// evacuate fails on novaclient's answer (a tuple it calls
		// to_dict on) after the evacuation, against any Nova. Its
		// EvacuateOpts always send onSharedStorage: microversion 2.13.
		c := *f.admins[1].Compute
		c.Microversion = "2.13"
		if _, err := servers.Evacuate(ctx, &c, doomed.ID, servers.EvacuateOpts{}).ExtractAdminPass(); err != nil {
			t.Fatalf("evacuate: %v", err)
		}
		gcWaitIdle(t, f.admins[0], doomed.ID, "ACTIVE")
		if h := f.hostOf(t, doomed.ID); h == "host-3" || f.hosts[h] == nil {
			t.Fatalf("evacuated to %q", h)
		}
		var migs []obj
		f.clis[0].JSON(t, &migs, "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", doomed.ID)
		if len(migs) != 1 || migs[0].str(t, "Type") != "evacuation" {
			t.Errorf("migrations of %s: %v, want one evacuation", doomed.ID, migs)
		}
		// The host comes back on its data dir: the guest it still has is
		// another host's now, and goes.
		if guestDirs(t, dead, doomed.ID) != 1 {
			t.Fatalf("the dead host's data dir lost the guest before it came back")
		}
		back := Start(t, kumoBin, Options{Command: "compute", DataDir: dead.DataDir,
			Args: append(append([]string{"--host", "host-3", "--service-down-time", fleetDownTime}, f.shared()...), fleetHostArgs...)})
		f.hosts["host-3"] = back
		deadline := time.Now().Add(30 * time.Second)
		for guestDirs(t, back, doomed.ID) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("host-3 came back and still holds the evacuated guest")
			}
			time.Sleep(200 * time.Millisecond)
		}
		f.ranOnce(t, doomed.ID)
	})
}

// guestDirs is 1 when host s keeps files of guest id, else 0.
func guestDirs(t *testing.T, s *Server, id string) int {
	t.Helper()
	_, err := os.Stat(filepath.Join(s.DataDir, "instances", id))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return 1
}
