package compute_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// ports are the MACs of the server's ports, in order.
func (rc *rescueCloud) ports(t *testing.T, id string) []string {
	t.Helper()
	nics, err := rc.Compute.Addresses.NICs(context.Background(), rc.DB, rc.owner.ProjectID, id)
	if err != nil {
		t.Fatal(err)
	}
	var macs []string
	for _, n := range nics {
		macs = append(macs, n.MAC)
	}
	return macs
}

// guestNICs waits until the fake guest's NICs are want (in any order).
func (rc *rescueCloud) guestNICs(t *testing.T, id string, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, err := rc.Driver.Inspect(id)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Sorted(slices.Values(g.NICs))
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guest has NICs %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInterfaceHotPlug: an attached port is plugged into the running
// guest before the attach returns, a detached one unplugged and then
// released; a stopped server's guest boots with its ports as they are.
func TestInterfaceHotPlug(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{})
		ctx := context.Background()
		id := rc.active(t, "hotplug")
		booted := rc.ports(t, id)

		port, err := rc.Compute.AttachInterface(ctx, rc.owner, id, "req-attach", compute.RequestedNetwork{})
		if err != nil {
			t.Fatal(err)
		}
		withNew := rc.ports(t, id)
		if len(withNew) != len(booted)+1 {
			t.Fatalf("ports after attach %v, want one more than %v", withNew, booted)
		}
		if g, _ := rc.Driver.Inspect(id); !slices.Equal(slices.Sorted(slices.Values(g.NICs)), slices.Sorted(slices.Values(withNew))) {
			t.Fatalf("the attach returned before the guest had the NIC: %v, ports %v", g.NICs, withNew)
		}
		if r := rc.event(t, id, "req-attach", "compute_attach_interface"); r != "Success" {
			t.Fatalf("attach event %s", r)
		}

		if err := rc.Compute.DetachInterface(ctx, rc.owner, id, "req-detach", port); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-detach", "compute_detach_interface"); r != "Success" {
			t.Fatalf("detach event %s", r)
		}
		rc.guestNICs(t, id, booted)
		if got := rc.ports(t, id); !slices.Equal(got, booted) {
			t.Fatalf("ports after detach %v, want %v", got, booted)
		}
		// Nova casts the detach: the host finds the port is not attached.
		if err := rc.Compute.DetachInterface(ctx, rc.owner, id, "req-detach-again", port); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-detach-again", "compute_detach_interface"); r != "Error" {
			t.Fatalf("detach of a detached port: event %s, want Error", r)
		}

		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" && s.TaskState == "" })
		if _, err := rc.Compute.AttachInterface(ctx, rc.owner, id, "req-attach-stopped", compute.RequestedNetwork{}); err != nil {
			t.Fatal(err)
		}
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionStart, "req-start"); err != nil {
			t.Fatal(err)
		}
		rc.idle(t, id)
		rc.guestNICs(t, id, rc.ports(t, id))
		if n := len(rc.ports(t, id)); n != len(booted)+1 {
			t.Fatalf("%d ports after the attach while stopped, want %d", n, len(booted)+1)
		}
	})
}

// TestInterfaceAttachFails: a host that cannot plug the port fails the
// attach as Nova does (500 InterfaceAttachFailed, 400 when the driver
// cannot hot-plug at all), and the port is released again; a failed
// unplug keeps the port.
func TestInterfaceAttachFails(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{Fake: fake.Options{
			Fail: map[string]bool{"attach_interface": true, "detach_interface": true}}})
		ctx := context.Background()
		id := rc.active(t, "failing")
		booted := rc.ports(t, id)
		_, err := rc.Compute.AttachInterface(ctx, rc.owner, id, "req-attach", compute.RequestedNetwork{})
		wantErr(t, "attach", err, errs.KindInternal, fmt.Sprintf("Failed to attach network adapter device to %s", id))
		if got := rc.ports(t, id); !slices.Equal(got, booted) {
			t.Fatalf("ports after the failed attach %v, want %v: the port is released", got, booted)
		}
		if r := rc.event(t, id, "req-attach", "compute_attach_interface"); r != "Error" {
			t.Fatalf("attach event %s, want Error", r)
		}
		a, err := rc.Compute.GetAction(ctx, rc.admin, id, "req-attach", true)
		if err != nil || len(a.Events) != 1 || a.Events[0].Traceback == nil || *a.Events[0].Traceback != "fake driver: injected attach_interface failure" {
			t.Fatalf("attach action %+v, %v: want the host's error in its event", a, err)
		}

		nics, err := rc.Compute.Addresses.NICs(ctx, rc.DB, rc.owner.ProjectID, id)
		if err != nil || len(nics) == 0 {
			t.Fatalf("nics %v, %v", nics, err)
		}
		if err := rc.Compute.DetachInterface(ctx, rc.owner, id, "req-detach", nics[0].Port); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-detach", "compute_detach_interface"); r != "Error" {
			t.Fatalf("detach event %s, want Error", r)
		}
		if got := rc.ports(t, id); !slices.Equal(got, booted) {
			t.Fatalf("ports after the failed detach %v, want %v kept", got, booted)
		}
	})
}

func TestInterfaceAttachNotSupported(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newScriptedCloud(t, database)
		rc.driver.script(func(d *scriptedDriver) { d.attachErr = fmt.Errorf("no hot-plug here: %w", virt.ErrNotSupported) })
		id := rc.active(t, "unsupported")
		booted := rc.ports(t, id)
		_, err := rc.Compute.AttachInterface(context.Background(), rc.owner, id, "req-attach", compute.RequestedNetwork{})
		wantErr(t, "attach", err, errs.KindInvalid, fmt.Sprintf("Attaching interfaces is not supported for instance %s.", id))
		if got := rc.ports(t, id); !slices.Equal(got, booted) {
			t.Fatalf("ports after the refused attach %v, want %v", got, booted)
		}
	})
}
