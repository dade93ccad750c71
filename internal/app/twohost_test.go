package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

// twoHosts is two kumo processes' worth of wiring, host-a and host-b, on
// one database: one deployment with two compute hosts.
func twoHosts(t *testing.T, database string, run bool) (a, b *apptest.Cloud) {
	a = apptest.New(t, apptest.Options{Database: database, Host: "host-a", Run: run})
	b = apptest.New(t, apptest.Options{Database: database, Host: "host-b", Run: run, Clock: a.Clock})
	return a, b
}

// createOn creates a server on host as admin (2.74's host field).
func createOn(c *apptest.Cloud, name, host string) string {
	admin := c.Admin.As(c.Admin.Token, "2.74")
	return c.CreateServer(admin, name, map[string]any{"host": host, "networks": "none"})
}

// guests lists the guests c's hypervisor runs.
func guests(t *testing.T, c *apptest.Cloud) []string {
	t.Helper()
	ids, err := c.App.Driver.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// TestTwoHostsStepped: each host's agent claims only its own host's
// tasks; a host whose agent does not run keeps its tasks waiting while
// the other's are done.
func TestTwoHostsStepped(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		onA, onB := createOn(a, "on-a", "host-a"), createOn(a, "on-b", "host-b")

		if got := b.Step(); !slices.Equal(got, []string{compute.TaskBuild}) {
			t.Fatalf("host-b ran %v, want its one build", got)
		}
		if s := a.Server(onB); s.Status != "ACTIVE" || s.Host != "host-b" {
			t.Fatalf("server on host-b: %s on %q, want ACTIVE on host-b", s.Status, s.Host)
		}
		if s := a.Server(onA); s.Status != "BUILD" {
			t.Fatalf("server on host-a, whose agent has not run: %s, want BUILD", s.Status)
		}
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskBuild}) {
			t.Fatalf("host-a ran %v, want its one build", got)
		}
		if s := b.Server(onA); s.Status != "ACTIVE" || s.Host != "host-a" {
			t.Fatalf("server on host-a: %s on %q, want ACTIVE on host-a", s.Status, s.Host)
		}
		if ga, gb := guests(t, a), guests(t, b); !slices.Equal(ga, []string{onA}) || !slices.Equal(gb, []string{onB}) {
			t.Fatalf("guests: host-a %v, host-b %v; want [%s] and [%s]", ga, gb, onA, onB)
		}

		for _, id := range []string{onA, onB} {
			a.Admin.Do(http.MethodDelete, "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		}
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskDelete}) {
			t.Fatalf("host-a ran %v, want its one delete", got)
		}
		if a.Server(onA) != nil || a.Server(onB) == nil {
			t.Fatal("after host-a's step: want the server on host-a gone and the one on host-b still there")
		}
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskDelete}) {
			t.Fatalf("host-b ran %v, want its one delete", got)
		}
		if a.Server(onB) != nil {
			t.Fatal("server on host-b not deleted")
		}
		if ga, gb := guests(t, a), guests(t, b); len(ga)+len(gb) != 0 {
			t.Fatalf("guests left: host-a %v, host-b %v", ga, gb)
		}
	})
}

// TestTwoHostsRunning: both agents run their loops as `kumo serve` does;
// servers on both hosts become ACTIVE and are deleted, and once host-b's
// agent stops, a server scheduled there waits in BUILD while host-a goes
// on working.
func TestTwoHostsRunning(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, true)
		onA, onB := createOn(a, "on-a", "host-a"), createOn(b, "on-b", "host-b")
		waitStatus(t, a, onA, "ACTIVE")
		waitStatus(t, a, onB, "ACTIVE")
		a.Admin.Do(http.MethodDelete, "/v2.1/servers/"+onB, nil).Expect(t, http.StatusNoContent)
		waitGone(t, a, onB)

		b.Stop()
		waiting, running := createOn(a, "waiting", "host-b"), createOn(a, "running", "host-a")
		waitStatus(t, a, running, "ACTIVE")
		a.Admin.Do(http.MethodDelete, "/v2.1/servers/"+onA, nil).Expect(t, http.StatusNoContent)
		waitGone(t, a, onA)
		if s := a.Server(waiting); s.Status != "BUILD" {
			t.Fatalf("server on the stopped host-b: %s, want BUILD", s.Status)
		}
		if gb := guests(t, b); len(gb) != 0 {
			t.Fatalf("the stopped host-b runs %v", gb)
		}
	})
}

// waitStatus polls (the agents run on their own) until the server has
// status, for at most 20 s.
func waitStatus(t *testing.T, c *apptest.Cloud, id, status string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := c.Server(id)
		if s != nil && s.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s: %+v, want %s", id, s, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitGone(t *testing.T, c *apptest.Cloud, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for c.Server(id) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("server %s not deleted", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCloudRefusesAnotherSecretKey: a process joining a cloud with a key
// other than the one the cloud's first process recorded is refused before
// it changes anything.
func TestCloudRefusesAnotherSecretKey(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		apptest.New(t, apptest.Options{Database: database, Host: "host-a"})
		cfg := app.Config{DataDir: t.TempDir(), Database: database, Host: "host-b", PasswordHashCost: 4}
		a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			a.Close()
			t.Fatal("a kumo with another secret key joined the cloud")
		}
		if !strings.Contains(err.Error(), "is not this cloud's") {
			t.Fatalf("error %q, want it to name the key as not the cloud's", err)
		}
	})
}
