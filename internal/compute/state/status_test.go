package state

import (
	"slices"
	"testing"
)

// novaDefaults and novaOverrides restate nova/api/openstack/common.py
// _STATE_MAP cell by cell, independently of statusTable.
var novaDefaults = map[VMState]string{
	VMActive: "ACTIVE", VMBuilding: "BUILD", VMStopped: "SHUTOFF",
	VMResized: "VERIFY_RESIZE", VMPaused: "PAUSED", VMSuspended: "SUSPENDED",
	VMRescued: "RESCUE", VMError: "ERROR", VMDeleted: "DELETED",
	VMSoftDeleted: "SOFT_DELETED", VMShelved: "SHELVED",
	VMShelvedOffloaded: "SHELVED_OFFLOADED",
}

var novaOverrides = map[[2]string]string{
	{"active", "rebooting"}:                     "REBOOT",
	{"active", "reboot_pending"}:                "REBOOT",
	{"active", "reboot_started"}:                "REBOOT",
	{"active", "rebooting_hard"}:                "HARD_REBOOT",
	{"active", "reboot_pending_hard"}:           "HARD_REBOOT",
	{"active", "reboot_started_hard"}:           "HARD_REBOOT",
	{"active", "updating_password"}:             "PASSWORD",
	{"active", "rebuilding"}:                    "REBUILD",
	{"active", "rebuild_block_device_mapping"}:  "REBUILD",
	{"active", "rebuild_spawning"}:              "REBUILD",
	{"active", "migrating"}:                     "MIGRATING",
	{"active", "resize_prep"}:                   "RESIZE",
	{"active", "resize_migrating"}:              "RESIZE",
	{"active", "resize_migrated"}:               "RESIZE",
	{"active", "resize_finish"}:                 "RESIZE",
	{"stopped", "resize_prep"}:                  "RESIZE",
	{"stopped", "resize_migrating"}:             "RESIZE",
	{"stopped", "resize_migrated"}:              "RESIZE",
	{"stopped", "resize_finish"}:                "RESIZE",
	{"stopped", "rebuilding"}:                   "REBUILD",
	{"stopped", "rebuild_block_device_mapping"}: "REBUILD",
	{"stopped", "rebuild_spawning"}:             "REBUILD",
	{"resized", "resize_reverting"}:             "REVERT_RESIZE",
	{"paused", "migrating"}:                     "MIGRATING",
	{"error", "rebuilding"}:                     "REBUILD",
	{"error", "rebuild_block_device_mapping"}:   "REBUILD",
	{"error", "rebuild_spawning"}:               "REBUILD",
}

func novaStatus(vm VMState, task TaskState) string {
	if s, ok := novaOverrides[[2]string{string(vm), string(task)}]; ok {
		return s
	}
	if s, ok := novaDefaults[vm]; ok {
		return s
	}
	return "UNKNOWN"
}

func allTasks() []TaskState { return append([]TaskState{TaskNone}, TaskStates()...) }

func TestStatusEveryPair(t *testing.T) {
	t.Parallel()
	if got := len(VMStates()); got != 12 {
		t.Fatalf("VMStates: %d states, Nova has 12", got)
	}
	if got := len(TaskStates()); got != 42 {
		t.Fatalf("TaskStates: %d states, Nova has 42", got)
	}
	used := 0
	for _, vm := range VMStates() {
		for _, task := range allTasks() {
			want := novaStatus(vm, task)
			if got := Status(vm, task); got != want {
				t.Errorf("Status(%q, %q) = %s, want %s", vm, task, got, want)
			}
			if _, ok := novaOverrides[[2]string{string(vm), string(task)}]; ok {
				used++
			}
		}
	}
	if used != len(novaOverrides) {
		t.Errorf("only %d of %d overrides name known states", used, len(novaOverrides))
	}
}

func TestStatusSurprises(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vm   VMState
		task TaskState
		want string
	}{
		{VMActive, TaskDeleting, "ACTIVE"},                 // deleting shows the vm_state
		{VMActive, TaskPoweringOff, "ACTIVE"},              // no STOPPING status
		{VMResized, TaskResizeConfirming, "VERIFY_RESIZE"}, // CONFIRMING_RESIZE commented out
		{VMStopped, TaskMigrating, "SHUTOFF"},              // only active/paused show MIGRATING
		{VMError, TaskResizePrep, "ERROR"},
		{VMRescued, TaskUnrescuing, "RESCUE"},
		{VMBuilding, TaskDeleting, "BUILD"},
		{"", TaskNone, "UNKNOWN"},
		{"bogus", TaskRebooting, "UNKNOWN"},
	}
	for _, tt := range tests {
		if got := Status(tt.vm, tt.task); got != tt.want {
			t.Errorf("Status(%q, %q) = %s, want %s", tt.vm, tt.task, got, tt.want)
		}
	}
}

func TestStatesForStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		statuses []string
		want     Filter
		ok       bool
	}{
		{[]string{"ACTIVE"}, Filter{VMStates: []VMState{VMActive}, AnyTask: true}, true},
		{[]string{"active"}, Filter{VMStates: []VMState{VMActive}, AnyTask: true}, true},
		{[]string{"REBOOT"}, Filter{VMStates: []VMState{VMActive},
			TaskStates: []TaskState{TaskRebootPending, TaskRebootStarted, TaskRebooting}}, true},
		{[]string{"RESIZE"}, Filter{VMStates: []VMState{VMActive, VMStopped},
			TaskStates: []TaskState{TaskResizeFinish, TaskResizeMigrated, TaskResizeMigrating, TaskResizePrep}}, true},
		{[]string{"MIGRATING"}, Filter{VMStates: []VMState{VMActive, VMPaused},
			TaskStates: []TaskState{TaskMigrating}}, true},
		{[]string{"REBUILD"}, Filter{VMStates: []VMState{VMActive, VMError, VMStopped},
			TaskStates: []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning, TaskRebuilding}}, true},
		{[]string{"REVERT_RESIZE"}, Filter{VMStates: []VMState{VMResized},
			TaskStates: []TaskState{TaskResizeReverting}}, true},
		{[]string{"SHUTOFF", "SUSPENDED"}, Filter{VMStates: []VMState{VMStopped, VMSuspended}, AnyTask: true}, true},
		// A default among the statuses drops the task filter for all.
		{[]string{"REBOOT", "PAUSED"}, Filter{VMStates: []VMState{VMActive, VMPaused}, AnyTask: true}, true},
		{[]string{"DELETED"}, Filter{VMStates: []VMState{VMDeleted}, AnyTask: true}, true},
		{[]string{"bogus", "BUILD"}, Filter{VMStates: []VMState{VMBuilding}, AnyTask: true}, true},
		{[]string{"UNKNOWN"}, Filter{}, false},
		{[]string{"bogus"}, Filter{}, false},
		{[]string{""}, Filter{}, false},
		{nil, Filter{}, false},
	}
	for _, tt := range tests {
		got, ok := StatesForStatus(tt.statuses...)
		if ok != tt.ok || !slices.Equal(got.VMStates, tt.want.VMStates) ||
			!slices.Equal(got.TaskStates, tt.want.TaskStates) || got.AnyTask != tt.want.AnyTask {
			t.Errorf("StatesForStatus(%q) = %+v, %v; want %+v, %v", tt.statuses, got, ok, tt.want, tt.ok)
		}
	}
}

// TestStatesForStatusRoundTrip: every server is found by its own status;
// when the filter has a task list, it finds nothing of another status.
func TestStatesForStatusRoundTrip(t *testing.T) {
	t.Parallel()
	for _, vm := range VMStates() {
		for _, task := range allTasks() {
			status := Status(vm, task)
			f, ok := StatesForStatus(status)
			if !ok {
				t.Fatalf("StatesForStatus(%s) not ok", status)
			}
			if !f.Matches(vm, task) {
				t.Errorf("status %s filter %+v misses (%q, %q)", status, f, vm, task)
			}
		}
	}
	for _, status := range []string{"REBOOT", "HARD_REBOOT", "PASSWORD", "REBUILD",
		"MIGRATING", "RESIZE", "REVERT_RESIZE"} {
		f, _ := StatesForStatus(status)
		for _, vm := range VMStates() {
			for _, task := range allTasks() {
				if f.Matches(vm, task) && Status(vm, task) != status {
					t.Errorf("status %s filter matches (%q, %q) of status %s", status, vm, task, Status(vm, task))
				}
			}
		}
	}
}

func TestFilterMatches(t *testing.T) {
	t.Parallel()
	active, _ := StatesForStatus("ACTIVE")
	reboot, _ := StatesForStatus("REBOOT")
	deleted, _ := StatesForStatus("DELETED")
	tests := []struct {
		name string
		f    Filter
		vm   VMState
		task TaskState
		want bool
	}{
		{"ACTIVE lists a rebooting server too", active, VMActive, TaskRebooting, true},
		{"ACTIVE skips stopped", active, VMStopped, TaskNone, false},
		{"REBOOT skips idle active", reboot, VMActive, TaskNone, false},
		{"REBOOT finds reboot_started", reboot, VMActive, TaskRebootStarted, true},
		{"REBOOT skips hard", reboot, VMActive, TaskRebootingHard, false},
	}
	for _, tt := range tests {
		if got := tt.f.Matches(tt.vm, tt.task); got != tt.want {
			t.Errorf("%s: Matches = %v", tt.name, got)
		}
	}
	if !deleted.OnlyDeleted() || active.OnlyDeleted() {
		t.Errorf("OnlyDeleted: deleted %v, active %v", deleted.OnlyDeleted(), active.OnlyDeleted())
	}
}

func TestPowerStates(t *testing.T) {
	t.Parallel()
	want := map[PowerState]string{0: "pending", 1: "running", 3: "paused",
		4: "shutdown", 6: "crashed", 7: "suspended"}
	for _, p := range PowerStates() {
		if p.String() != want[p] || !p.Valid() {
			t.Errorf("PowerState %d: %q valid=%v, want %q", int(p), p.String(), p.Valid(), want[p])
		}
	}
	if len(PowerStates()) != len(want) {
		t.Errorf("PowerStates has %d entries, want %d", len(PowerStates()), len(want))
	}
	for _, p := range []PowerState{2, 5, 8, -1} {
		if p.Valid() {
			t.Errorf("PowerState %d valid", int(p))
		}
	}
}

func TestValidStates(t *testing.T) {
	t.Parallel()
	if !VMSoftDeleted.Valid() || VMState("soft_deleted").Valid() {
		t.Error("VMState.Valid: soft-delete is spelled with a hyphen")
	}
	if !TaskNone.Valid() || !TaskPoweringOff.Valid() || TaskState("powering_off").Valid() {
		t.Error("TaskState.Valid: none is valid, powering-off has a hyphen")
	}
}
