package compute_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apicompute "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
)

// stateCase is one way to call a server action in the action × state
// test: the rule it is checked by ("" for an action with no state rule),
// a minimal valid body ("IMAGE" stands for the test image's id), the
// microversion to call it at, and whether only admins may call it.
type stateCase struct {
	action    state.Action
	body      string
	version   string
	adminOnly bool
	// lookupByBody: the action finds its server through the body, so
	// another project's 404 is about what the body names.
	lookupByBody bool
}

// stateCases has an entry for every action POST /servers/{id}/action
// knows: a handler without one fails TestServerActionStates, so no action
// lands unchecked. Entries for actions without a handler yet are unused.
var stateCases = map[string][]stateCase{
	"os-stop":  {{action: state.ActionStop, body: `{"os-stop": null}`}},
	"os-start": {{action: state.ActionStart, body: `{"os-start": null}`}},
	"reboot": {{action: state.ActionRebootSoft, body: `{"reboot": {"type": "SOFT"}}`},
		{action: state.ActionRebootHard, body: `{"reboot": {"type": "HARD"}}`}},
	"pause":               {{action: state.ActionPause, body: `{"pause": null}`}},
	"unpause":             {{action: state.ActionUnpause, body: `{"unpause": null}`}},
	"suspend":             {{action: state.ActionSuspend, body: `{"suspend": null}`}},
	"resume":              {{action: state.ActionResume, body: `{"resume": null}`}},
	"lock":                {{action: state.ActionLock, body: `{"lock": null}`}},
	"unlock":              {{action: state.ActionUnlock, body: `{"unlock": null}`}},
	"restore":             {{action: state.ActionRestore, body: `{"restore": null}`}},
	"forceDelete":         {{action: state.ActionForceDelete, body: `{"forceDelete": null}`}},
	"rescue":              {{action: state.ActionRescue, body: `{"rescue": null}`}},
	"unrescue":            {{action: state.ActionUnrescue, body: `{"unrescue": null}`}},
	"shelve":              {{action: state.ActionShelve, body: `{"shelve": null}`}},
	"shelveOffload":       {{action: state.ActionShelveOffload, body: `{"shelveOffload": null}`, adminOnly: true}},
	"unshelve":            {{action: state.ActionUnshelve, body: `{"unshelve": null}`}},
	"rebuild":             {{action: state.ActionRebuild, body: `{"rebuild": {"imageRef": "IMAGE"}}`}},
	"resize":              {{action: state.ActionResize, body: `{"resize": {"flavorRef": "2"}}`}},
	"migrate":             {{action: state.ActionMigrate, body: `{"migrate": null}`, adminOnly: true}},
	"confirmResize":       {{action: state.ActionConfirmResize, body: `{"confirmResize": null}`}},
	"revertResize":        {{action: state.ActionRevertResize, body: `{"revertResize": null}`}},
	"createImage":         {{action: state.ActionCreateImage, body: `{"createImage": {"name": "snap"}}`}},
	"createBackup":        {{action: state.ActionCreateBackup, body: `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}`}},
	"changePassword":      {{action: state.ActionChangePassword, body: `{"changePassword": {"adminPass": "s3cret"}}`}},
	"trigger_crash_dump":  {{action: state.ActionTriggerCrashDump, body: `{"trigger_crash_dump": null}`}},
	"os-getConsoleOutput": {{action: state.ActionGetConsoleOutput, body: `{"os-getConsoleOutput": {"length": 5}}`}},
	"os-resetState":       {{action: state.ActionResetState, body: `{"os-resetState": {"state": "error"}}`, adminOnly: true}},
	"injectNetworkInfo":   {{action: state.ActionInjectNetworkInfo, body: `{"injectNetworkInfo": null}`, adminOnly: true}},
	"addSecurityGroup":    {{action: state.ActionAddSecurityGroup, body: `{"addSecurityGroup": {"name": "default"}}`}},
	"removeSecurityGroup": {{action: state.ActionRemoveSecurityGroup, body: `{"removeSecurityGroup": {"name": "default"}}`}},
	// Proxy APIs gone from 2.44.
	"addFloatingIp": {{action: state.ActionAddFloatingIP, body: `{"addFloatingIp": {"address": "172.24.4.10"}}`, version: "2.43"}},
	// Nova finds the server through the address, never by the path's id.
	"removeFloatingIp": {{action: state.ActionRemoveFloatingIP, body: `{"removeFloatingIp": {"address": "172.24.4.10"}}`, version: "2.43",
		lookupByBody: true}},
	"addFixedIp":    {{body: `{"addFixedIp": {"networkId": "net"}}`, version: "2.43"}},
	"removeFixedIp": {{body: `{"removeFixedIp": {"address": "10.0.0.9"}}`, version: "2.43"}},
	"os-migrateLive": {{action: state.ActionLiveMigrate, body: `{"os-migrateLive": {"host": null, "block_migration": "auto"}}`,
		adminOnly: true}},
	"evacuate": {{action: state.ActionEvacuate, body: `{"evacuate": {}}`, adminOnly: true}},
	// Removed or without a state rule of their own.
	"resetNetwork":        {{body: `{"resetNetwork": null}`}},
	"os-getVNCConsole":    {{body: `{"os-getVNCConsole": {"type": "novnc"}}`, version: "2.5"}},
	"os-getSPICEConsole":  {{body: `{"os-getSPICEConsole": {"type": "spice-html5"}}`, version: "2.5"}},
	"os-getRDPConsole":    {{body: `{"os-getRDPConsole": {"type": "rdp-html5"}}`, version: "2.5"}},
	"os-getSerialConsole": {{body: `{"os-getSerialConsole": {"type": "serial"}}`, version: "2.5"}},
}

// pendingStateCases are actions other helpers are still adding whose
// entries may lag; the lead empties this list.
var pendingStateCases = []string{}

// statesCloud is the servers cloud, its agent running, with the floating
// IP pool "public" and no instance quota for p1.
type statesCloud struct{ *serversCloud }

func newStatesCloud(t *testing.T, database string) *statesCloud {
	t.Helper()
	sc := newServersCloudWith(t, database, computetest.Options{Configure: func(cfg *app.Config) {
		cfg.FloatingRange, cfg.FloatingPool = "172.24.4.0/24", "public"
	}})
	unlimitedQuota(t, sc.Cloud.Cloud, "p1")
	return &statesCloud{sc}
}

// settle waits until the agent has no task left for the server, so the
// next state written is not overwritten by an action accepted before.
func (sc *statesCloud) settle(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := sc.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM tasks WHERE instance_id = ?
			AND state IN ('pending', 'running')`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s: %d tasks still unfinished", id, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// put writes the server's states directly, as the test's precondition.
func (sc *statesCloud) put(t *testing.T, srv *compute.Server, vm state.VMState, task state.TaskState, locked bool) {
	t.Helper()
	sc.settle(t, srv.ID)
	var ts, lockedBy any
	if task != state.TaskNone {
		ts = string(task)
	}
	if locked {
		lockedBy = "admin"
	}
	if _, err := sc.DB.ExecContext(context.Background(), `UPDATE instances SET vm_state = ?, task_state = ?, power_state = ?,
		locked = ?, locked_by = ?, host = ?, deleted = FALSE WHERE id = ?`,
		string(vm), ts, int(state.PowerRunning), locked, lockedBy, srv.Host, srv.ID); err != nil {
		t.Fatal(err)
	}
}

// isStateRefusal tells a precondition 409 from other conflicts.
func isStateRefusal(msg string) bool {
	return strings.HasPrefix(msg, "Cannot '") || strings.Contains(msg, " is locked") ||
		strings.Contains(msg, "is in an invalid state for") || strings.HasSuffix(msg, " is not ready")
}

// TestServerActionStates calls every server action that has a state rule
// in every vm_state (task_state none) and every task_state (in a vm_state
// the rule allows), and checks the API refuses with Nova's exact 409
// where the rule does and does not refuse where it allows; then the lock
// (an owner is refused, an admin is not, where Nova checks it) and another
// project (404).
func TestServerActionStates(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newStatesCloud(t, database)
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		for _, name := range apicompute.ServerActionNames() {
			cases, ok := stateCases[name]
			if !ok {
				if !contains(pendingStateCases, name) {
					t.Errorf("action %s has no entry in stateCases: add its rule and a minimal body", name)
				}
				continue
			}
			for _, cs := range cases {
				if cs.action == "" {
					continue
				}
				rule, ok := state.RuleFor(cs.action)
				if !ok {
					t.Errorf("%s: no rule for %s", name, cs.action)
					continue
				}
				t.Run(name+"/"+string(cs.action), func(t *testing.T) {
					checkActionStates(t, sc, owner, name, cs, rule)
				})
			}
		}
	})
}

func checkActionStates(t *testing.T, sc *statesCloud, owner *auth.Principal, name string, cs stateCase, rule state.Rule) {
	srv := sc.CreateServer(t, owner, "states-"+name, func(r *compute.CreateRequest) {
		r.MinCount, r.MaxCount, r.Networks = 1, 1, compute.NetworkRequest{Mode: "auto"}
	}).Servers[0]
	srv = sc.WaitFor(t, srv.ID, computetest.Active)
	version := cs.version
	if version == "" {
		version = "latest"
	}
	body := strings.ReplaceAll(cs.body, "IMAGE", sc.ImageID)
	path := "/v2.1/servers/" + srv.ID + "/action"
	caller, callerToken := owner, "u1:p1"
	if cs.adminOnly {
		caller, callerToken = &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}, "admin:admin"
	}
	call := func(token string) *apitest.Response { return sc.api.As(token, version).Do("POST", path, body) }
	check := func(label string, in state.Instance, isAdmin bool, r *apitest.Response) {
		t.Helper()
		want := state.Check(cs.action, in, isAdmin)
		if want != nil {
			if r.Status != 409 || faultMessage(t, r) != errs.Message(want) {
				t.Errorf("%s: %d %s, want 409 %q", label, r.Status, r.Body, errs.Message(want))
			}
			return
		}
		if r.Status == 409 && isStateRefusal(faultMessage(t, r)) {
			t.Errorf("%s: refused %s, but the rule allows it", label, r.Body)
		} else if r.Status >= 500 {
			t.Errorf("%s: %d %s", label, r.Status, r.Body)
		}
	}
	instance := func(vm state.VMState, task state.TaskState, locked bool) state.Instance {
		return state.Instance{UUID: srv.ID, VMState: vm, TaskState: task, Locked: locked, Launched: true, Host: srv.Host}
	}

	// Another project never learns the server exists.
	if !cs.adminOnly {
		if r := sc.api.As("u2:p2", version).Do("POST", path, body); r.Status != 404 ||
			(!cs.lookupByBody && faultMessage(t, r) != "Instance "+srv.ID+" could not be found.") {
			t.Errorf("another project: %d %s, want 404", r.Status, r.Body)
		}
	}

	allowedVM := state.VMActive
	for _, vm := range state.VMStates() {
		if rule.Allows(vm, state.TaskNone) {
			allowedVM = vm
			break
		}
	}
	for _, vm := range state.VMStates() {
		sc.put(t, srv, vm, state.TaskNone, false)
		check("vm_state "+string(vm), instance(vm, state.TaskNone, false), caller.IsAdmin(), call(callerToken))
	}
	for _, task := range state.TaskStates() {
		sc.put(t, srv, allowedVM, task, false)
		check("task_state "+string(task)+" in "+string(allowedVM), instance(allowedVM, task, false), caller.IsAdmin(), call(callerToken))
	}
	// A lock an admin set: the owner is refused where Nova checks it, an
	// admin never is.
	if !cs.adminOnly {
		sc.put(t, srv, allowedVM, state.TaskNone, true)
		check("locked, owner", instance(allowedVM, state.TaskNone, true), false, call("u1:p1"))
	}
	sc.put(t, srv, allowedVM, state.TaskNone, true)
	check("locked, admin", instance(allowedVM, state.TaskNone, true), true, call("admin:admin"))
	// Free the host for the next action's server.
	sc.put(t, srv, state.VMActive, state.TaskNone, false)
	admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
	if err := sc.Compute.ForceDelete(context.Background(), admin, srv.ID, ""); err != nil && !errs.Is(err, errs.KindNotFound) {
		t.Fatal(err)
	}
	sc.settle(t, srv.ID)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
