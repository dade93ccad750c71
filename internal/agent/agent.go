// Package agent is the compute agent of one host: it registers the host,
// heartbeats, claims the tasks scheduled to it, drives the virt driver and
// commits each outcome through the compute service. On start it recovers
// work a crash interrupted.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
)

// Options tune the agent.
type Options struct {
	// Workers is how many tasks run at once (default 16).
	Workers int
	// Poll is how often the agent looks for tasks without being woken
	// (default 1s): the fallback for a lost wake-up. The API of its own
	// process wakes it directly (Wake); on PostgreSQL every process's
	// queued task does too (compute.ListenForTasks).
	Poll time.Duration
	// Heartbeat is how often the host reports it is alive (default 10s).
	Heartbeat time.Duration
	// MaxAttempts bounds retries of interrupted tasks (default 3).
	MaxAttempts int
	AZ          string
	// PowerSync is how often guests' power states are synced from the
	// driver (0: never).
	PowerSync time.Duration
	// Lease is the agent's token for its host's lease (default: a random
	// one), Holder how it describes itself to an agent it keeps out, and
	// Predecessor the token of the host's last agent when that one is
	// known to be gone (the last process on the same data dir), so the
	// host is taken over without waiting for its heartbeat to lapse.
	Lease, Holder, Predecessor string
	// Endpoint is the URL of the host endpoint this host serves
	// (hostlink.Handler), registered for other hosts to send moving
	// servers to; "" when it serves none.
	Endpoint string
	// Transfer sends a moving server's files to another host's endpoint
	// (a *hostlink.Client); nil when this host cannot send them.
	Transfer GuestSender
	// Faults, when set, injects driver faults (faults.Service).
	Faults DriverFaults
}

// GuestSender sends the files under dir, guest id's, to the host
// endpoint at endpoint (hostlink.Client).
type GuestSender interface {
	SendGuest(ctx context.Context, endpoint, id, dir string) error
}

// Agent runs one host's tasks.
type Agent struct {
	hosts   *hosts.Directory // the host's registration, lease and heartbeat
	compute *compute.Service
	driver  virt.Driver
	log     *slog.Logger
	opts    Options
	host    string
	wake    chan struct{}
	// tasks runs each task kind; periodics are the host's timed jobs.
	// Both are fixed in New.
	tasks     map[string]taskHandler
	periodics []periodic
}

// taskHandler carries out tasks of one kind: run drives the driver,
// finish commits the outcome (opErr is run's error) through compute.
type taskHandler struct {
	run    func(ctx context.Context, t *compute.Task) error
	finish func(ctx context.Context, t *compute.Task, started time.Time, opErr error) error
}

// periodic is a job the agent runs every interval (Nova's periodic tasks:
// reclaiming soft-deleted servers, confirming resizes, offloading shelved
// servers).
type periodic struct {
	name     string
	interval time.Duration
	run      func(ctx context.Context) error
}

// taskGroup is the task kinds and periodic jobs of one family of actions;
// each family lives in its own file.
type taskGroup struct {
	tasks     map[string]taskHandler
	periodics []periodic
}

// New returns an agent for driver's host, registered in dir.
func New(dir *hosts.Directory, c *compute.Service, d virt.Driver, log *slog.Logger, o Options) *Agent {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Lease == "" {
		o.Lease = uuid.NewString()
	}
	if o.Holder == "" {
		o.Holder = fmt.Sprintf("a kumo agent (pid %d)", os.Getpid())
	}
	a := &Agent{hosts: dir, compute: c, driver: d, log: log, opts: o, wake: make(chan struct{}, 1), tasks: map[string]taskHandler{}}
	for _, g := range []taskGroup{a.lifecycleGroup(), a.powerGroup(), a.rebuildGroup(), a.resizeGroup(),
		a.imageGroup(), a.rescueGroup(), a.deleteGroup(), a.powerSyncGroup(), a.migrateGroup()} {
		for kind, h := range g.tasks {
			a.tasks[kind] = h
		}
		a.periodics = append(a.periodics, g.periodics...)
	}
	return a
}

// lifecycleGroup builds and deletes servers.
func (a *Agent) lifecycleGroup() taskGroup {
	return taskGroup{tasks: map[string]taskHandler{
		compute.TaskBuild: {run: func(ctx context.Context, t *compute.Task) error {
			if err := a.compute.PrepareVolumes(ctx, t); err != nil {
				return err
			}
			g, err := a.Guest(ctx, t)
			if err != nil {
				return err
			}
			return a.driver.Spawn(ctx, g)
		}, finish: a.compute.FinishBuild},
		compute.TaskDelete: {run: func(ctx context.Context, t *compute.Task) error {
			return a.driver.Destroy(ctx, t.InstanceID)
		}, finish: a.compute.FinishDelete},
	}}
}

// powerGroup runs the actions that are one driver call.
func (a *Agent) powerGroup() taskGroup {
	return taskGroup{tasks: map[string]taskHandler{
		compute.TaskAction: {run: a.powerAction, finish: a.compute.FinishAction},
	}}
}

// Host is the host name the agent registered.
func (a *Agent) Host() string { return a.host }

// Lease is the agent's host lease token.
func (a *Agent) Lease() string { return a.opts.Lease }

// Wake tells the agent there is work; it never blocks.
func (a *Agent) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Start registers the host, taking its lease (a *hosts.LeaseHeldError
// while another live agent holds it: two agents would run the same
// tasks), and recovers interrupted work; call it before Run and before
// the API accepts requests, so the scheduler sees the host.
func (a *Agent) Start(ctx context.Context) error {
	info, err := a.driver.Host(ctx)
	if err != nil {
		return fmt.Errorf("read host info: %w", err)
	}
	a.host = info.Hostname
	// The registration recounts the host's usage from compute's servers.
	if _, err := a.hosts.Register(ctx, hosts.Registration{Info: hosts.HostInfo(info), AZ: a.opts.AZ, IP: "127.0.0.1",
		Endpoint: a.opts.Endpoint, Lease: a.opts.Lease, Holder: a.opts.Holder, Predecessor: a.opts.Predecessor}, a.hosts.Now()); err != nil {
		return err
	}
	if err := a.compute.RestoreMoveClaims(ctx, a.host); err != nil { // resizes hold a second flavor
		return err
	}
	if err := a.destroyEvacuated(ctx); err != nil {
		return err
	}
	if err := a.recover(ctx); err != nil {
		return err
	}
	return a.refuseUnknown(ctx)
}

// refuseUnknown marks the host's pending tasks of a kind or version this
// build does not know (queued by a newer API process during a rolling
// upgrade) and reports each once; they stay pending for the upgraded
// agent of the host, which takes the marks back on start.
func (a *Agent) refuseUnknown(ctx context.Context) error {
	refused, err := a.compute.RefuseUnknownTasks(ctx, a.host)
	for _, r := range refused {
		a.log.Error("task refused: this build does not know its kind or version; it stays pending for an upgraded agent",
			"task", r.ID, "kind", r.Kind, "version", r.Version, "server", r.InstanceID, "reason", r.Reason)
	}
	return err
}

// recover requeues tasks a crash interrupted (their driver operations are
// idempotent) up to MaxAttempts, fails the rest, and puts servers left in a
// transitional state with no task into ERROR.
func (a *Agent) recover(ctx context.Context) error {
	tasks, err := a.compute.InterruptedTasks(ctx, a.host)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.Attempts < a.opts.MaxAttempts {
			a.log.Info("requeueing interrupted task", "task", t.ID, "kind", t.Kind, "server", t.InstanceID, "attempts", t.Attempts)
			if err := a.compute.Requeue(ctx, t); err != nil {
				return err
			}
			continue
		}
		a.log.Warn("giving up on interrupted task", "task", t.ID, "kind", t.Kind, "server", t.InstanceID)
		if err := a.finish(ctx, t, time.Now(), fmt.Errorf("task interrupted %d times; giving up", t.Attempts)); err != nil {
			return err
		}
	}
	n, err := a.compute.ErrorStranded(ctx, a.host)
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.Warn("servers left mid-operation set to ERROR", "count", n)
	}
	return nil
}

// Run processes tasks until ctx ends, then gives the host's lease up. If
// another agent takes the host over meanwhile (hosts.ErrLeaseLost), it
// abandons the tasks it runs (their new owner recovers them) and returns
// that error at once.
func (a *Agent) Run(ctx context.Context) error {
	ctx, abandon := context.WithCancel(ctx)
	defer abandon()
	var wg sync.WaitGroup
	lost := a.loop(ctx, &wg)
	if lost != nil {
		abandon()
		wg.Wait()
		a.log.Error("compute host taken over by another agent; this one stops", "host", a.host, "error", lost)
		return lost
	}
	wg.Wait()
	// Shutting down: the next agent may take the host at once.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.hosts.ReleaseLease(rctx, a.host, a.opts.Lease); err != nil {
		a.log.Warn("release host lease", "error", err)
	}
	return nil
}

// loop claims and starts tasks, heartbeats and runs the periodic jobs
// (in wg) until ctx ends (nil) or the host's lease is lost (the error).
func (a *Agent) loop(ctx context.Context, wg *sync.WaitGroup) error {
	sem := make(chan struct{}, a.opts.Workers)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.compute.ListenForTasks(ctx, a.host, a.log, a.Wake)
	}()
	for _, p := range a.periodics {
		wg.Add(1)
		go func(p periodic) {
			defer wg.Done()
			a.every(ctx, p)
		}(p)
	}
	poll := time.NewTicker(a.opts.Poll)
	defer poll.Stop()
	beat := time.NewTicker(a.opts.Heartbeat)
	defer beat.Stop()
	for {
		for {
			free := a.opts.Workers - len(sem)
			if free <= 0 {
				break
			}
			tasks, err := a.compute.ClaimTasks(ctx, a.host, a.opts.Lease, free)
			if errors.Is(err, hosts.ErrLeaseLost) {
				return err
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				a.log.Error("claim tasks", "error", err)
				break
			}
			if len(tasks) == 0 {
				break
			}
			for _, t := range tasks {
				sem <- struct{}{}
				wg.Add(1)
				go func(t *compute.Task) {
					defer func() { <-sem; wg.Done(); a.Wake() }()
					a.run(ctx, t)
				}(t)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-poll.C:
			if err := a.refuseUnknown(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("refuse unknown tasks", "error", err)
			}
		case <-beat.C:
			err := a.hosts.Heartbeat(ctx, a.host, a.opts.Lease, a.hosts.Now())
			if errors.Is(err, hosts.ErrLeaseLost) {
				return err
			}
			if err != nil && ctx.Err() == nil {
				a.log.Error("heartbeat", "error", err)
			}
		}
	}
}

// run executes one task and commits its outcome.
func (a *Agent) run(ctx context.Context, t *compute.Task) {
	started := time.Now()
	opErr := a.execute(ctx, t)
	if ctx.Err() != nil {
		return // shutting down: the task stays claimed and is recovered on start
	}
	if opErr != nil {
		a.log.Warn("task failed", "task", t.ID, "kind", t.Kind, "server", t.InstanceID, "error", opErr)
	}
	if err := a.finish(ctx, t, started, opErr); err != nil && ctx.Err() == nil {
		a.log.Error("commit task outcome", "task", t.ID, "kind", t.Kind, "server", t.InstanceID, "error", err)
	}
}

// execute makes the driver do what the task asks.
func (a *Agent) execute(ctx context.Context, t *compute.Task) error {
	h, ok := a.tasks[t.Kind]
	if !ok {
		return fmt.Errorf("unknown task kind %q", t.Kind)
	}
	if err := a.injectFault(ctx, t); err != nil {
		return err
	}
	return h.run(ctx, t)
}

// every runs p at its interval until ctx ends.
func (a *Agent) every(ctx context.Context, p periodic) {
	clock.Every(ctx, p.interval, p.run, func(err error) { a.log.Error("periodic task", "name", p.name, "error", err) })
}

// powerAction performs a server action that is one driver call.
func (a *Agent) powerAction(ctx context.Context, t *compute.Task) error {
	action := t.Plan().Action
	switch action {
	case state.ActionStop:
		return a.driver.PowerOff(ctx, t.InstanceID)
	case state.ActionPause:
		return a.driver.Pause(ctx, t.InstanceID)
	case state.ActionUnpause:
		return a.driver.Unpause(ctx, t.InstanceID)
	case state.ActionSuspend:
		return a.driver.Suspend(ctx, t.InstanceID)
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	switch action {
	case state.ActionStart:
		return a.driver.PowerOn(ctx, g)
	case state.ActionRebootSoft, state.ActionRebootHard:
		return a.driver.Reboot(ctx, g, action == state.ActionRebootHard)
	case state.ActionResume:
		return a.driver.Resume(ctx, g)
	}
	return fmt.Errorf("unknown server action %q", action)
}

// finish commits the outcome of t.
func (a *Agent) finish(ctx context.Context, t *compute.Task, started time.Time, opErr error) error {
	h, ok := a.tasks[t.Kind]
	if !ok {
		return fmt.Errorf("unknown task kind %q", t.Kind)
	}
	return h.finish(ctx, t, started, opErr)
}
