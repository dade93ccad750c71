package fake

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// TestLiveMigration walks the fake live migration between two drivers:
// a full copy with its progress, one forced to complete, one aborted
// while it runs and one aborted before it starts.
func TestLiveMigration(t *testing.T) {
	ctx := context.Background()
	g := &virt.Guest{ID: "g1", Hostname: "vm1", VCPUs: 1, MemoryMB: 64, RootGB: 1}
	for _, tc := range []struct {
		name  string
		delay time.Duration
		// act, when set, runs while the migration copies (after its
		// first progress report).
		act         func(src *Driver) error
		abortBefore bool
		wantErr     error
	}{
		{name: "complete"},
		{name: "forced", delay: time.Hour, act: func(src *Driver) error { return src.ForceCompleteLiveMigration(ctx, g.ID) }},
		{name: "aborted", delay: time.Hour, act: func(src *Driver) error { return src.AbortLiveMigration(ctx, g.ID) },
			wantErr: virt.ErrMigrationAborted},
		{name: "aborted before", abortBefore: true, wantErr: virt.ErrMigrationAborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := New(Options{Hostname: "a", Delays: map[string]time.Duration{"live_migration": tc.delay}})
			dst := New(Options{Hostname: "b"})
			if err := src.Spawn(ctx, g); err != nil {
				t.Fatal(err)
			}
			if err := dst.PrepareIncoming(ctx, g, true); err != nil {
				t.Fatal(err)
			}
			if p, _ := dst.PowerState(ctx, g.ID); p != virt.PowerPaused {
				t.Fatalf("prepared guest is %v, want paused", p)
			}
			if tc.abortBefore {
				if err := src.AbortLiveMigration(ctx, g.ID); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			var reports []virt.MigrationProgress
			started := make(chan struct{})
			var once sync.Once
			done := make(chan error, 1)
			go func() {
				done <- src.LiveMigrate(ctx, g.ID, "b", true, func(p virt.MigrationProgress) {
					mu.Lock()
					reports = append(reports, p)
					mu.Unlock()
					once.Do(func() { close(started) })
				})
			}()
			if tc.act != nil {
				<-started
				if err := tc.act(src); err != nil {
					t.Fatal(err)
				}
			}
			err := <-done
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("LiveMigrate: %v, want %v", err, tc.wantErr)
			}
			srcPower, _ := src.PowerState(ctx, g.ID)
			if tc.wantErr != nil {
				if srcPower != virt.PowerRunning {
					t.Fatalf("aborted: source guest %v, want running", srcPower)
				}
				return
			}
			mu.Lock()
			last := reports[len(reports)-1]
			mu.Unlock()
			want := virt.MigrationProgress{MemoryTotal: 64 << 20, MemoryProcessed: 64 << 20, DiskTotal: 1 << 30, DiskProcessed: 1 << 30}
			if last != want {
				t.Fatalf("last progress %+v, want %+v", last, want)
			}
			if srcPower != virt.PowerShutdown {
				t.Fatalf("source guest after the copy: %v, want shut down", srcPower)
			}
			if err := dst.FinishIncoming(ctx, g, virt.PowerRunning); err != nil {
				t.Fatal(err)
			}
			if p, _ := dst.PowerState(ctx, g.ID); p != virt.PowerRunning {
				t.Fatalf("migrated guest is %v", p)
			}
		})
	}
}
