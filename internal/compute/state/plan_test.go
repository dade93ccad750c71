package state

import (
	"slices"
	"testing"
)

func TestPlanFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action Action
		c      Context
		want   Plan
	}{
		{"create", ActionCreate, Context{VMState: VMBuilding},
			Plan{TaskScheduling, []TaskState{TaskNetworking, TaskBlockDeviceMapping, TaskSpawning}, VMActive, PowerRunning}},
		{"delete", ActionDelete, Context{VMState: VMActive, Power: PowerRunning, Launched: true},
			Plan{TaskDeleting, nil, VMDeleted, PowerNoState}},
		{"delete with reclaim", ActionDelete, Context{VMState: VMActive, Launched: true, SoftDelete: true},
			Plan{TaskSoftDeleting, nil, VMSoftDeleted, PowerShutdown}},
		{"delete with reclaim, never launched", ActionDelete, Context{VMState: VMError, SoftDelete: true},
			Plan{TaskDeleting, nil, VMDeleted, PowerNoState}},
		{"force delete", ActionForceDelete, Context{VMState: VMSoftDeleted, Power: PowerShutdown},
			Plan{TaskDeleting, nil, VMDeleted, PowerNoState}},
		{"restore", ActionRestore, Context{VMState: VMSoftDeleted, Power: PowerShutdown},
			Plan{TaskRestoring, nil, VMActive, PowerRunning}},
		{"soft reboot", ActionRebootSoft, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskRebooting, []TaskState{TaskRebootPending, TaskRebootStarted}, VMActive, PowerRunning}},
		{"hard reboot of stopped", ActionRebootHard, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskRebootingHard, []TaskState{TaskRebootPendingHard, TaskRebootStartedHard}, VMActive, PowerRunning}},
		{"stop", ActionStop, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskPoweringOff, nil, VMStopped, PowerShutdown}},
		{"start", ActionStart, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskPoweringOn, nil, VMActive, PowerRunning}},
		{"pause", ActionPause, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskPausing, nil, VMPaused, PowerPaused}},
		{"unpause", ActionUnpause, Context{VMState: VMPaused, Power: PowerPaused},
			Plan{TaskUnpausing, nil, VMActive, PowerRunning}},
		{"suspend", ActionSuspend, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskSuspending, nil, VMSuspended, PowerSuspended}},
		{"resume", ActionResume, Context{VMState: VMSuspended, Power: PowerSuspended, OldVMState: VMActive},
			Plan{TaskResuming, nil, VMActive, PowerRunning}},
		{"rescue", ActionRescue, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskRescuing, nil, VMRescued, PowerRunning}},
		{"unrescue", ActionUnrescue, Context{VMState: VMRescued, Power: PowerRunning},
			Plan{TaskUnrescuing, nil, VMActive, PowerRunning}},
		{"shelve", ActionShelve, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskShelving, []TaskState{TaskShelvingImagePendingUpload, TaskShelvingImageUploading}, VMShelved, PowerShutdown}},
		{"shelve, offload at once", ActionShelve, Context{VMState: VMPaused, Power: PowerPaused, OffloadAtOnce: true},
			Plan{TaskShelving, []TaskState{TaskShelvingImagePendingUpload, TaskShelvingImageUploading, TaskShelvingOffloading},
				VMShelvedOffloaded, PowerShutdown}},
		{"shelve volume-backed", ActionShelve, Context{VMState: VMActive, Power: PowerRunning, VolumeBacked: true},
			Plan{TaskShelving, nil, VMShelvedOffloaded, PowerShutdown}},
		{"shelve offload", ActionShelveOffload, Context{VMState: VMShelved, Power: PowerShutdown},
			Plan{TaskShelvingOffloading, nil, VMShelvedOffloaded, PowerShutdown}},
		{"unshelve", ActionUnshelve, Context{VMState: VMShelvedOffloaded, Power: PowerShutdown},
			Plan{TaskUnshelving, []TaskState{TaskSpawning}, VMActive, PowerRunning}},
		{"rebuild active", ActionRebuild, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskRebuilding, []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning}, VMActive, PowerRunning}},
		{"rebuild stopped stays stopped", ActionRebuild, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskRebuilding, []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning, TaskPoweringOff}, VMStopped, PowerShutdown}},
		{"rebuild error becomes active", ActionRebuild, Context{VMState: VMError, Power: PowerCrashed},
			Plan{TaskRebuilding, []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning}, VMActive, PowerRunning}},
		{"evacuate 2.95 stops", ActionEvacuate, Context{VMState: VMActive, Power: PowerRunning, Target: VMStopped},
			Plan{TaskRebuilding, []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning, TaskPoweringOff}, VMStopped, PowerShutdown}},
		{"evacuate 2.95 of error", ActionEvacuate, Context{VMState: VMError, Target: VMStopped},
			Plan{TaskRebuilding, []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning}, VMActive, PowerRunning}},
		{"resize", ActionResize, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskResizePrep, []TaskState{TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish}, VMResized, PowerRunning}},
		{"migrate stopped", ActionMigrate, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskResizePrep, []TaskState{TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish}, VMResized, PowerShutdown}},
		{"confirm running", ActionConfirmResize, Context{VMState: VMResized, Power: PowerRunning, OldVMState: VMStopped},
			Plan{TaskNone, nil, VMActive, PowerRunning}},
		{"confirm shut down", ActionConfirmResize, Context{VMState: VMResized, Power: PowerShutdown},
			Plan{TaskNone, nil, VMStopped, PowerShutdown}},
		{"revert to active", ActionRevertResize, Context{VMState: VMResized, Power: PowerRunning, OldVMState: VMActive},
			Plan{TaskResizeReverting, nil, VMActive, PowerRunning}},
		{"revert to stopped", ActionRevertResize, Context{VMState: VMResized, Power: PowerShutdown, OldVMState: VMStopped},
			Plan{TaskResizeReverting, nil, VMStopped, PowerShutdown}},
		{"revert without old_vm_state", ActionRevertResize, Context{VMState: VMResized, Power: PowerShutdown},
			Plan{TaskResizeReverting, nil, VMActive, PowerRunning}},
		{"createImage", ActionCreateImage, Context{VMState: VMPaused, Power: PowerPaused},
			Plan{TaskImageSnapshotPending, []TaskState{TaskImageSnapshot, TaskImagePendingUpload, TaskImageUploading}, VMPaused, PowerPaused}},
		{"createImage volume-backed", ActionCreateImage, Context{VMState: VMActive, Power: PowerRunning, VolumeBacked: true},
			Plan{TaskNone, nil, VMActive, PowerRunning}},
		{"createBackup", ActionCreateBackup, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskImageBackup, []TaskState{TaskImagePendingUpload, TaskImageUploading}, VMStopped, PowerShutdown}},
		{"changePassword", ActionChangePassword, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskUpdatingPassword, nil, VMActive, PowerRunning}},
		{"live migrate paused", ActionLiveMigrate, Context{VMState: VMPaused, Power: PowerPaused},
			Plan{TaskMigrating, nil, VMPaused, PowerPaused}},
		{"reset to error", ActionResetState, Context{VMState: VMActive, Power: PowerRunning, Target: VMError},
			Plan{TaskNone, nil, VMError, PowerRunning}},
		{"lock", ActionLock, Context{VMState: VMStopped, Power: PowerShutdown},
			Plan{TaskNone, nil, VMStopped, PowerShutdown}},
		{"crash dump", ActionTriggerCrashDump, Context{VMState: VMActive, Power: PowerRunning},
			Plan{TaskNone, nil, VMActive, PowerRunning}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanFor(tt.action, tt.c)
			if err != nil {
				t.Fatalf("PlanFor: %v", err)
			}
			if got.Task != tt.want.Task || !slices.Equal(got.Via, tt.want.Via) ||
				got.VMState != tt.want.VMState || got.Power != tt.want.Power {
				t.Errorf("PlanFor(%s) = %+v, want %+v", tt.action, got, tt.want)
			}
		})
	}
}

func TestPlanForRejects(t *testing.T) {
	t.Parallel()
	if _, err := PlanFor(ActionResetState, Context{Target: VMStopped}); err == nil {
		t.Error("os-resetState to stopped accepted")
	}
	if _, err := PlanFor("bogus", Context{}); err == nil {
		t.Error("unknown action accepted")
	}
}

// TestPlanStatuses: the task state each action sets shows the status
// clients poll for (e.g. HARD_REBOOT, RESIZE, REVERT_RESIZE).
func TestPlanStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action Action
		vm     VMState
		want   string
	}{
		{ActionRebootSoft, VMActive, StatusReboot},
		{ActionRebootHard, VMStopped, StatusShutoff},
		{ActionRebootHard, VMActive, StatusHardReboot},
		{ActionChangePassword, VMActive, StatusPassword},
		{ActionRebuild, VMError, StatusRebuild},
		{ActionResize, VMStopped, StatusResize},
		{ActionLiveMigrate, VMPaused, StatusMigrating},
		{ActionRevertResize, VMResized, StatusRevertResize},
		{ActionStop, VMActive, StatusActive},
	}
	for _, tt := range tests {
		p, err := PlanFor(tt.action, Context{VMState: tt.vm})
		if err != nil {
			t.Fatalf("PlanFor(%s): %v", tt.action, err)
		}
		if got := Status(tt.vm, p.Task); got != tt.want {
			t.Errorf("%s from %s shows %s, want %s", tt.action, tt.vm, got, tt.want)
		}
	}
}

// TestEveryPlanUsesKnownStates: each plan ends in a known vm/power state,
// and every task state it names is Nova's.
func TestEveryPlanUsesKnownStates(t *testing.T) {
	t.Parallel()
	for _, r := range Rules() {
		vm := VMActive
		if r.VMStates != nil {
			vm = r.VMStates[0]
		}
		c := Context{VMState: vm, Power: PowerRunning, Target: VMActive}
		p, err := PlanFor(r.Action, c)
		if err != nil {
			t.Errorf("PlanFor(%s): %v", r.Action, err)
			continue
		}
		if !p.VMState.Valid() || !p.Power.Valid() || !p.Task.Valid() {
			t.Errorf("PlanFor(%s) = %+v: unknown state", r.Action, p)
		}
		for _, task := range p.Via {
			if task == TaskNone || !task.Valid() {
				t.Errorf("PlanFor(%s) passes through %q", r.Action, task)
			}
		}
		if Status(p.VMState, TaskNone) == StatusUnknown {
			t.Errorf("PlanFor(%s) ends UNKNOWN", r.Action)
		}
	}
}

func TestRulesAreCopies(t *testing.T) {
	t.Parallel()
	r, _ := RuleFor(ActionStop)
	r.VMStates[0] = VMDeleted
	r.Guards[0] = GuardState
	again, _ := RuleFor(ActionStop)
	if again.VMStates[0] != VMActive || again.Guards[0] != GuardLock {
		t.Fatal("RuleFor handed out the shared table")
	}
	for _, r := range Rules() {
		if r.Name == "" {
			t.Errorf("rule %s has no name", r.Action)
		}
		for _, vm := range r.VMStates {
			if !vm.Valid() {
				t.Errorf("rule %s allows unknown vm_state %q", r.Action, vm)
			}
		}
		for _, task := range r.TaskStates {
			if !task.Valid() {
				t.Errorf("rule %s allows unknown task_state %q", r.Action, task)
			}
		}
		if !r.Sets.Valid() {
			t.Errorf("rule %s sets unknown task_state %q", r.Action, r.Sets)
		}
	}
}

func TestRuleAllows(t *testing.T) {
	t.Parallel()
	hard, _ := RuleFor(ActionRebootHard)
	lock, _ := RuleFor(ActionLock)
	abort, _ := RuleFor(ActionAbortLiveMigration)
	tests := []struct {
		name string
		r    Rule
		vm   VMState
		task TaskState
		want bool
	}{
		{"hard reboot suspended", hard, VMSuspended, TaskNone, true},
		{"hard reboot rescued", hard, VMRescued, TaskNone, false},
		{"hard reboot while resuming", hard, VMSuspended, TaskResuming, true},
		{"hard reboot while powering-on", hard, VMStopped, TaskPoweringOn, false},
		{"lock has no state guard", lock, VMDeleted, TaskDeleting, true},
		{"abort any vm_state while migrating", abort, VMPaused, TaskMigrating, true},
		{"abort idle", abort, VMActive, TaskNone, false},
	}
	for _, tt := range tests {
		if got := tt.r.Allows(tt.vm, tt.task); got != tt.want {
			t.Errorf("%s: Allows = %v", tt.name, got)
		}
	}
}
