package qemu

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// Live migration is QEMU's own, as Nova's libvirt driver does it for a
// block migration (no kumo host shares instance storage):
//
//   - the destination (PrepareIncoming) makes the guest's disks as a
//     spawn does (the root overlay on its own copy of the image, blank
//     ephemeral and swap disks, the config drive) and starts its qemu
//     with the same devices, paused (-S) and waiting (-incoming defer);
//     its NBD server exports the writable disks on a unix socket and
//     migrate-incoming listens on another;
//   - the source (LiveMigrate) mirrors each writable disk's own data
//     (drive-mirror sync=top: the image below is on both hosts) to the
//     destination's export while the guest runs, then, once the mirrors
//     are ready, migrates memory with pause-before-switchover: with the
//     guest stopped, the mirrors complete (block-job-cancel of a ready
//     mirror leaves the target a consistent copy), then the migration
//     finishes; the source's qemu is left stopped, for Destroy;
//   - the destination (FinishIncoming) stops its NBD server and lets
//     the guest run (cont) when it ran before.
//
// Hosts reach each other only through the host endpoint: each
// connection the source's qemu opens to a local unix socket of kumo's
// is relayed over a signed, upgraded HTTP connection (Options.Link) to
// the destination's endpoint, which connects it to the matching socket
// of the waiting qemu (ConnectIncoming).

// Migration channels: the memory stream and the disks' NBD connections.
const (
	channelMemory = "memory"
	channelDisk   = "disk"
)

// mirrorJobPrefix names the block jobs of a live migration's mirrors.
const mirrorJobPrefix = "kumo-mirror-"

// migrationJob is a live migration of a guest out of this host; asked
// to force or abort, it acts at its next poll.
type migrationJob struct {
	mu             sync.Mutex
	force, aborted bool
}

func (j *migrationJob) state() (force, aborted bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.force, j.aborted
}

// job is guest id's migration job, made when missing (an abort told
// before the migration starts stops it at its start).
func (d *Driver) job(id string) *migrationJob {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, ok := d.jobs[id]
	if !ok {
		j = &migrationJob{}
		d.jobs[id] = j
	}
	return j
}

// PrepareIncoming implements virt.LiveMigrator.
func (d *Driver) PrepareIncoming(ctx context.Context, g *virt.Guest, blockMigration bool) error {
	if !blockMigration {
		return fmt.Errorf("guest %s: kumo hosts share no instance storage, so a live migration on qemu copies the disks (block migration): %w", g.ID, virt.ErrNotSupported)
	}
	if len(g.Volumes) > 0 {
		return fmt.Errorf("guest %s: live migration of a guest with volumes on qemu: %w", g.ID, virt.ErrNotSupported)
	}
	defer d.lock(g.ID)()
	if _, ok := d.pid(g.ID); ok {
		st, err := d.status(ctx, g.ID)
		if err != nil {
			return err
		}
		if st != "inmigrate" {
			return fmt.Errorf("guest %s runs on this host already (%s)", g.ID, st)
		}
		if exists(d.socket(g.ID, "migrate-in")) {
			return nil // prepared already
		}
		// Left half prepared by an earlier attempt.
		if err := d.stop(ctx, g.ID, false); err != nil {
			return err
		}
	}
	dir := d.dir(g.ID)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("incoming guest %s: %w", g.ID, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("incoming guest %s: %w", g.ID, err)
	}
	if err := d.makeDisks(ctx, g); err != nil {
		return err
	}
	if err := d.launch(ctx, g, launchSpec{AwaitMigration: true}); err != nil {
		return err
	}
	q, err := qmpOpen(ctx, d.qmpSocket(g.ID))
	if err != nil {
		return err
	}
	defer q.Close()
	disks, err := writableDisks(q, dir)
	if err != nil {
		return err
	}
	nbd, in := d.socket(g.ID, "nbd"), d.socket(g.ID, "migrate-in")
	_ = os.Remove(nbd)
	_ = os.Remove(in)
	if err := q.call("nbd-server-start", map[string]any{"addr": map[string]any{"type": "unix", "data": map[string]string{"path": nbd}}}, nil); err != nil {
		return err
	}
	for _, dev := range disks {
		if err := q.call("nbd-server-add", map[string]any{"device": dev, "writable": true}, nil); err != nil {
			return err
		}
	}
	return q.call("migrate-incoming", map[string]string{"uri": "unix:" + in}, nil)
}

// ConnectIncoming implements virt.MigrationReceiver: the sockets of the
// waiting qemu, "memory" its migration's, "disk" its NBD server's.
func (d *Driver) ConnectIncoming(ctx context.Context, id, channel string) (io.ReadWriteCloser, error) {
	var sock string
	switch channel {
	case channelMemory:
		sock = d.socket(id, "migrate-in")
	case channelDisk:
		sock = d.socket(id, "nbd")
	default:
		return nil, fmt.Errorf("guest %s: no migration channel %q", id, channel)
	}
	if _, ok := d.pid(id); !ok {
		return nil, fmt.Errorf("guest %s waits for no migration here: %w", id, virt.ErrNotFound)
	}
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, fmt.Errorf("guest %s: incoming %s: %w", id, channel, err)
	}
	return c, nil
}

// blockInfo is one device of query-block.
type blockInfo struct {
	Device   string `json:"device"`
	Inserted *struct {
		File string `json:"file"`
		RO   bool   `json:"ro"`
	} `json:"inserted"`
}

// writableDisks are the devices of the guest's writable disk files in
// its directory dir (root, ephemeral, swap: what a migration copies).
func writableDisks(q *qmpSession, dir string) ([]string, error) {
	var blocks []blockInfo
	if err := q.call("query-block", nil, &blocks); err != nil {
		return nil, err
	}
	return localDisks(blocks, dir), nil
}

func localDisks(blocks []blockInfo, dir string) []string {
	var out []string
	for _, b := range blocks {
		if b.Device != "" && b.Inserted != nil && !b.Inserted.RO && filepath.Dir(b.Inserted.File) == dir {
			out = append(out, b.Device)
		}
	}
	return out
}

// migrateStatus is what query-migrate says.
type migrateStatus struct {
	Status string `json:"status"`
	RAM    *struct {
		Total       int64 `json:"total"`
		Transferred int64 `json:"transferred"`
		Remaining   int64 `json:"remaining"`
	} `json:"ram"`
	ErrorDesc string `json:"error-desc"`
}

// blockJob is one job of query-block-jobs.
type blockJob struct {
	Device string `json:"device"` // the job's id
	Len    int64  `json:"len"`
	Offset int64  `json:"offset"`
	Ready  bool   `json:"ready"`
	Status string `json:"status"`
}

// progressOf maps QEMU's figures to the migration's: memory from
// query-migrate, disks from the mirrors.
func progressOf(m migrateStatus, jobs []blockJob) virt.MigrationProgress {
	var p virt.MigrationProgress
	if m.RAM != nil {
		p.MemoryTotal, p.MemoryProcessed, p.MemoryRemaining = m.RAM.Total, m.RAM.Transferred, m.RAM.Remaining
	}
	for _, j := range jobs {
		if !strings.HasPrefix(j.Device, mirrorJobPrefix) {
			continue
		}
		p.DiskTotal += j.Len
		p.DiskProcessed += min(j.Offset, j.Len)
		p.DiskRemaining += max(j.Len-j.Offset, 0)
	}
	return p
}

// mine keeps the migration's own block jobs.
func mine(jobs []blockJob) []blockJob {
	var out []blockJob
	for _, j := range jobs {
		if strings.HasPrefix(j.Device, mirrorJobPrefix) {
			out = append(out, j)
		}
	}
	return out
}

// pollInterval is how often a running migration is looked at.
const pollInterval = 200 * time.Millisecond

// LiveMigrate implements virt.LiveMigrator. One QMP session carries the
// copy, and QEMU's MIGRATION events tell its state: query-migrate's
// status is the incoming migration's in a process that came in by one
// (its figures are the outgoing one's). Other QMP calls on the guest
// wait for the session to end.
func (d *Driver) LiveMigrate(ctx context.Context, id, dest string, blockMigration bool, progress func(virt.MigrationProgress)) error {
	if d.opts.Link == nil {
		return fmt.Errorf("this host has no link to other hosts: %w", virt.ErrNotSupported)
	}
	if err := d.guestExists(id); err != nil {
		return err
	}
	if _, ok := d.pid(id); !ok {
		return fmt.Errorf("guest %s is not running", id)
	}
	j := d.job(id)
	defer func() {
		d.mu.Lock()
		delete(d.jobs, id)
		d.mu.Unlock()
	}()
	st, err := d.status(ctx, id)
	if err != nil {
		return err
	}
	if st == "postmigrate" {
		// Resumed after a crash that came after the copy: the guest's
		// state is all on the destination.
		return nil
	}
	// A guest an earlier attempt paused to force its migration ran; one
	// its migration stopped for the switch-over QEMU restarts itself on
	// the cancel.
	mig := &migration{d: d, id: id, dest: dest, job: j, ran: st == "running" || exists(d.forcedFile(id))}
	// What an earlier attempt left goes first: its streams went with the
	// process that relayed them.
	if done, err := mig.cleanup(ctx); done || err != nil {
		return err
	}
	err = mig.run(ctx, progress)
	if err != nil {
		done, cerr := mig.cleanup(ctx)
		if done {
			return nil // it completed after all
		}
		if cerr != nil {
			d.opts.Log.Warn("live migration: clean up", "server", id, "error", cerr)
		}
	}
	return err
}

// migration is one run of LiveMigrate.
type migration struct {
	d    *Driver
	id   string
	dest string
	job  *migrationJob
	ran  bool        // the guest ran when the migration started
	q    *qmpSession // run's
	// conns are the relays' connections, closed when it ends.
	mu    sync.Mutex
	conns []io.Closer
}

func (m *migration) run(ctx context.Context, progress func(virt.MigrationProgress)) error {
	d, id := m.d, m.id
	if _, aborted := m.job.state(); aborted {
		return virt.ErrMigrationAborted
	}
	// The sockets the source's qemu connects to, relayed to dest.
	for _, ch := range []string{channelMemory, channelDisk} {
		stop, err := m.relay(ctx, ch)
		if err != nil {
			return err
		}
		defer stop()
	}
	q, err := qmpOpen(ctx, d.qmpSocket(id))
	if err != nil {
		return err
	}
	defer q.Close()
	m.q = q
	disks, err := writableDisks(q, d.dir(id))
	if err != nil {
		return err
	}
	nbd := d.socket(id, "nbd-out")
	for _, dev := range disks {
		err := q.call("drive-mirror", map[string]any{"job-id": mirrorJobPrefix + dev, "device": dev,
			"target": "nbd:unix:" + nbd + ":exportname=" + dev, "format": "raw", "sync": "top", "mode": "existing"}, nil)
		if err != nil {
			return fmt.Errorf("mirror disk %s to %s: %w", dev, m.dest, err)
		}
	}
	// The disks first: memory moves once the mirrors caught up.
	for {
		jobs, err := m.jobs()
		if err != nil {
			return err
		}
		if _, _, err := m.events(""); err != nil {
			return err
		}
		if len(jobs) < len(disks) {
			return fmt.Errorf("a disk mirror to %s ended", m.dest)
		}
		progress(progressOf(migrateStatus{}, jobs))
		ready := true
		for _, j := range jobs {
			ready = ready && j.Ready
		}
		if ready {
			break
		}
		if err := m.poll(ctx); err != nil {
			return err
		}
	}
	// The return path: the source's migration completes only once the
	// destination loaded all of it, so a failed load leaves the guest
	// running here.
	caps := []map[string]any{}
	for _, c := range []string{"events", "pause-before-switchover", "return-path"} {
		caps = append(caps, map[string]any{"capability": c, "state": true})
	}
	if err := q.call("migrate-set-capabilities", map[string]any{"capabilities": caps}, nil); err != nil {
		return err
	}
	if err := q.call("migrate", map[string]string{"uri": "unix:" + d.socket(id, "migrate-out")}, nil); err != nil {
		return err
	}
	status, continued := "setup", false
	var diskTotal int64 // once the mirrors completed, all of it
	for {
		var s migrateStatus
		if err := q.call("query-migrate", nil, &s); err != nil {
			return err
		}
		jobs, err := m.jobs()
		if err != nil {
			return err
		}
		status, _, err = m.events(status)
		if err != nil {
			return err
		}
		p := progressOf(s, jobs)
		if diskTotal > 0 {
			p.DiskTotal, p.DiskProcessed, p.DiskRemaining = diskTotal, diskTotal, 0
		}
		progress(p)
		switch status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("live migration to %s %s: %s", m.dest, status, s.ErrorDesc)
		case "pre-switchover":
			if continued {
				break
			}
			// The guest is stopped: the disks' last writes go over, then
			// its last state.
			if err := m.completeMirrors(ctx, len(disks)); err != nil {
				return err
			}
			diskTotal = p.DiskTotal
			if err := q.call("migrate-continue", map[string]string{"state": "pre-switchover"}, nil); err != nil {
				return err
			}
			continued = true
		}
		if err := m.poll(ctx); err != nil {
			return err
		}
	}
}

// jobs are the migration's mirrors, on run's session.
func (m *migration) jobs() ([]blockJob, error) {
	var jobs []blockJob
	if err := m.q.call("query-block-jobs", nil, &jobs); err != nil {
		return nil, err
	}
	return mine(jobs), nil
}

// events takes the events run's session received: the migration's last
// status (status when none came), the mirrors that completed, and an
// error for each that failed.
func (m *migration) events(status string) (string, map[string]bool, error) {
	completed := map[string]bool{}
	var failed error
	for _, e := range m.q.events {
		var data struct {
			Status string `json:"status"`
			Device string `json:"device"`
			Error  string `json:"error"`
		}
		if json.Unmarshal(e.Data, &data) != nil {
			continue
		}
		switch e.Name {
		case "MIGRATION":
			status = data.Status
		case "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED":
			if !strings.HasPrefix(data.Device, mirrorJobPrefix) {
				continue
			}
			if e.Name == "BLOCK_JOB_CANCELLED" || data.Error != "" {
				failed = errors.Join(failed, fmt.Errorf("disk mirror %s to %s: %s", data.Device, m.dest, cmp.Or(data.Error, "cancelled")))
				continue
			}
			completed[data.Device] = true
		}
	}
	m.q.events = nil
	return status, completed, failed
}

// poll waits for the next look, pausing the guest once when the
// migration is forced to complete (as Nova's libvirt driver does), and
// stops at an abort.
func (m *migration) poll(ctx context.Context) error {
	force, aborted := m.job.state()
	if aborted {
		return virt.ErrMigrationAborted
	}
	if force {
		m.job.mu.Lock()
		m.job.force = false
		m.job.mu.Unlock()
		if m.ran {
			// Known on disk, so a later attempt after a crash runs it
			// again.
			if err := os.WriteFile(m.d.forcedFile(m.id), nil, 0o600); err != nil {
				return fmt.Errorf("force live migration: %w", err)
			}
		}
		if err := m.q.call("stop", nil, nil); err != nil {
			return err
		}
	}
	return sleep(ctx, pollInterval)
}

// completeMirrors ends the ready mirrors with the guest stopped: each
// target is then a consistent copy (BLOCK_JOB_COMPLETED without error).
func (m *migration) completeMirrors(ctx context.Context, n int) error {
	jobs, err := m.jobs()
	if err != nil {
		return err
	}
	if len(jobs) != n {
		return fmt.Errorf("%d of %d disk mirrors to %s are left", len(jobs), n, m.dest)
	}
	for _, j := range jobs {
		if err := m.q.call("block-job-cancel", map[string]string{"device": j.Device}, nil); err != nil {
			return err
		}
	}
	done := map[string]bool{}
	for deadline := time.Now().Add(10 * time.Minute); len(done) < n; {
		if _, err := m.jobs(); err != nil { // which also brings the events
			return err
		}
		_, completed, err := m.events("")
		if err != nil {
			return err
		}
		for j := range completed {
			done[j] = true
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the disk mirrors to %s do not complete", m.dest)
		}
		if len(done) < n {
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// relay listens on the source's socket of channel and relays each
// connection the guest's qemu makes to it to dest's matching socket;
// stop closes it and every relayed connection.
func (m *migration) relay(ctx context.Context, channel string) (stop func(), err error) {
	name := "migrate-out"
	if channel == channelDisk {
		name = "nbd-out"
	}
	path := m.d.socket(m.id, name)
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("migration socket: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			remote, err := m.d.opts.Link.DialMigration(ctx, m.dest, m.id, channel)
			if err != nil {
				m.d.opts.Log.Warn("live migration stream", "server", m.id, "dest", m.dest, "channel", channel, "error", err)
				c.Close()
				continue
			}
			m.mu.Lock()
			m.conns = append(m.conns, c, remote)
			m.mu.Unlock()
			go virt.Relay(c, remote)
		}
	}()
	return func() {
		cancel()
		ln.Close()
		<-done
		m.mu.Lock()
		for _, c := range m.conns {
			c.Close()
		}
		m.mu.Unlock()
		_ = os.Remove(path)
	}, nil
}

// cleanup leaves the guest as it was before a migration that did not
// complete: the migration cancelled, the mirrors dropped, the guest run
// again when it ran. done: the migration completed after all (the guest
// here is stopped, its state all on the destination).
func (m *migration) cleanup(ctx context.Context) (done bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	q, err := qmpOpen(ctx, m.d.qmpSocket(m.id))
	if err != nil {
		return false, err
	}
	defer q.Close()
	if err := q.call("migrate_cancel", nil, nil); err != nil { // nothing when none runs
		return false, err
	}
	var jobs []blockJob
	if err := q.call("query-block-jobs", nil, &jobs); err != nil {
		return false, err
	}
	for _, j := range mine(jobs) {
		if err := q.call("block-job-cancel", map[string]any{"device": j.Device, "force": true}, nil); err != nil {
			return false, err
		}
	}
	// Until the mirrors are gone (a new one takes their ids) and no
	// outgoing migration is left (query-migrate has figures only for
	// one under way or completed).
	var st struct {
		Status string `json:"status"`
	}
	for {
		var s migrateStatus
		if err := q.call("query-migrate", nil, &s); err != nil {
			return false, err
		}
		if err := q.call("query-block-jobs", nil, &jobs); err != nil {
			return false, err
		}
		if err := q.call("query-status", nil, &st); err != nil {
			return false, err
		}
		if st.Status == "postmigrate" {
			return true, nil
		}
		if s.RAM == nil && len(mine(jobs)) == 0 {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return false, fmt.Errorf("the earlier migration does not end: %w", err)
		}
	}
	if st.Status != "running" && m.ran {
		if err := q.call("cont", nil, nil); err != nil {
			return false, fmt.Errorf("resume the guest: %w", err)
		}
	}
	_ = os.Remove(m.d.forcedFile(m.id))
	return false, nil
}

// forcedFile marks a guest paused to force its live migration.
func (d *Driver) forcedFile(id string) string { return filepath.Join(d.dir(id), "migration-paused") }

// ForceCompleteLiveMigration implements virt.LiveMigrator: the guest is
// paused so that its last copy catches up.
func (d *Driver) ForceCompleteLiveMigration(ctx context.Context, id string) error {
	return d.tellJob(id, func(j *migrationJob) { j.force = true })
}

// AbortLiveMigration implements virt.LiveMigrator: the migration is
// cancelled at its next look; the guest runs on here.
func (d *Driver) AbortLiveMigration(ctx context.Context, id string) error {
	return d.tellJob(id, func(j *migrationJob) { j.aborted = true })
}

// tellJob marks guest id's migration job (the running one, or the one
// about to start), which acts on it at its next look.
func (d *Driver) tellJob(id string, mark func(*migrationJob)) error {
	if err := d.guestExists(id); err != nil {
		return err
	}
	j := d.job(id)
	j.mu.Lock()
	defer j.mu.Unlock()
	mark(j)
	return nil
}

// FinishIncoming implements virt.LiveMigrator: once the guest's state
// is all here, the NBD server stops and the guest runs when asked.
func (d *Driver) FinishIncoming(ctx context.Context, g *virt.Guest, power virt.PowerState) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if _, ok := d.pid(g.ID); !ok {
		return fmt.Errorf("guest %s: its qemu here is gone (did the incoming migration fail?)", g.ID)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, err := d.status(ctx, g.ID)
		if err != nil {
			return err
		}
		if st == "running" {
			return nil // finished by an earlier attempt
		}
		if st != "inmigrate" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("guest %s: its state did not arrive", g.ID)
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return err
		}
	}
	if err := qmpCall(ctx, d.qmpSocket(g.ID), "nbd-server-stop", nil, nil); err != nil && !strings.Contains(err.Error(), "not running") {
		return err
	}
	_ = os.Remove(d.socket(g.ID, "nbd"))
	_ = os.Remove(d.socket(g.ID, "migrate-in"))
	if power == virt.PowerPaused {
		return nil
	}
	return qmpCall(ctx, d.qmpSocket(g.ID), "cont", nil, nil)
}

var (
	_ virt.LiveMigrator      = (*Driver)(nil)
	_ virt.MigrationReceiver = (*Driver)(nil)
)
