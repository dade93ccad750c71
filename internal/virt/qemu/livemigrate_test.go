package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestIncomingArgs(t *testing.T) {
	s := launchSpec{ID: "u1", Accel: "tcg", Dir: "/d", Disks: []string{"/d/disk.qcow2"}, QMP: "/d/qmp.sock", AwaitMigration: true}
	got := strings.Join(s.args(), " ")
	if !strings.Contains(got, " -S -incoming defer ") {
		t.Errorf("a guest awaiting a migration: %s; want it paused (-S) with -incoming defer", got)
	}
	s.AwaitMigration = false
	if got := strings.Join(s.args(), " "); strings.Contains(got, "-incoming") || strings.Contains(got, " -S ") {
		t.Errorf("a cold boot: %s", got)
	}
}

func TestMigrationProgress(t *testing.T) {
	type ram = struct {
		Total       int64 `json:"total"`
		Transferred int64 `json:"transferred"`
		Remaining   int64 `json:"remaining"`
	}
	tests := []struct {
		name string
		m    migrateStatus
		jobs []blockJob
		want virt.MigrationProgress
	}{
		{"disks mirroring, memory not started", migrateStatus{},
			[]blockJob{{Device: mirrorJobPrefix + "virtio0", Len: 1000, Offset: 400}, {Device: mirrorJobPrefix + "virtio1", Len: 100, Offset: 100}},
			virt.MigrationProgress{DiskTotal: 1100, DiskProcessed: 500, DiskRemaining: 600}},
		{"memory migrating, mirrors ready", migrateStatus{Status: "active", RAM: &ram{Total: 256 << 20, Transferred: 100 << 20, Remaining: 160 << 20}},
			[]blockJob{{Device: mirrorJobPrefix + "virtio0", Len: 1000, Offset: 1000, Ready: true}},
			virt.MigrationProgress{MemoryTotal: 256 << 20, MemoryProcessed: 100 << 20, MemoryRemaining: 160 << 20, DiskTotal: 1000, DiskProcessed: 1000}},
		{"another block job is no part of it", migrateStatus{},
			[]blockJob{{Device: "backup0", Len: 5, Offset: 1}}, virt.MigrationProgress{}},
		{"a mirror's target moved on (len grows while writes come)", migrateStatus{},
			[]blockJob{{Device: mirrorJobPrefix + "virtio0", Len: 10, Offset: 12}},
			virt.MigrationProgress{DiskTotal: 10, DiskProcessed: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressOf(tt.m, tt.jobs); got != tt.want {
				t.Errorf("progress %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLocalDisks(t *testing.T) {
	type ins = struct {
		File string `json:"file"`
		RO   bool   `json:"ro"`
	}
	blocks := []blockInfo{
		{Device: "virtio0", Inserted: &ins{File: "/d/i/g1/disk.qcow2"}},
		{Device: "virtio1", Inserted: &ins{File: "/d/i/g1/swap.qcow2"}},
		{Device: "virtio2", Inserted: &ins{File: "/d/i/g1/config.iso", RO: true}},
		{Device: "", Inserted: &ins{File: "/d/volumes/v1"}},             // a volume (-blockdev)
		{Device: "virtio3", Inserted: &ins{File: "/elsewhere/x.qcow2"}}, // not the guest's
		{Device: "cd0"}, // empty
	}
	got := localDisks(blocks, "/d/i/g1")
	if want := []string{"virtio0", "virtio1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("disks to copy %v, want %v", got, want)
	}
}

// directLink is a MigrationLink straight to another driver on this
// machine, as the host endpoint relays it between hosts; with cut set,
// the memory stream breaks after that many bytes, as when a host's kumo
// dies mid-migration.
type directLink struct {
	dest *Driver
	cut  atomic.Int64
}

func (l *directLink) DialMigration(ctx context.Context, host, id, channel string) (io.ReadWriteCloser, error) {
	c, err := l.dest.ConnectIncoming(ctx, id, channel)
	if err != nil || channel != channelMemory || l.cut.Load() == 0 {
		return c, err
	}
	return &cutStream{ReadWriteCloser: c, left: l.cut.Load()}, nil
}

type cutStream struct {
	io.ReadWriteCloser
	left int64
}

func (c *cutStream) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		c.Close()
		return 0, errors.New("stream cut")
	}
	c.left -= int64(len(p))
	return c.ReadWriteCloser.Write(p)
}

// qmp runs one QMP command on guest id holding its lock.
func (d *Driver) qmp(ctx context.Context, id, command string, args, out any) error {
	defer d.lock(id)()
	return qmpCall(ctx, d.qmpSocket(id), command, args, out)
}

var countRE = regexp.MustCompile(`KUMO-GUEST: count=(\d+)`)

// lastCount is the last count the counting test guest printed, 0 before
// its first.
func lastCount(t *testing.T, d *Driver, id string) int {
	t.Helper()
	out, err := d.ConsoleOutput(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	m := countRE.FindAllStringSubmatch(string(out), -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// waitCount waits until guest id on d has counted past n.
func waitCount(t *testing.T, d *Driver, id string, n int) int {
	t.Helper()
	deadline := time.Now().Add(guestWait)
	for {
		if c := lastCount(t, d, id); c > n {
			return c
		}
		if time.Now().After(deadline) {
			out, _ := d.ConsoleOutput(context.Background(), id)
			t.Fatalf("after %v guest %s has not counted past %d:\n%s", guestWait, id, n, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestGuestLiveMigration live-migrates the counting test guest between
// two drivers on two data dirs: its disk's own data (written on the
// source) is on the destination, its count goes on there, nothing is
// left on the source; an aborted migration leaves it running on the
// source and nothing on the destination, as does one whose stream
// breaks; a migration a crashed kumo left is cancelled by the next; a
// guest that came in by a migration goes back by one.
func TestGuestLiveMigration(t *testing.T) {
	base, image := testGuest(t, "live migration", "qemu-system-x86_64", "qemu-img", "qemu-io")
	ctx := context.Background()
	newDriver := func(name, dataDir string, link virt.MigrationLink) *Driver {
		opts := base
		opts.DataDir, opts.Hostname, opts.Link = dataDir, name, link
		d, err := New(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopAll(t, d) })
		return d
	}
	srcDir := t.TempDir()
	back := &directLink{} // to the source, for the way back
	dst := newDriver("dst", t.TempDir(), back)
	link := &directLink{dest: dst}
	src := newDriver("src", srcDir, link)
	g := &virt.Guest{ID: "live-migrated", Name: "vm", Hostname: "vm", VCPUs: 1, MemoryMB: 128, RootGB: 1, SwapMB: 16,
		ConfigDrive: true, UserData: []byte("kumo-count\n"),
		Image: image}
	if err := src.Spawn(ctx, g); err != nil {
		t.Fatal(err)
	}
	waitCount(t, src, g.ID, 0)
	// Data of the guest's own on its root disk, which must move with it.
	if err := src.qmp(ctx, g.ID, "human-monitor-command",
		map[string]string{"command-line": `qemu-io virtio0 "write -P 0x5a 1M 1M"`}, nil); err != nil {
		t.Fatal(err)
	}

	// Aborted: it runs on, here only.
	if err := dst.PrepareIncoming(ctx, g, true); err != nil {
		t.Fatal(err)
	}
	if err := dst.PrepareIncoming(ctx, g, true); err != nil {
		t.Fatalf("prepare again: %v", err)
	}
	abort := func(virt.MigrationProgress) {
		if err := src.AbortLiveMigration(ctx, g.ID); err != nil {
			t.Error(err)
		}
	}
	if err := src.LiveMigrate(ctx, g.ID, "dst", true, abort); err != virt.ErrMigrationAborted {
		t.Fatalf("aborted migration: %v, want ErrMigrationAborted", err)
	}
	if err := dst.Destroy(ctx, g.ID); err != nil { // the rollback
		t.Fatal(err)
	}
	if p, _ := src.PowerState(ctx, g.ID); p != virt.PowerRunning {
		t.Fatalf("after the abort the source's guest is %v, want running", p)
	}

	// Its stream broken mid-way: it runs on, here only, and counts on.
	if err := dst.PrepareIncoming(ctx, g, true); err != nil {
		t.Fatal(err)
	}
	link.cut.Store(1 << 20)
	err := src.LiveMigrate(ctx, g.ID, "dst", true, func(virt.MigrationProgress) {})
	if err == nil || errors.Is(err, virt.ErrMigrationAborted) {
		t.Fatalf("migration over a broken stream: %v, want it failed", err)
	}
	t.Logf("broken stream: %v", err)
	link.cut.Store(0)
	if err := dst.Destroy(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := src.PowerState(ctx, g.ID); p != virt.PowerRunning {
		t.Fatalf("after a failed migration the source's guest is %v, want running", p)
	}
	waitCount(t, src, g.ID, lastCount(t, src, g.ID))

	// A migration the source's last kumo left at its switch-over (the
	// guest stopped; its relays gone with it): a driver started since
	// cancels it, and the guest moves.
	sink := filepath.Join(t.TempDir(), "sink.sock")
	ln, err := net.Listen("unix", sink)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	if err := src.qmp(ctx, g.ID, "migrate-set-capabilities", map[string]any{"capabilities": []map[string]any{
		{"capability": "pause-before-switchover", "state": true}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := src.qmp(ctx, g.ID, "migrate", map[string]string{"uri": "unix:" + sink}, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(guestWait); ; time.Sleep(100 * time.Millisecond) {
		var m migrateStatus
		if err := src.qmp(ctx, g.ID, "query-migrate", nil, &m); err != nil {
			t.Fatal(err)
		}
		if m.Status == "pre-switchover" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the left migration is %s", m.Status)
		}
	}
	src = newDriver("src", srcDir, link)
	back.dest = src

	// Done: forced to complete once it has started.
	if err := dst.PrepareIncoming(ctx, g, true); err != nil {
		t.Fatal(err)
	}
	before := lastCount(t, src, g.ID)
	var last virt.MigrationProgress
	forced := false
	start := time.Now()
	err = src.LiveMigrate(ctx, g.ID, "dst", true, func(p virt.MigrationProgress) {
		last = p
		if p.MemoryProcessed > 0 && !forced {
			forced = true
			if err := src.ForceCompleteLiveMigration(ctx, g.ID); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatalf("live migration: %v", err)
	}
	t.Logf("migrated in %v: %+v", time.Since(start).Round(time.Millisecond), last)
	if last.MemoryTotal == 0 || last.MemoryRemaining != 0 || last.DiskTotal == 0 || last.DiskProcessed != last.DiskTotal {
		t.Errorf("last progress %+v: want all memory and disk copied", last)
	}
	if err := src.Destroy(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := dst.FinishIncoming(ctx, g, virt.PowerRunning); err != nil {
		t.Fatal(err)
	}
	if err := dst.FinishIncoming(ctx, g, virt.PowerRunning); err != nil {
		t.Fatalf("finish again: %v", err)
	}
	if p, _ := dst.PowerState(ctx, g.ID); p != virt.PowerRunning {
		t.Fatalf("the migrated guest is %v, want running", p)
	}
	after := waitCount(t, dst, g.ID, 0)
	if after <= before {
		t.Errorf("count on the destination %d, before the move %d: the guest started again", after, before)
	}
	if ids, _ := src.List(ctx); len(ids) != 0 {
		t.Errorf("left on the source: %v", ids)
	}

	// And back: a guest that came in by a migration goes out by one.
	if err := src.PrepareIncoming(ctx, g, true); err != nil {
		t.Fatal(err)
	}
	if err := dst.LiveMigrate(ctx, g.ID, "src", true, func(virt.MigrationProgress) {}); err != nil {
		t.Fatalf("live migration back: %v", err)
	}
	if err := dst.Destroy(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := src.FinishIncoming(ctx, g, virt.PowerRunning); err != nil {
		t.Fatal(err)
	}
	came := waitCount(t, src, g.ID, 0)
	if came <= after {
		t.Errorf("count back on the source %d, on the destination %d: the guest started again", came, after)
	}
	// Its state saved and restored (a process that came in by a
	// migration saves its own).
	if err := src.Suspend(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := src.Resume(ctx, g); err != nil {
		t.Fatal(err)
	}
	waitCount(t, src, g.ID, came)
	if out, _ := src.ConsoleOutput(ctx, g.ID); strings.Contains(string(out), "KUMO-GUEST-READY") {
		t.Errorf("the guest booted again instead of resuming:\n%s", out)
	}
	src, dst = dst, src // the checks below look at where it is
	// The data written on the source is in the destination's disk.
	if err := dst.PowerOff(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qemu-io", "-r", "-c", "read -P 0x5a 1M 1M", filepath.Join(dst.dir(g.ID), "disk.qcow2")).CombinedOutput(); err != nil || strings.Contains(string(out), "Pattern verification failed") {
		t.Errorf("the guest's data on the destination's disk: %v\n%s", err, out)
	}
}
