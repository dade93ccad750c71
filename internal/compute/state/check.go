package state

import (
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
)

// Instance is the part of a server Check looks at.
type Instance struct {
	UUID      string
	VMState   VMState
	TaskState TaskState
	Locked    bool
	// Launched is true once launched_at is set (the server has been
	// active at least once).
	Launched bool
	// Host is the compute host the server is on; "" until scheduled.
	Host string
}

// Reason says which precondition refused an action.
type Reason int

// Reasons.
const (
	ReasonLocked      Reason = iota + 1 // locked, caller not admin
	ReasonNotReady                      // no host yet
	ReasonVMState                       // vm_state not allowed
	ReasonTaskState                     // task_state not allowed
	ReasonNotLaunched                   // launched_at unset
)

// Refusal is the typed cause inside the conflict error Check returns.
type Refusal struct {
	Action Action
	Reason Reason
	// State is the offending value as Nova prints it ("None" for none).
	State string
}

func (r *Refusal) Error() string {
	switch r.Reason {
	case ReasonLocked:
		return fmt.Sprintf("%s refused: server locked", r.Action)
	case ReasonNotReady:
		return fmt.Sprintf("%s refused: server has no host", r.Action)
	}
	return fmt.Sprintf("%s refused in %s %s", r.Action, r.Reason.attr(), r.State)
}

// attr is the instance attribute Nova names in its message.
func (r Reason) attr() string {
	switch r {
	case ReasonVMState:
		return "vm_state"
	case ReasonTaskState:
		return "task_state"
	case ReasonNotLaunched:
		return "launched_at"
	}
	return ""
}

// Check applies Nova's preconditions for action a to in, in Nova's order,
// and returns nil when the action may proceed. A refusal is an
// errs.Conflict (409) whose message is Nova's exact text, with a *Refusal
// as its cause. An action without a rule is a programming error.
func Check(a Action, in Instance, isAdmin bool) error {
	r, ok := RuleFor(a)
	if !ok {
		return fmt.Errorf("state: no rule for action %q", a)
	}
	for _, g := range r.Guards {
		var err error
		switch g {
		case GuardLock:
			err = checkLock(r, in, isAdmin)
		case GuardHost:
			err = checkHost(r, in)
		case GuardState:
			err = checkState(r, in)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkLock(r Rule, in Instance, isAdmin bool) error {
	if !in.Locked || isAdmin {
		return nil
	}
	msg := fmt.Sprintf("Instance %s is locked", in.UUID)
	if r.LockWording == LockedAsInvalidState {
		msg = fmt.Sprintf("Instance %s is in an invalid state for '%s'", in.UUID, r.Name)
	}
	return refuse(msg, &Refusal{Action: r.Action, Reason: ReasonLocked})
}

func checkHost(r Rule, in Instance) error {
	if in.Host != "" {
		return nil
	}
	return refuse(fmt.Sprintf("Instance %s is not ready", in.UUID),
		&Refusal{Action: r.Action, Reason: ReasonNotReady})
}

func checkState(r Rule, in Instance) error {
	switch {
	case r.VMStates != nil && !slices.Contains(r.VMStates, in.VMState):
		return invalidState(r, in.UUID, ReasonVMState, string(in.VMState))
	case r.TaskStates != nil && !slices.Contains(r.TaskStates, in.TaskState):
		return invalidState(r, in.UUID, ReasonTaskState, in.TaskState.pyString())
	case r.MustHaveLaunched && !in.Launched:
		return invalidState(r, in.UUID, ReasonNotLaunched, "None")
	}
	return nil
}

// invalidState words an InstanceInvalidState as
// raise_http_conflict_for_instance_invalid_state does.
func invalidState(r Rule, uuid string, why Reason, state string) error {
	msg := fmt.Sprintf("Cannot '%s' instance %s while it is in %s %s", r.Name, uuid, why.attr(), state)
	return refuse(msg, &Refusal{Action: r.Action, Reason: why, State: state})
}

func refuse(msg string, cause *Refusal) error {
	return &errs.Error{Kind: errs.KindConflict, Message: msg, Err: cause}
}

// UnlockNeedsOverride reports whether unlocking needs the
// os_compute_api:os-lock-server:unlock:unlock_override policy (admin by
// default): the lock was set by the other party (an admin's lock seen by
// the owner, or the owner's seen by an admin of another project).
// lockedBy is "owner", "admin" or "" as Nova stores it.
func UnlockNeedsOverride(lockedBy string, callerIsOwner bool) bool {
	expected := "admin"
	if callerIsOwner {
		expected = "owner"
	}
	return lockedBy != "" && lockedBy != expected
}

// CheckUnshelveTarget is unshelve's extra check, made after Check: naming
// an availability zone (2.77+, even null) or a host (2.91+) needs a
// shelved_offloaded server, as only those go through the scheduler.
func CheckUnshelveTarget(in Instance, azGiven, hostGiven bool) error {
	if (!azGiven && !hostGiven) || in.VMState == VMShelvedOffloaded {
		return nil
	}
	msg := fmt.Sprintf("Specifying an availability zone or a host when unshelving "+
		"server \"%s\" with status \"%s\" is not supported. The server status must be "+
		"SHELVED_OFFLOADED.", in.UUID, in.VMState)
	return refuse(msg, &Refusal{Action: ActionUnshelve, Reason: ReasonVMState, State: string(in.VMState)})
}
