package state

import (
	"slices"
	"strings"
)

// API server statuses (the "status" field of a server).
const (
	StatusActive           = "ACTIVE"
	StatusBuild            = "BUILD"
	StatusDeleted          = "DELETED"
	StatusError            = "ERROR"
	StatusHardReboot       = "HARD_REBOOT"
	StatusMigrating        = "MIGRATING"
	StatusPassword         = "PASSWORD"
	StatusPaused           = "PAUSED"
	StatusReboot           = "REBOOT"
	StatusRebuild          = "REBUILD"
	StatusRescue           = "RESCUE"
	StatusResize           = "RESIZE"
	StatusRevertResize     = "REVERT_RESIZE"
	StatusShelved          = "SHELVED"
	StatusShelvedOffloaded = "SHELVED_OFFLOADED"
	StatusShutoff          = "SHUTOFF"
	StatusSoftDeleted      = "SOFT_DELETED"
	StatusSuspended        = "SUSPENDED"
	StatusUnknown          = "UNKNOWN"
	StatusVerifyResize     = "VERIFY_RESIZE"
)

// statusRow is one vm_state's entry of Nova's _STATE_MAP: the status for
// any task state not listed, and the task states that override it.
type statusRow struct {
	def    string
	byTask map[TaskState]string
}

// statusTable is nova/api/openstack/common.py _STATE_MAP. Read-only.
var statusTable = map[VMState]statusRow{
	VMActive: {def: StatusActive, byTask: map[TaskState]string{
		TaskRebooting:                 StatusReboot,
		TaskRebootPending:             StatusReboot,
		TaskRebootStarted:             StatusReboot,
		TaskRebootingHard:             StatusHardReboot,
		TaskRebootPendingHard:         StatusHardReboot,
		TaskRebootStartedHard:         StatusHardReboot,
		TaskUpdatingPassword:          StatusPassword,
		TaskRebuilding:                StatusRebuild,
		TaskRebuildBlockDeviceMapping: StatusRebuild,
		TaskRebuildSpawning:           StatusRebuild,
		TaskMigrating:                 StatusMigrating,
		TaskResizePrep:                StatusResize,
		TaskResizeMigrating:           StatusResize,
		TaskResizeMigrated:            StatusResize,
		TaskResizeFinish:              StatusResize,
	}},
	VMBuilding: {def: StatusBuild},
	VMStopped: {def: StatusShutoff, byTask: map[TaskState]string{
		TaskResizePrep:                StatusResize,
		TaskResizeMigrating:           StatusResize,
		TaskResizeMigrated:            StatusResize,
		TaskResizeFinish:              StatusResize,
		TaskRebuilding:                StatusRebuild,
		TaskRebuildBlockDeviceMapping: StatusRebuild,
		TaskRebuildSpawning:           StatusRebuild,
	}},
	// Nova deliberately has no CONFIRMING_RESIZE: resize_confirming shows
	// VERIFY_RESIZE.
	VMResized: {def: StatusVerifyResize, byTask: map[TaskState]string{
		TaskResizeReverting: StatusRevertResize,
	}},
	VMPaused: {def: StatusPaused, byTask: map[TaskState]string{
		TaskMigrating: StatusMigrating,
	}},
	VMSuspended: {def: StatusSuspended},
	VMRescued:   {def: StatusRescue},
	VMError: {def: StatusError, byTask: map[TaskState]string{
		TaskRebuilding:                StatusRebuild,
		TaskRebuildBlockDeviceMapping: StatusRebuild,
		TaskRebuildSpawning:           StatusRebuild,
	}},
	VMDeleted:          {def: StatusDeleted},
	VMSoftDeleted:      {def: StatusSoftDeleted},
	VMShelved:          {def: StatusShelved},
	VMShelvedOffloaded: {def: StatusShelvedOffloaded},
}

// Status is the API status of a server in vm and task, computed as Nova's
// status_from_state: the task's entry for the vm_state, else the vm_state's
// default, UNKNOWN for a vm_state Nova does not know.
func Status(vm VMState, task TaskState) string {
	row, ok := statusTable[vm]
	if !ok {
		return StatusUnknown
	}
	if s, ok := row.byTask[task]; ok {
		return s
	}
	return row.def
}

// Filter is the database filter Nova derives from the servers list
// "status" query parameter.
type Filter struct {
	// VMStates the server's vm_state must be one of (sorted).
	VMStates []VMState
	// TaskStates the server's task_state must be one of (sorted), unless
	// AnyTask. A NULL task_state never matches.
	TaskStates []TaskState
	// AnyTask is set when a requested status is some vm_state's default:
	// Nova then drops the task_state filter altogether, so status=ACTIVE
	// also lists active servers that are rebooting or resizing.
	AnyTask bool
}

// StatesForStatus maps one or more API statuses (case-insensitive, as
// repeated ?status= parameters) to the filter Nova's
// task_and_vm_state_from_status builds. ok is false when no status is
// known (UNKNOWN included): from microversion 2.38 Nova answers 400
// "Invalid status value", before it an empty list.
func StatesForStatus(statuses ...string) (f Filter, ok bool) {
	wanted := make(map[string]bool, len(statuses))
	for _, s := range statuses {
		wanted[strings.ToLower(s)] = true
	}
	vms := map[VMState]bool{}
	tasks := map[TaskState]bool{}
	for vm, row := range statusTable {
		if wanted[strings.ToLower(row.def)] {
			vms[vm] = true
			f.AnyTask = true
		}
		for task, s := range row.byTask {
			if wanted[strings.ToLower(s)] {
				vms[vm] = true
				tasks[task] = true
			}
		}
	}
	if len(vms) == 0 {
		return Filter{}, false
	}
	for vm := range vms {
		f.VMStates = append(f.VMStates, vm)
	}
	slices.Sort(f.VMStates)
	if !f.AnyTask {
		for task := range tasks {
			f.TaskStates = append(f.TaskStates, task)
		}
		slices.Sort(f.TaskStates)
	}
	return f, true
}

// Matches reports whether a server in vm and task passes the filter.
func (f Filter) Matches(vm VMState, task TaskState) bool {
	if !slices.Contains(f.VMStates, vm) {
		return false
	}
	return f.AnyTask || (task != TaskNone && slices.Contains(f.TaskStates, task))
}

// OnlyDeleted reports whether the filter asks for deleted servers only,
// which Nova allows administrators alone ("Only administrators may list
// deleted instances", 403) and which turns on the deleted=True search.
func (f Filter) OnlyDeleted() bool {
	return len(f.VMStates) == 1 && f.VMStates[0] == VMDeleted
}
