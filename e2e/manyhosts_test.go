package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	// admins are admin clients, one per API process.
	admins []*Clients
}

// fleetHostArgs are the flags every compute host of a fleet gets: equal
// capacity, so placement depends on the scheduler alone.
var fleetHostArgs = []string{"--host-vcpus", "8", "--host-memory-mb", "8192", "--host-disk-gb", "100"}

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
		f.apis = append(f.apis, Start(t, kumoBin, Options{Command: "api", Args: f.shared()}))
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
	all := append(append(append([]string{"--host", name}, f.shared()...), fleetHostArgs...), args...)
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
}
