package compute_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// scriptedDriver is the fake driver with scripted answers for the calls
// rescue's family makes, recording the passwords it is given.
type scriptedDriver struct {
	*fake.Driver
	mu          sync.Mutex
	passwords   []string
	passwordErr error
	consoleErr  error
	attachErr   error
	power       virt.PowerState // reported instead of the guest's when set
}

func (d *scriptedDriver) AttachInterface(ctx context.Context, g *virt.Guest, nic virt.NIC) error {
	d.mu.Lock()
	err := d.attachErr
	d.mu.Unlock()
	if err != nil {
		return err
	}
	return d.Driver.AttachInterface(ctx, g, nic)
}

func (d *scriptedDriver) SetAdminPassword(ctx context.Context, id, password string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passwordErr != nil {
		return d.passwordErr
	}
	d.passwords = append(d.passwords, password)
	return d.Driver.SetAdminPassword(ctx, id, password)
}

func (d *scriptedDriver) ConsoleOutput(ctx context.Context, id string) ([]byte, error) {
	d.mu.Lock()
	err := d.consoleErr
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return d.Driver.ConsoleOutput(ctx, id)
}

func (d *scriptedDriver) PowerState(ctx context.Context, id string) (virt.PowerState, error) {
	d.mu.Lock()
	p := d.power
	d.mu.Unlock()
	if p != 0 {
		return p, nil
	}
	return d.Driver.PowerState(ctx, id)
}

// script changes the driver's answers.
func (d *scriptedDriver) script(f func(d *scriptedDriver)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

// rescueCloud is a test cloud with the principals of the rescue tests;
// driver is set only by newScriptedCloud.
type rescueCloud struct {
	*computetest.Cloud
	driver *scriptedDriver
	owner  *auth.Principal
	admin  *auth.Principal
}

func newRescueCloud(t *testing.T, database string, o computetest.Options) *rescueCloud {
	t.Helper()
	return &rescueCloud{Cloud: computetest.New(t, database, o),
		owner: &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}},
		admin: &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}}
}

// newScriptedCloud is a rescue cloud whose host runs an agent on a
// scriptedDriver over the cloud's fake one, taking over from the cloud's
// agent as a restarted host does. It is built here, not by the app,
// because answers such as virt.ErrNotSupported are beyond the fake's
// options.
func newScriptedCloud(t *testing.T, database string) *rescueCloud {
	t.Helper()
	rc := newRescueCloud(t, database, computetest.Options{Stopped: true})
	rc.driver = &scriptedDriver{Driver: rc.Driver}
	a := agent.New(rc.App.Hosts, rc.Compute, rc.driver, slog.New(slog.NewTextHandler(io.Discard, nil)), agent.Options{Poll: 10 * time.Millisecond,
		Predecessor: rc.Agent.Lease()})
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rc
}

func (rc *rescueCloud) active(t *testing.T, name string) string {
	t.Helper()
	id := rc.CreateServer(t, rc.owner, name, nil).Servers[0].ID
	rc.WaitFor(t, id, computetest.Active)
	return id
}

func (rc *rescueCloud) idle(t *testing.T, id string) *compute.Server {
	t.Helper()
	return rc.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
}

// event waits for the event of the action recorded for requestID and
// returns its result.
func (rc *rescueCloud) event(t *testing.T, id, requestID, event string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err := rc.Compute.GetAction(context.Background(), rc.admin, id, requestID, true)
		if err != nil {
			t.Fatalf("action %s: %v", requestID, err)
		}
		for _, e := range a.Events {
			if e.Event == event && e.Result != nil {
				return *e.Result
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("action %s (%s) has no finished event %s: %+v", requestID, a.Action, event, a.Events)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (rc *rescueCloud) rescueErr(ctx context.Context, p *auth.Principal, id string, req compute.RescueRequest) error {
	_, err := rc.Compute.Rescue(ctx, p, id, req)
	return err
}

// wantErr checks err's kind and exact message.
func wantErr(t *testing.T, what string, err error, kind errs.Kind, msg string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != kind || e.Message != msg {
		t.Fatalf("%s: error %v, want kind %v %q", what, err, kind, msg)
	}
}

// noSecretsLeft fails when any task row still holds params or a result
// mentioning pass.
func noSecretsLeft(t *testing.T, db *store.DB, clear string) {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM tasks WHERE params LIKE ? OR params LIKE ?
		OR COALESCE(result, '') LIKE ?`, "%admin_pass%", "%"+clear+"%", "%"+clear+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d task rows still hold the password", n)
	}
}

func TestRescueAndUnrescue(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{})
		ctx := context.Background()
		id := rc.active(t, "rescued")
		before := rc.idle(t, id)

		pass, err := rc.Compute.Rescue(ctx, rc.owner, id, compute.RescueRequest{RequestID: "req-rescue"})
		if err != nil || len(pass) != 12 {
			t.Fatalf("rescue: %q, %v; want a generated 12-character password", pass, err)
		}
		srv := rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "RESCUE" && s.TaskState == state.TaskNone })
		if srv.VMState != state.VMRescued || srv.PowerState != state.PowerRunning {
			t.Fatalf("rescued server %s/%v", srv.VMState, srv.PowerState)
		}
		if !srv.LaunchedAt.After(*before.LaunchedAt) {
			t.Fatalf("launched_at %v not renewed (was %v)", srv.LaunchedAt, before.LaunchedAt)
		}
		if g, _ := rc.Driver.Inspect(id); g.RescueImage != rc.ImageID {
			t.Fatalf("guest rescued with %q, want the server's image %s", g.RescueImage, rc.ImageID)
		}
		if r := rc.event(t, id, "req-rescue", "compute_rescue_instance"); r != "Success" {
			t.Fatalf("rescue event %s", r)
		}
		noSecretsLeft(t, rc.DB, pass)

		wantErr(t, "rescue twice", rc.rescueErr(ctx, rc.owner, id, compute.RescueRequest{}), errs.KindConflict,
			fmt.Sprintf("Cannot 'rescue' instance %s while it is in vm_state rescued", id))

		if err := rc.Compute.Unrescue(ctx, rc.owner, id, "req-unrescue"); err != nil {
			t.Fatal(err)
		}
		srv = rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "ACTIVE" && s.TaskState == state.TaskNone })
		if g, _ := rc.Driver.Inspect(id); g.RescueImage != "" || g.Power != virt.PowerRunning {
			t.Fatalf("unrescued guest %+v", g)
		}
		if r := rc.event(t, id, "req-unrescue", "compute_unrescue_instance"); r != "Success" {
			t.Fatalf("unrescue event %s", r)
		}
		wantErr(t, "unrescue active", rc.Compute.Unrescue(ctx, rc.owner, id, "req-x"), errs.KindConflict,
			fmt.Sprintf("Cannot 'unrescue' instance %s while it is in vm_state active", id))

		// A stopped server can be rescued and comes back active.
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" && s.TaskState == state.TaskNone })
		given := "given"
		if _, err := rc.Compute.Rescue(ctx, rc.owner, id, compute.RescueRequest{AdminPass: &given, ImageRef: rc.ImageID}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "RESCUE" })
		if err := rc.Compute.Unrescue(ctx, rc.owner, id, "req-unrescue-2"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "ACTIVE" && s.PowerState == state.PowerRunning })
		noSecretsLeft(t, rc.DB, "given")

		// An empty password is answered as asked (the guest gets a
		// generated one).
		empty := ""
		if pass, err := rc.Compute.Rescue(ctx, rc.owner, id, compute.RescueRequest{AdminPass: &empty}); err != nil || pass != "" {
			t.Fatalf("rescue with an empty password: %q, %v", pass, err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "RESCUE" && s.TaskState == state.TaskNone })
	})
}

func TestRescueRefusals(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{})
		ctx := context.Background()
		id := rc.active(t, "refused")
		missing := "70a599e0-31e7-49b7-b260-868f441e862b"
		cases := []struct {
			name string
			p    *auth.Principal
			id   string
			req  compute.RescueRequest
			kind errs.Kind
			msg  string
		}{
			{"unknown image", rc.owner, id, compute.RescueRequest{ImageRef: missing}, errs.KindInvalid,
				"Requested rescue image '" + missing + "' is not supported"},
			{"another project", &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member"}}, id,
				compute.RescueRequest{}, errs.KindNotFound, "Instance " + id + " could not be found."},
		}
		for _, tc := range cases {
			wantErr(t, tc.name, rc.rescueErr(ctx, tc.p, tc.id, tc.req), tc.kind, tc.msg)
		}
		if err := rc.Compute.SetLock(ctx, rc.admin, id, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "locked", rc.rescueErr(ctx, rc.owner, id, compute.RescueRequest{}), errs.KindConflict,
			"Instance "+id+" is locked")
		if srv := rc.idle(t, id); srv.Status() != "ACTIVE" {
			t.Fatalf("refused rescue left %s", srv.Status())
		}
	})
}

func TestRescueDriverFailure(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{Fake: fake.Options{Fail: map[string]bool{"rescue": true}}})
		id := rc.active(t, "broken")
		if _, err := rc.Compute.Rescue(context.Background(), rc.owner, id, compute.RescueRequest{RequestID: "req-r"}); err != nil {
			t.Fatal(err)
		}
		srv := rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "ERROR" && s.TaskState == state.TaskNone })
		if srv.Fault == nil || srv.Fault.Code != 400 ||
			!strings.HasPrefix(srv.Fault.Message, "Instance "+id+" cannot be rescued: Driver Error: ") {
			t.Fatalf("fault %+v", srv.Fault)
		}
		if r := rc.event(t, id, "req-r", "compute_rescue_instance"); r != "Error" {
			t.Fatalf("event %s, want Error", r)
		}
	})
}

func TestSetAdminPassword(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newScriptedCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "pw")
		if err := rc.Compute.SetAdminPassword(ctx, rc.owner, id, "s3cret-one", "req-pw"); err != nil {
			t.Fatal(err)
		}
		// The call is synchronous: the guest has the password now.
		if len(rc.driver.passwords) != 1 || rc.driver.passwords[0] != "s3cret-one" {
			t.Fatalf("driver got %q", rc.driver.passwords)
		}
		if srv := rc.idle(t, id); srv.Status() != "ACTIVE" {
			t.Fatalf("status %s", srv.Status())
		}
		if r := rc.event(t, id, "req-pw", "compute_set_admin_password"); r != "Success" {
			t.Fatalf("event %s", r)
		}
		noSecretsLeft(t, rc.DB, "s3cret-one")

		cases := []struct {
			name  string
			setup func(d *scriptedDriver)
			kind  errs.Kind
			msg   string
		}{
			{"not supported", func(d *scriptedDriver) { d.passwordErr = fmt.Errorf("guest agent: %w", virt.ErrNotSupported) },
				errs.KindNotImplemented, "Unable to set password on instance"},
			{"driver failure", func(d *scriptedDriver) { d.passwordErr = fmt.Errorf("agent said no to s3cret-two") },
				errs.KindConflict, "Failed to set admin password on " + id + " because error setting admin password"},
			{"guest not running", func(d *scriptedDriver) { d.passwordErr, d.power = nil, virt.PowerShutdown },
				errs.KindConflict, "Failed to set admin password on " + id + " because instance " + id + " is not running"},
		}
		for _, tc := range cases {
			rc.driver.script(tc.setup)
			wantErr(t, tc.name, rc.Compute.SetAdminPassword(ctx, rc.owner, id, "s3cret-two", "req-"+tc.name), tc.kind, tc.msg)
			if srv := rc.idle(t, id); srv.Status() != "ACTIVE" {
				t.Fatalf("%s: status %s", tc.name, srv.Status())
			}
			if r := rc.event(t, id, "req-"+tc.name, "compute_set_admin_password"); r != "Error" {
				t.Fatalf("%s: event %s", tc.name, r)
			}
		}
		noSecretsLeft(t, rc.DB, "s3cret-two")
		rc.driver.script(func(d *scriptedDriver) { d.power = 0 })

		if err := rc.Compute.SetLock(ctx, rc.admin, id, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "locked", rc.Compute.SetAdminPassword(ctx, rc.owner, id, "x", "req-l"), errs.KindConflict,
			"Instance "+id+" is in an invalid state for 'changePassword'")
		if err := rc.Compute.SetLock(ctx, rc.admin, id, false, nil, "req-unlock"); err != nil {
			t.Fatal(err)
		}
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" })
		wantErr(t, "stopped", rc.Compute.SetAdminPassword(ctx, rc.owner, id, "x", "req-s"), errs.KindConflict,
			"Cannot 'changePassword' instance "+id+" while it is in vm_state stopped")
	})
}

// TestSetAdminPasswordHonoursContext: a caller who gives up while the
// host has not answered its call gets a timeout, not a hang (no agent
// runs here, so the call is never answered).
func TestSetAdminPasswordHonoursContext(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{Stopped: true})
		id := rc.CreateServer(t, rc.owner, "slow", nil).Servers[0].ID
		rc.Step()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go cancelOnceQueued(ctx, cancel, rc.DB, id, compute.TaskCall)
		err := rc.Compute.SetAdminPassword(ctx, rc.owner, id, "late", "req-slow")
		if err == nil || errs.KindOf(err) != errs.KindInternal || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("error %v, want a timeout", err)
		}
	})
}

// cancelOnceQueued calls cancel once server id has a task of kind: the
// caller gives up after its request was accepted.
func cancelOnceQueued(ctx context.Context, cancel context.CancelFunc, db *store.DB, id, kind string) {
	for ctx.Err() == nil {
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE instance_id = ? AND kind = ?`, id, kind).Scan(&n)
		if err == nil && n > 0 {
			cancel()
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConsoleOutput(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newScriptedCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "console")
		raw, err := rc.Driver.ConsoleOutput(ctx, id)
		if err != nil || len(raw) == 0 {
			t.Fatalf("fake console %q, %v", raw, err)
		}
		all, err := rc.Compute.ConsoleOutput(ctx, rc.owner, id, nil, "req-c")
		if err != nil || all != compute.ConsoleText(raw, nil) {
			t.Fatalf("whole console %q, %v", all, err)
		}
		one := int64(1)
		last, err := rc.Compute.ConsoleOutput(ctx, rc.owner, id, &one, "req-c1")
		lines := strings.Split(string(raw), "\n")
		if err != nil || last != lines[len(lines)-1] {
			t.Fatalf("last line %q, %v; want %q", last, err, lines[len(lines)-1])
		}
		rc.driver.script(func(d *scriptedDriver) { d.consoleErr = virt.ErrNotSupported })
		_, err = rc.Compute.ConsoleOutput(ctx, rc.owner, id, nil, "req-c2")
		wantErr(t, "not supported", err, errs.KindNotImplemented, "The requested functionality is not supported.")
		rc.driver.script(func(d *scriptedDriver) { d.consoleErr = nil })
		if err := rc.Driver.Destroy(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, err = rc.Compute.ConsoleOutput(ctx, rc.owner, id, nil, "req-c3")
		wantErr(t, "guest gone", err, errs.KindNotFound, "Instance "+id+" could not be found.")
		// Console output records no instance action.
		acts, err := rc.Compute.ListActions(ctx, rc.admin, id, compute.ActionListOptions{})
		if err != nil || len(acts) != 1 || acts[0].Action != "create" {
			t.Fatalf("actions %v, %v", acts, err)
		}
	})
}

func TestConsoleText(t *testing.T) {
	t.Parallel()
	n := func(v int64) *int64 { return &v }
	log := []byte("one\ntwo\nthree")
	cases := []struct {
		name   string
		log    []byte
		length *int64
		want   string
	}{
		{"all", log, nil, "one\ntwo\nthree"},
		{"none", log, n(0), ""},
		{"last two", log, n(2), "two\nthree"},
		{"more than there is", log, n(50), "one\ntwo\nthree"},
		{"minus one drops the first line as Python's slice does", log, n(-1), "two\nthree"},
		{"trailing newline counts as a line", []byte("a\nb\n"), n(1), ""},
		{"control characters stripped, tab and newline kept", []byte("a\x00b\r\n\tc\x1b[0m"), nil, "ab\n\tc[0m"},
		{"non-ASCII becomes the replacement character", []byte("caf\xc3\xa9"), nil, "caf\ufffd\ufffd"},
	}
	for _, tc := range cases {
		if got := compute.ConsoleText(tc.log, tc.length); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTriggerCrashDump(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{})
		ctx := context.Background()
		id := rc.active(t, "dump")
		if err := rc.Compute.TriggerCrashDump(ctx, rc.owner, id, "req-nmi"); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-nmi", "compute_trigger_crash_dump"); r != "Success" {
			t.Fatalf("event %s", r)
		}
		if srv := rc.idle(t, id); srv.Status() != "ACTIVE" {
			t.Fatalf("status %s", srv.Status())
		}
		// A paused server passes the API's checks; the guest cannot take
		// the NMI, which the event records.
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionPause, "req-pause"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "PAUSED" })
		if err := rc.Compute.TriggerCrashDump(ctx, rc.owner, id, "req-nmi-2"); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-nmi-2", "compute_trigger_crash_dump"); r != "Error" {
			t.Fatalf("event on a paused guest %s, want Error", r)
		}
		if srv := rc.idle(t, id); srv.Status() != "PAUSED" {
			t.Fatalf("status %s", srv.Status())
		}
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionUnpause, "req-unpause"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "ACTIVE" && s.TaskState == state.TaskNone })
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" })
		wantErr(t, "stopped", rc.Compute.TriggerCrashDump(ctx, rc.owner, id, "req-x"), errs.KindConflict,
			"Cannot 'trigger_crash_dump' instance "+id+" while it is in vm_state stopped")
	})
}

func TestResetStateAndInjectNetworkInfo(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()
		id := rc.CreateServer(t, rc.owner, "reset", nil).Servers[0].ID
		rc.Step()
		for _, target := range []state.VMState{state.VMError, state.VMActive} {
			if err := rc.Compute.ResetState(ctx, rc.admin, id, target, "req-reset-"+string(target)); err != nil {
				t.Fatal(err)
			}
			srv, err := rc.Compute.GetAny(ctx, id)
			if err != nil || srv.VMState != target || srv.TaskState != state.TaskNone || srv.PowerState != state.PowerRunning {
				t.Fatalf("after reset to %s: %+v, %v", target, srv, err)
			}
			a, err := rc.Compute.GetAction(ctx, rc.admin, id, "req-reset-"+string(target), false)
			if err != nil || a.Action != "resetState" {
				t.Fatalf("action %+v, %v", a, err)
			}
		}
		if err := rc.Compute.ResetState(ctx, rc.admin, id, state.VMStopped, "req-bad"); err == nil {
			t.Fatal("reset to stopped accepted")
		}

		if err := rc.Compute.InjectNetworkInfo(ctx, rc.admin, id, "req-inject"); err != nil {
			t.Fatal(err)
		}
		if got := rc.Step(); !slices.Equal(got, []string{compute.TaskInjectNetworkInfo}) {
			t.Fatalf("inject ran %v", got)
		}
		var st string
		if err := rc.DB.QueryRowContext(ctx, `SELECT state FROM tasks WHERE instance_id = ? AND kind = ?`,
			id, compute.TaskInjectNetworkInfo).Scan(&st); err != nil || st != "done" {
			t.Fatalf("inject task %q, %v; want done", st, err)
		}
		if err := rc.Compute.SetLock(ctx, rc.admin, id, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "locked", rc.Compute.InjectNetworkInfo(ctx, rc.owner, id, "req-i2"), errs.KindConflict,
			"Instance "+id+" is locked")
		if err := rc.Compute.InjectNetworkInfo(ctx, rc.admin, id, "req-i3"); err != nil {
			t.Fatalf("an admin injects into a locked server: %v", err)
		}
	})
}
