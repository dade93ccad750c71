package fake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/virt"
)

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	d := New(Options{})
	g := &virt.Guest{ID: "g1", Hostname: "vm1", VCPUs: 1, MemoryMB: 512, AdminPass: "secret"}
	steps := []struct {
		name string
		do   func() error
		want state.PowerState
	}{
		{"spawn", func() error { return d.Spawn(ctx, g) }, state.PowerRunning},
		{"spawn again is idempotent", func() error { return d.Spawn(ctx, g) }, state.PowerRunning},
		{"power off", func() error { return d.PowerOff(ctx, g.ID) }, state.PowerShutdown},
		{"power on", func() error { return d.PowerOn(ctx, g) }, state.PowerRunning},
		{"hard reboot", func() error { return d.Reboot(ctx, g, true) }, state.PowerRunning},
		{"pause", func() error { return d.Pause(ctx, g.ID) }, state.PowerPaused},
		{"unpause", func() error { return d.Unpause(ctx, g.ID) }, state.PowerRunning},
		{"suspend", func() error { return d.Suspend(ctx, g.ID) }, state.PowerSuspended},
		{"resume", func() error { return d.Resume(ctx, g) }, state.PowerRunning},
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
