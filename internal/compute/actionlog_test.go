package compute_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

var (
	owner    = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
	stranger = &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member", "reader"}}
	admin    = &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
)

// actionCloud is the shared compute test cloud: its agent runs on the
// fake driver, so creates and deletes record real actions.
type actionCloud struct{ *computetest.Cloud }

func newActionCloud(t *testing.T, database string, o computetest.Options) *actionCloud {
	t.Helper()
	return &actionCloud{computetest.New(t, database, o)}
}

// create builds a server "vm" for owner with requestID.
func (c *actionCloud) create(t *testing.T, requestID string) *compute.Server {
	t.Helper()
	return c.CreateServer(t, owner, "vm", func(r *compute.CreateRequest) { r.RequestID = requestID }).Servers[0]
}

// createAndDelete builds a server, deletes it and waits until it is gone:
// the server then has the actions "delete" (req-delete) and "create"
// (req-create).
func (c *actionCloud) createAndDelete(t *testing.T) string {
	t.Helper()
	srv := c.create(t, "req-create")
	c.WaitFor(t, srv.ID, computetest.Active)
	if err := c.Compute.Delete(context.Background(), owner, srv.ID, "req-delete"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	c.WaitFor(t, srv.ID, computetest.Deleted)
	return srv.ID
}

func requestIDs(actions []*compute.Action) string {
	ids := make([]string, len(actions))
	for i, a := range actions {
		ids[i] = a.RequestID
	}
	return strings.Join(ids, ",")
}

func ptr[T any](v T) *T { return &v }

func wantKind(t *testing.T, err error, kind errs.Kind, message string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != kind || e.Message != message {
		t.Fatalf("error %v, want %v %q", err, kind, message)
	}
}

func TestActionsOfCreateAndDelete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newActionCloud(t, database, computetest.Options{})
		id := c.createAndDelete(t)

		// Before 2.21 a deleted server has no readable actions.
		_, err := c.Compute.ListActions(ctx, owner, id, compute.ActionListOptions{})
		wantKind(t, err, errs.KindNotFound, "Instance "+id+" could not be found.")
		_, err = c.Compute.GetAction(ctx, owner, id, "req-create", false)
		wantKind(t, err, errs.KindNotFound, "Instance "+id+" could not be found.")

		actions, err := c.Compute.ListActions(ctx, owner, id, compute.ActionListOptions{WithDeleted: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := requestIDs(actions); got != "req-delete,req-create" {
			t.Fatalf("actions %s, want newest first", got)
		}
		for _, a := range actions {
			if a.InstanceID != id || a.ProjectID != "p1" || a.UserID != "u1" || a.Message != nil || a.UpdatedAt.Before(a.StartTime) {
				t.Fatalf("action %+v", a)
			}
		}
		if actions[0].Action != "delete" || actions[1].Action != "create" {
			t.Fatalf("action names %s, %s", actions[0].Action, actions[1].Action)
		}

		for _, tc := range []struct{ requestID, action, event string }{
			{"req-create", "create", "compute__do_build_and_run_instance"},
			{"req-delete", "delete", "compute_terminate_instance"},
		} {
			a, err := c.Compute.GetAction(ctx, owner, id, tc.requestID, true)
			if err != nil {
				t.Fatal(err)
			}
			if a.Action != tc.action || len(a.Events) != 1 {
				t.Fatalf("%s: action %s with %d events", tc.requestID, a.Action, len(a.Events))
			}
			e := a.Events[0]
			if e.Event != tc.event || e.Result == nil || *e.Result != "Success" || e.Traceback != nil ||
				e.Details != nil || e.Host != "fake-host" || e.FinishTime == nil || e.FinishTime.Before(e.StartTime) {
				t.Fatalf("%s event %+v", tc.requestID, e)
			}
		}
	})
}

func TestActionsAreTheProjectsAndAdmins(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newActionCloud(t, database, computetest.Options{})
		srv := c.create(t, "req-create")
		c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })

		_, err := c.Compute.ListActions(ctx, stranger, srv.ID, compute.ActionListOptions{})
		wantKind(t, err, errs.KindNotFound, "Instance "+srv.ID+" could not be found.")
		_, err = c.Compute.GetAction(ctx, stranger, srv.ID, "req-create", true)
		wantKind(t, err, errs.KindNotFound, "Instance "+srv.ID+" could not be found.")

		actions, err := c.Compute.ListActions(ctx, admin, srv.ID, compute.ActionListOptions{})
		if err != nil || requestIDs(actions) != "req-create" {
			t.Fatalf("admin list: %s, %v", requestIDs(actions), err)
		}
		_, err = c.Compute.GetAction(ctx, owner, srv.ID, "req-nope", false)
		wantKind(t, err, errs.KindNotFound, "Action req-nope not found")
		_, err = c.Compute.ListActions(ctx, owner, "no-such-server", compute.ActionListOptions{})
		wantKind(t, err, errs.KindNotFound, "Instance no-such-server could not be found.")
	})
}

func TestActionPagesAndChangeWindows(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newActionCloud(t, database, computetest.Options{})
		id := c.createAndDelete(t)
		all, err := c.Compute.ListActions(ctx, owner, id, compute.ActionListOptions{WithDeleted: true})
		if err != nil || len(all) != 2 {
			t.Fatalf("list: %d actions, %v", len(all), err)
		}
		deleted, created := all[0], all[1]
		us := time.Microsecond
		for _, tc := range []struct {
			name string
			o    compute.ActionListOptions
			want string
		}{
			{"limit 1", compute.ActionListOptions{Limit: ptr(1)}, "req-delete"},
			{"limit 0", compute.ActionListOptions{Limit: ptr(0), Marker: ptr("req-unknown")}, ""},
			{"after newest", compute.ActionListOptions{Marker: ptr("req-delete")}, "req-create"},
			{"after oldest", compute.ActionListOptions{Marker: ptr("req-create")}, ""},
			{"since create's update", compute.ActionListOptions{ChangesSince: ptr(created.UpdatedAt)}, "req-delete,req-create"},
			{"since delete's update", compute.ActionListOptions{ChangesSince: ptr(deleted.UpdatedAt)}, "req-delete"},
			{"after every update", compute.ActionListOptions{ChangesSince: ptr(deleted.UpdatedAt.Add(us))}, ""},
			{"before delete's update", compute.ActionListOptions{ChangesBefore: ptr(deleted.UpdatedAt.Add(-us))}, "req-create"},
			{"window", compute.ActionListOptions{ChangesSince: ptr(created.UpdatedAt), ChangesBefore: ptr(created.UpdatedAt)}, "req-create"},
		} {
			tc.o.WithDeleted = true
			got, err := c.Compute.ListActions(ctx, owner, id, tc.o)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if requestIDs(got) != tc.want {
				t.Errorf("%s: got %q, want %q", tc.name, requestIDs(got), tc.want)
			}
		}
		_, err = c.Compute.ListActions(ctx, owner, id, compute.ActionListOptions{WithDeleted: true, Marker: ptr("req-unknown")})
		wantKind(t, err, errs.KindInvalid, "Marker None could not be found.")
	})
}

func TestFailedBuildRecordsErrorEvent(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newActionCloud(t, database, computetest.Options{Fake: fake.Options{Fail: map[string]bool{"spawn": true}}})
		srv := c.create(t, "req-doomed")
		c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ERROR" })
		a, err := c.Compute.GetAction(ctx, owner, srv.ID, "req-doomed", false)
		if err != nil {
			t.Fatal(err)
		}
		if a.Message == nil || *a.Message != "Error" || len(a.Events) != 1 {
			t.Fatalf("action message %v, %d events", a.Message, len(a.Events))
		}
		e := a.Events[0]
		if *e.Result != "Error" || e.Traceback == nil || !strings.Contains(*e.Traceback, "injected spawn failure") || e.Details == nil {
			t.Fatalf("event %+v", e)
		}
	})
}

func TestUnschedulableCreateRecordsConductorEvent(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newActionCloud(t, database, computetest.Options{Configure: func(cfg *app.Config) {
			cfg.HostVCPUs, cfg.HostMemoryMB, cfg.HostDiskGB = 1, 1, 1
		}})
		srv := c.create(t, "req-nohost")
		a, err := c.Compute.GetAction(ctx, owner, srv.ID, "req-nohost", false)
		if err != nil {
			t.Fatal(err)
		}
		// The conductor's event carries the conductor's host (Nova's
		// CONF.host): here the process's own.
		if len(a.Events) != 1 || a.Events[0].Event != "conductor_schedule_and_build_instances" ||
			*a.Events[0].Result != "Error" || a.Events[0].Host != computetest.Host {
			t.Fatalf("events %+v, want the conductor's on host %s", a.Events, computetest.Host)
		}
	})
}

// TestEventsOfOneInstantListNewestRecordedFirst: events that start at the
// same instant list in the order Nova's do (created_at, then its
// autoincrement id, both descending): the last recorded first, every
// time, not by their random ids.
func TestEventsOfOneInstantListNewestRecordedFirst(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newActionCloud(t, database, computetest.Options{})
		ctx := context.Background()
		srv := c.create(t, "req-create")
		c.WaitFor(t, srv.ID, computetest.Active)
		a, err := c.Compute.GetAction(ctx, owner, srv.ID, "req-create", false)
		if err != nil {
			t.Fatal(err)
		}
		// Later than the build's own events, so they lead the list.
		at := time.Now().Add(time.Hour)
		names := []string{"e1", "e2", "e3", "e4", "e5", "e6"}
		for _, n := range names {
			if err := c.Compute.RecordEvent(ctx, a.ID, n, at); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			a, err := c.Compute.GetAction(ctx, owner, srv.ID, "req-create", false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range a.Events[:len(names)] {
				got = append(got, e.Event)
			}
			if strings.Join(got, ",") != "e6,e5,e4,e3,e2,e1" {
				t.Fatalf("events %v, want e6 … e1", got)
			}
		}
	})
}
