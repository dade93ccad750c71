package state

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
)

const uuid = "3b7e4a7c-1f63-4a3e-9d5c-2f0d1b6c9a10"

// expectation restates, per action, what Nova's decorators and controllers
// say, independently of ruleTable: the name in 409s, the vm states allowed
// (nil: any), whether a lock refuses non-admins and how it is worded.
type expectation struct {
	name   string
	vm     []VMState
	lock   bool
	lockAs string // "" for "Instance %s is locked", else generic invalid-state
}

var (
	all4     = []VMState{VMActive, VMStopped, VMPaused, VMSuspended}
	expected = map[Action]expectation{
		ActionCreate:                     {name: "create"},
		ActionDelete:                     {name: "delete", lock: true},
		ActionForceDelete:                {name: "forceDelete", lock: true},
		ActionRestore:                    {name: "restore", vm: []VMState{VMSoftDeleted}, lock: true, lockAs: "generic"},
		ActionRebootSoft:                 {name: "reboot", vm: []VMState{VMActive}, lock: true},
		ActionRebootHard:                 {name: "reboot", vm: []VMState{VMActive, VMStopped, VMPaused, VMSuspended, VMError}, lock: true},
		ActionStart:                      {name: "start", vm: []VMState{VMStopped}, lock: true},
		ActionStop:                       {name: "stop", vm: []VMState{VMActive, VMError}, lock: true},
		ActionPause:                      {name: "pause", vm: []VMState{VMActive}, lock: true},
		ActionUnpause:                    {name: "unpause", vm: []VMState{VMPaused}, lock: true},
		ActionSuspend:                    {name: "suspend", vm: []VMState{VMActive}, lock: true},
		ActionResume:                     {name: "resume", vm: []VMState{VMSuspended}, lock: true},
		ActionLock:                       {name: "lock"},
		ActionUnlock:                     {name: "unlock"},
		ActionRescue:                     {name: "rescue", vm: []VMState{VMActive, VMStopped, VMError}, lock: true},
		ActionUnrescue:                   {name: "unrescue", vm: []VMState{VMRescued}, lock: true},
		ActionShelve:                     {name: "shelve", vm: all4, lock: true},
		ActionShelveOffload:              {name: "shelveOffload", vm: []VMState{VMShelved}, lock: true},
		ActionUnshelve:                   {name: "unshelve", vm: []VMState{VMShelved, VMShelvedOffloaded}, lock: true},
		ActionRebuild:                    {name: "rebuild", vm: []VMState{VMActive, VMStopped, VMError}, lock: true},
		ActionResize:                     {name: "resize", vm: []VMState{VMActive, VMStopped}, lock: true},
		ActionMigrate:                    {name: "migrate", vm: []VMState{VMActive, VMStopped}, lock: true},
		ActionConfirmResize:              {name: "confirmResize", vm: []VMState{VMResized}, lock: true},
		ActionRevertResize:               {name: "revertResize", vm: []VMState{VMResized}, lock: true},
		ActionCreateImage:                {name: "createImage", vm: all4},
		ActionCreateBackup:               {name: "createBackup", vm: all4},
		ActionChangePassword:             {name: "changePassword", vm: []VMState{VMActive}, lock: true, lockAs: "generic"},
		ActionTriggerCrashDump:           {name: "trigger_crash_dump", vm: []VMState{VMActive, VMPaused, VMRescued, VMResized, VMError}, lock: true},
		ActionGetConsoleOutput:           {name: "get_console_output"},
		ActionAddSecurityGroup:           {name: "addSecurityGroup"},
		ActionRemoveSecurityGroup:        {name: "removeSecurityGroup"},
		ActionAddFloatingIP:              {name: "addFloatingIp"},
		ActionRemoveFloatingIP:           {name: "removeFloatingIp"},
		ActionResetState:                 {name: "os-resetState"},
		ActionInjectNetworkInfo:          {name: "injectNetworkInfo", lock: true},
		ActionLiveMigrate:                {name: "os-migrateLive", vm: []VMState{VMActive, VMPaused}, lock: true},
		ActionEvacuate:                   {name: "evacuate", vm: []VMState{VMActive, VMStopped, VMError}},
		ActionAttachInterface:            {name: "attach_interface", vm: []VMState{VMActive, VMPaused, VMStopped}, lock: true},
		ActionDetachInterface:            {name: "detach_interface", vm: []VMState{VMActive, VMPaused, VMStopped}, lock: true},
		ActionAttachVolume:               {name: "attach_volume", vm: []VMState{VMActive, VMPaused, VMStopped, VMResized, VMSoftDeleted, VMShelved, VMShelvedOffloaded}, lock: true},
		ActionDetachVolume:               {name: "detach_volume", vm: []VMState{VMActive, VMPaused, VMStopped, VMResized, VMSoftDeleted, VMShelved, VMShelvedOffloaded}, lock: true},
		ActionExtendVolume:               {name: "extend_volume"},
		ActionSwapVolume:                 {name: "swap_volume", vm: []VMState{VMActive, VMPaused, VMResized}, lock: true},
		ActionUpdateMetadata:             {name: "update metadata", vm: all4, lock: true},
		ActionDeleteMetadata:             {name: "delete metadata", vm: all4, lock: true},
		ActionUpdateTag:                  {name: "update tag", vm: all4},
		ActionUpdateTags:                 {name: "update tags", vm: all4},
		ActionDeleteTag:                  {name: "delete tag", vm: all4},
		ActionDeleteTags:                 {name: "delete tags", vm: all4},
		ActionForceCompleteLiveMigration: {name: "force_complete", vm: []VMState{VMActive}, lock: true},
		ActionAbortLiveMigration:         {name: "abort live migration", lock: true, lockAs: "generic"},
	}
)

// validTask is a task state in which each action may run, for tests that
// are about something else.
func validTask(a Action) TaskState {
	if a == ActionForceCompleteLiveMigration || a == ActionAbortLiveMigration {
		return TaskMigrating
	}
	return TaskNone
}

func TestEveryActionHasAnExpectation(t *testing.T) {
	t.Parallel()
	actions := Actions()
	for _, a := range actions {
		if _, ok := expected[a]; !ok {
			t.Errorf("action %q has a rule but no expectation", a)
		}
	}
	for a := range expected {
		if !slices.Contains(actions, a) {
			t.Errorf("action %q expected but has no rule", a)
		}
	}
}

func TestCheckEveryActionEveryVMState(t *testing.T) {
	t.Parallel()
	for a, want := range expected {
		for _, vm := range VMStates() {
			in := Instance{UUID: uuid, VMState: vm, TaskState: validTask(a), Launched: true, Host: "host1"}
			err := Check(a, in, false)
			if want.vm == nil || slices.Contains(want.vm, vm) {
				if err != nil {
					t.Errorf("Check(%s) in %s: %v, want allowed", a, vm, err)
				}
				continue
			}
			wantMsg := fmt.Sprintf("Cannot '%s' instance %s while it is in vm_state %s", want.name, uuid, vm)
			assertConflict(t, err, wantMsg, ReasonVMState)
		}
	}
}

func TestCheckLock(t *testing.T) {
	t.Parallel()
	for a, want := range expected {
		vm := VMActive
		if want.vm != nil {
			vm = want.vm[0]
		}
		in := Instance{UUID: uuid, VMState: vm, TaskState: validTask(a), Launched: true, Host: "h", Locked: true}
		if err := Check(a, in, true); err != nil {
			t.Errorf("Check(%s) locked, admin: %v", a, err)
		}
		if got, _ := RuleFor(a); got.LockChecked() != want.lock {
			t.Errorf("RuleFor(%s).LockChecked() = %v, want %v", a, got.LockChecked(), want.lock)
		}
		err := Check(a, in, false)
		if !want.lock {
			if err != nil {
				t.Errorf("Check(%s) locked, not lock-checked: %v", a, err)
			}
			continue
		}
		wantMsg := "Instance " + uuid + " is locked"
		if want.lockAs != "" {
			wantMsg = fmt.Sprintf("Instance %s is in an invalid state for '%s'", uuid, want.name)
		}
		assertConflict(t, err, wantMsg, ReasonLocked)
	}
}

func TestCheckDetails(t *testing.T) {
	t.Parallel()
	base := Instance{UUID: uuid, VMState: VMActive, Launched: true, Host: "h"}
	with := func(f func(*Instance)) Instance { in := base; f(&in); return in }
	tests := []struct {
		name    string
		action  Action
		in      Instance
		admin   bool
		wantMsg string // "" means allowed
		reason  Reason
	}{
		{"soft reboot while rebooting", ActionRebootSoft, with(func(i *Instance) { i.TaskState = TaskRebooting }), false,
			"Cannot 'reboot' instance " + uuid + " while it is in task_state rebooting", ReasonTaskState},
		{"hard reboot while soft rebooting", ActionRebootHard, with(func(i *Instance) { i.TaskState = TaskRebootStarted }), false, "", 0},
		{"hard reboot while rebooting_hard", ActionRebootHard, with(func(i *Instance) { i.TaskState = TaskRebootingHard }), false, "", 0},
		{"hard reboot while reboot_started_hard", ActionRebootHard, with(func(i *Instance) { i.TaskState = TaskRebootStartedHard }), false,
			"Cannot 'reboot' instance " + uuid + " while it is in task_state reboot_started_hard", ReasonTaskState},
		{"hard reboot while pausing", ActionRebootHard, with(func(i *Instance) { i.TaskState = TaskPausing }), false, "", 0},
		{"stop while powering-off", ActionStop, with(func(i *Instance) { i.TaskState = TaskPoweringOff }), false,
			"Cannot 'stop' instance " + uuid + " while it is in task_state powering-off", ReasonTaskState},
		{"vm_state is checked before task_state", ActionStart, with(func(i *Instance) { i.TaskState = TaskDeleting }), false,
			"Cannot 'start' instance " + uuid + " while it is in vm_state active", ReasonVMState},
		{"abort with no migration running", ActionAbortLiveMigration, base, false,
			"Cannot 'abort live migration' instance " + uuid + " while it is in task_state None", ReasonTaskState},
		{"never launched", ActionRebuild, with(func(i *Instance) { i.VMState = VMError; i.Launched = false }), false,
			"Cannot 'rebuild' instance " + uuid + " while it is in launched_at None", ReasonNotLaunched},
		{"delete never launched, building, mid-task", ActionDelete, with(func(i *Instance) {
			i.VMState, i.TaskState, i.Launched, i.Host = VMBuilding, TaskSpawning, false, ""
		}), false, "", 0},
		{"force delete while deleting", ActionForceDelete, with(func(i *Instance) { i.TaskState = TaskDeleting }), false, "", 0},
		{"evacuate mid-task", ActionEvacuate, with(func(i *Instance) { i.TaskState = TaskRebuilding }), false, "", 0},
		{"metadata mid-task", ActionUpdateMetadata, with(func(i *Instance) { i.TaskState = TaskImageUploading }), false, "", 0},
		{"metadata never launched", ActionUpdateMetadata, with(func(i *Instance) { i.Launched = false }), false,
			"Cannot 'update metadata' instance " + uuid + " while it is in launched_at None", ReasonNotLaunched},
		{"tags never launched, mid-task", ActionUpdateTag, with(func(i *Instance) { i.Launched = false; i.TaskState = TaskSpawning }), false, "", 0},
		{"snapshot while snapshotting", ActionCreateImage, with(func(i *Instance) { i.TaskState = TaskImageUploading }), false,
			"Cannot 'createImage' instance " + uuid + " while it is in task_state image_uploading", ReasonTaskState},
		{"stop without host: host before state", ActionStop, with(func(i *Instance) { i.VMState = VMBuilding; i.Host = "" }), false,
			"Instance " + uuid + " is not ready", ReasonNotReady},
		{"resize without host: state before host", ActionResize, with(func(i *Instance) { i.VMState = VMBuilding; i.Host = "" }), false,
			"Cannot 'resize' instance " + uuid + " while it is in vm_state building", ReasonVMState},
		{"resize without host", ActionResize, with(func(i *Instance) { i.Host = "" }), false,
			"Instance " + uuid + " is not ready", ReasonNotReady},
		{"console output without host", ActionGetConsoleOutput, with(func(i *Instance) { i.Host = "" }), false,
			"Instance " + uuid + " is not ready", ReasonNotReady},
		{"lock before state", ActionStart, with(func(i *Instance) { i.Locked = true }), false,
			"Instance " + uuid + " is locked", ReasonLocked},
		{"lock before host", ActionStop, with(func(i *Instance) { i.Locked = true; i.Host = "" }), false,
			"Instance " + uuid + " is locked", ReasonLocked},
		{"admin still needs the right state", ActionStart, with(func(i *Instance) { i.Locked = true }), true,
			"Cannot 'start' instance " + uuid + " while it is in vm_state active", ReasonVMState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.action, tt.in, tt.admin)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Check: %v, want allowed", err)
				}
				return
			}
			assertConflict(t, err, tt.wantMsg, tt.reason)
		})
	}
}

func TestCheckUnknownAction(t *testing.T) {
	t.Parallel()
	err := Check("bogus", Instance{UUID: uuid}, true)
	if err == nil || errs.KindOf(err) != errs.KindInternal {
		t.Fatalf("Check(bogus) = %v, want an internal error", err)
	}
}

func TestReboot(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Action{"SOFT": ActionRebootSoft, "soft": ActionRebootSoft,
		"HARD": ActionRebootHard, "hard": ActionRebootHard} {
		if got := Reboot(in); got != want {
			t.Errorf("Reboot(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestUnlockNeedsOverride(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lockedBy string
		owner    bool
		want     bool
	}{
		{"owner", true, false}, {"admin", true, true},
		{"admin", false, false}, {"owner", false, true}, {"", true, false},
	}
	for _, tt := range tests {
		if got := UnlockNeedsOverride(tt.lockedBy, tt.owner); got != tt.want {
			t.Errorf("UnlockNeedsOverride(%q, owner=%v) = %v", tt.lockedBy, tt.owner, got)
		}
	}
}

func assertConflict(t *testing.T, err error, wantMsg string, reason Reason) {
	t.Helper()
	if err == nil {
		t.Errorf("allowed, want 409 %q", wantMsg)
		return
	}
	if !errs.Is(err, errs.KindConflict) {
		t.Errorf("kind %v, want conflict: %v", errs.KindOf(err), err)
	}
	if got := errs.Message(err); got != wantMsg {
		t.Errorf("message %q, want %q", got, wantMsg)
	}
	var r *Refusal
	if !errors.As(err, &r) || r.Reason != reason {
		t.Errorf("refusal %+v, want reason %d", r, reason)
	}
}

func TestCheckUnshelveTarget(t *testing.T) {
	t.Parallel()
	shelved := Instance{UUID: uuid, VMState: VMShelved, Launched: true}
	offloaded := Instance{UUID: uuid, VMState: VMShelvedOffloaded, Launched: true}
	for _, tt := range []struct {
		in          Instance
		az, host    bool
		wantRefused bool
	}{
		{shelved, false, false, false},
		{shelved, true, false, true},
		{shelved, false, true, true},
		{offloaded, true, true, false},
	} {
		err := CheckUnshelveTarget(tt.in, tt.az, tt.host)
		if !tt.wantRefused {
			if err != nil {
				t.Errorf("%s az=%v host=%v: %v", tt.in.VMState, tt.az, tt.host, err)
			}
			continue
		}
		assertConflict(t, err, "Specifying an availability zone or a host when unshelving server \""+uuid+
			"\" with status \"shelved\" is not supported. The server status must be SHELVED_OFFLOADED.", ReasonVMState)
	}
}
