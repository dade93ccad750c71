package fake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	d := New(Options{})
	g := &virt.Guest{ID: "g1", Hostname: "vm1", VCPUs: 1, MemoryMB: 512, AdminPass: "secret"}
	steps := []struct {
		name string
		do   func() error
		want virt.PowerState
	}{
		{"spawn", func() error { return d.Spawn(ctx, g) }, virt.PowerRunning},
		{"spawn again is idempotent", func() error { return d.Spawn(ctx, g) }, virt.PowerRunning},
		{"power off", func() error { return d.PowerOff(ctx, g.ID) }, virt.PowerShutdown},
		{"power on", func() error { return d.PowerOn(ctx, g) }, virt.PowerRunning},
		{"hard reboot", func() error { return d.Reboot(ctx, g, true) }, virt.PowerRunning},
		{"pause", func() error { return d.Pause(ctx, g.ID) }, virt.PowerPaused},
		{"unpause", func() error { return d.Unpause(ctx, g.ID) }, virt.PowerRunning},
		{"suspend", func() error { return d.Suspend(ctx, g.ID) }, virt.PowerSuspended},
		{"resume", func() error { return d.Resume(ctx, g) }, virt.PowerRunning},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if p, err := d.PowerState(ctx, g.ID); err != nil || p != s.want {
			t.Fatalf("%s: power state %v, %v; want %v", s.name, p, err, s.want)
		}
	}
	out, err := d.ConsoleOutput(ctx, g.ID)
	if err != nil || !strings.Contains(string(out), "vm1 login:") {
		t.Fatalf("console output %q, %v", out, err)
	}
	if strings.Contains(string(out), "secret") {
		t.Fatal("admin password leaked into the console")
	}
	if err := d.Destroy(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(ctx, g.ID); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if _, err := d.PowerState(ctx, g.ID); !errors.Is(err, virt.ErrNotFound) {
		t.Fatalf("power state after destroy: %v, want ErrNotFound", err)
	}
	if ids, _ := d.List(ctx); len(ids) != 0 {
		t.Fatalf("guests left: %v", ids)
	}
}

func TestFailureInjection(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		opts Options
		prop string
	}{
		{"option", Options{Fail: map[string]bool{"spawn": true}}, ""},
		{"image property", Options{}, "reboot,spawn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := New(tc.opts)
			g := &virt.Guest{ID: "g1", Image: virt.Image{Properties: map[string]string{FailProperty: tc.prop}}}
			if err := d.Spawn(ctx, g); err == nil {
				t.Fatal("spawn succeeded, want injected failure")
			}
			if ids, _ := d.List(ctx); len(ids) != 0 {
				t.Fatalf("failed spawn left guests %v", ids)
			}
		})
	}
}

func TestDelayHonoursContext(t *testing.T) {
	d := New(Options{Delays: map[string]time.Duration{"spawn": time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := d.Spawn(ctx, &virt.Guest{ID: "g1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("spawn with cancelled context: %v", err)
	}
}

// TestPersistedGuests: a driver opened on a directory finds, after a
// restart, every guest as the last change left it, and not the destroyed
// ones; a driver without a directory forgets them.
func TestPersistedGuests(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := virt.Image{ID: "img-1", Properties: map[string]string{FailProperty: "confirm_resize"}}
	spec := func(id string, vcpus int) *virt.Guest {
		return &virt.Guest{ID: id, Name: id, Hostname: id, VCPUs: vcpus, MemoryMB: 512, RootGB: 1, Image: img}
	}
	for _, id := range []string{"running", "stopped", "resized", "gone"} {
		if err := d.Spawn(ctx, spec(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []func() error{
		func() error { return d.PowerOff(ctx, "stopped") },
		func() error { return d.Resize(ctx, spec("resized", 2), true) },
		func() error { return d.SetAdminPassword(ctx, "running", "pw") },
		func() error { return d.AttachInterface(ctx, spec("running", 1), virt.NIC{MAC: "FA:16:3E:00:00:01"}) },
		func() error { return d.Destroy(ctx, "gone") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := map[string]Inspect{}
	for _, id := range []string{"running", "stopped", "resized"} {
		if want[id], err = d.Inspect(id); err != nil {
			t.Fatal(err)
		}
	}
	console, _ := d.ConsoleOutput(ctx, "resized")
	if nics := want["running"].NICs; !slices.Equal(nics, []string{"fa:16:3e:00:00:01"}) {
		t.Fatalf("hot-plugged NICs %v, want the one attached", nics)
	}

	again, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	cases := []struct {
		id    string
		power virt.PowerState
	}{
		{"running", virt.PowerRunning},
		{"stopped", virt.PowerShutdown},
		{"resized", virt.PowerRunning},
	}
	for _, tc := range cases {
		got, err := again.Inspect(tc.id)
		if err != nil {
			t.Errorf("%s after the restart: %v", tc.id, err)
			continue
		}
		if !reflect.DeepEqual(got, want[tc.id]) || got.Power != tc.power {
			t.Errorf("%s after the restart: %+v, want %+v", tc.id, got, want[tc.id])
		}
	}
	if got, _ := again.ConsoleOutput(ctx, "resized"); string(got) != string(console) {
		t.Errorf("console after the restart:\n%s\nwant:\n%s", got, console)
	}
	if _, err := again.Inspect("gone"); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("destroyed guest after the restart: %v, want ErrNotFound", err)
	}
	if ids, _ := again.List(ctx); len(ids) != 3 {
		t.Errorf("guests after the restart: %v", ids)
	}
	// The image's failure list outlives the restart and reaches
	// operations given only the guest's id.
	if err := again.ConfirmResize(ctx, "resized"); err == nil || !strings.Contains(err.Error(), "injected confirm_resize failure") {
		t.Errorf("confirm resize of a guest of a failing image: %v", err)
	}
	if err := again.Reboot(ctx, spec("running", 1), true); err != nil {
		t.Errorf("reboot after the restart: %v", err)
	}

	if mem := New(Options{}); mem.dir != "" {
		t.Error("New persists")
	}
}

func TestOpenRejectsDamagedGuest(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "g1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "g1", guestFileName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory without the file (a qemu guest's) is not a fake guest.
	if err := os.MkdirAll(filepath.Join(dir, "qemu-guest"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "guest g1") {
		t.Fatalf("open with a damaged guest file: %v, want an error naming it", err)
	}
	if err := os.Remove(filepath.Join(dir, "g1", guestFileName)); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := d.List(context.Background()); len(ids) != 0 {
		t.Errorf("guests %v from directories without a guest file", ids)
	}
}
