package state

import "slices"

// Guard is one precondition Nova checks before an action, in the order of
// the decorators on the nova/compute/api.py method.
type Guard int

// Guards.
const (
	// GuardLock refuses a locked server to non-admins (check_instance_lock).
	GuardLock Guard = iota + 1
	// GuardHost refuses a server not yet on a host (check_instance_host):
	// 409 "Instance <uuid> is not ready".
	GuardHost
	// GuardState checks VMStates, then TaskStates, then MustHaveLaunched
	// (check_instance_state).
	GuardState
)

// LockWording is how the API words a refusal by GuardLock.
type LockWording int

// Lock wordings.
const (
	// LockedPlain is "Instance <uuid> is locked": the controller catches
	// InstanceIsLocked.
	LockedPlain LockWording = iota
	// LockedAsInvalidState is "Instance <uuid> is in an invalid state for
	// '<name>'": the controller catches only InstanceInvalidState, of which
	// InstanceIsLocked is a subclass without attr/state.
	LockedAsInvalidState
)

// Rule is what Nova checks and does for one action.
type Rule struct {
	Action Action
	// Name is the action name in Nova's 409 texts ("start" for os-start).
	Name string
	// Guards in the order Nova applies them; empty means none.
	Guards []Guard
	// VMStates allowed by GuardState; nil means any.
	VMStates []VMState
	// TaskStates allowed by GuardState; nil means any, []TaskState{TaskNone}
	// means the server must be idle (Nova's default).
	TaskStates []TaskState
	// MustHaveLaunched refuses a server never launched (launched_at unset).
	MustHaveLaunched bool
	// LockWording picks the text of a lock refusal.
	LockWording LockWording
	// Sets is the task state the API sets when it accepts the action;
	// TaskNone when it sets none (see Plan for the cases that vary).
	Sets TaskState
	// Outcome is where the action leaves the server when it succeeds.
	Outcome Outcome
}

// LockChecked reports whether a lock refuses the action to non-admins.
func (r Rule) LockChecked() bool { return slices.Contains(r.Guards, GuardLock) }

// Allows reports whether GuardState lets the action run in vm and task
// (ignoring lock, host and launched_at); true when the action has no state
// guard.
func (r Rule) Allows(vm VMState, task TaskState) bool {
	if !slices.Contains(r.Guards, GuardState) {
		return true
	}
	return (r.VMStates == nil || slices.Contains(r.VMStates, vm)) &&
		(r.TaskStates == nil || slices.Contains(r.TaskStates, task))
}

func (r Rule) clone() Rule {
	r.Guards = slices.Clone(r.Guards)
	r.VMStates = slices.Clone(r.VMStates)
	r.TaskStates = slices.Clone(r.TaskStates)
	r.Outcome.Via = slices.Clone(r.Outcome.Via)
	return r
}

// Outcome is where a successful action leaves a server.
type Outcome struct {
	// Via lists the task states the compute side moves through after Sets,
	// in order, before clearing the task state.
	Via []TaskState
	// VMState is the final vm_state; "" keeps the current one.
	VMState VMState
	// Power is the final power state unless KeepPower.
	Power     PowerState
	KeepPower bool
	// Special names a case the fixed values cannot express; Plan applies it.
	Special Special
}

// Special is an outcome that depends on the server's history or on
// configuration.
type Special int

// Special outcomes.
const (
	SpecialNone Special = iota
	// SpecialDelete: with reclaim_instance_interval > 0 a launched server is
	// soft-deleted (soft-deleting -> soft-delete, shutdown) instead.
	SpecialDelete
	// SpecialShelve: shelved_offload_time == 0 or a volume-backed server
	// goes on to shelved_offloaded.
	SpecialShelve
	// SpecialSnapshot: a volume-backed createImage sets no task state.
	SpecialSnapshot
	// SpecialResize: the server ends resized, powered as before (a stopped
	// server stays shut down).
	SpecialResize
	// SpecialConfirmResize: stopped when the power state is shutdown, else
	// active; power unchanged.
	SpecialConfirmResize
	// SpecialOldVMState: back to the vm_state stashed before the operation
	// (system_metadata old_vm_state, default active): revertResize, resume.
	SpecialOldVMState
	// SpecialRebuild: active, or stopped again (via powering-off) when the
	// server was stopped; evacuate may ask for stopped (2.95+).
	SpecialRebuild
	// SpecialResetState: the requested vm_state, task cleared, at once.
	SpecialResetState
)

// RuleFor returns the rule of action a; ok is false for an unknown action.
func RuleFor(a Action) (r Rule, ok bool) {
	for _, r := range ruleTable {
		if r.Action == a {
			return r.clone(), true
		}
	}
	return Rule{}, false
}

// Rules returns every rule, in table order.
func Rules() []Rule {
	out := make([]Rule, 0, len(ruleTable))
	for _, r := range ruleTable {
		out = append(out, r.clone())
	}
	return out
}

// Actions returns every action that has a rule, in table order.
func Actions() []Action {
	out := make([]Action, 0, len(ruleTable))
	for _, r := range ruleTable {
		out = append(out, r.Action)
	}
	return out
}
