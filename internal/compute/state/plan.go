package state

import (
	"fmt"
	"slices"
)

// Context is what the special outcomes depend on: the server before the
// action and the deployment settings Nova consults.
type Context struct {
	VMState VMState    // before the action
	Power   PowerState // before the action
	// OldVMState is the vm_state stashed in system_metadata old_vm_state
	// by resize/migrate and suspend; "" means active, as Nova defaults.
	OldVMState VMState
	Launched   bool
	// VolumeBacked: the root disk is a volume.
	VolumeBacked bool
	// SoftDelete: reclaim_instance_interval > 0.
	SoftDelete bool
	// OffloadAtOnce: shelved_offload_time == 0.
	OffloadAtOnce bool
	// Target is the state os-resetState asks for (active or error), or
	// evacuate's target state (stopped from microversion 2.95, else "").
	Target VMState
}

// Plan is the course of one accepted action.
type Plan struct {
	// Task is set by the API when it accepts the action (TaskNone: none).
	Task TaskState
	// Via are the task states the compute side then moves through.
	Via []TaskState
	// VMState and Power are where the action leaves the server, with the
	// task state cleared.
	VMState VMState
	Power   PowerState
}

// PlanFor resolves action a's rule and special outcome for a server in c.
func PlanFor(a Action, c Context) (Plan, error) {
	r, ok := RuleFor(a)
	if !ok {
		return Plan{}, fmt.Errorf("state: no rule for action %q", a)
	}
	o := r.Outcome
	p := Plan{Task: r.Sets, Via: o.Via, VMState: o.VMState, Power: o.Power}
	if p.VMState == "" {
		p.VMState = c.VMState
	}
	if o.KeepPower {
		p.Power = c.Power
	}
	switch o.Special {
	case SpecialDelete:
		if c.SoftDelete && c.Launched {
			p = Plan{Task: TaskSoftDeleting, VMState: VMSoftDeleted, Power: PowerShutdown}
		}
	case SpecialShelve:
		switch {
		case c.VolumeBacked: // straight to shelve_offload_instance, no image
			p.Via = nil
			p.VMState = VMShelvedOffloaded
		case c.OffloadAtOnce:
			p.Via = append(slices.Clone(p.Via), TaskShelvingOffloading)
			p.VMState = VMShelvedOffloaded
		}
	case SpecialSnapshot:
		if c.VolumeBacked { // volume snapshots are taken synchronously
			p.Task, p.Via = TaskNone, nil
		}
	case SpecialResize:
		p.Power = poweredLike(c.VMState)
	case SpecialConfirmResize:
		if c.Power == PowerShutdown {
			p.VMState = VMStopped
		}
	case SpecialOldVMState:
		p.VMState = c.OldVMState
		if p.VMState == "" {
			p.VMState = VMActive
		}
		p.Power = poweredLike(p.VMState)
	case SpecialRebuild:
		before := c.VMState
		if a == ActionEvacuate && c.Target != "" && before != VMError {
			before = c.Target
		}
		if before == VMStopped {
			p.Via = append(slices.Clone(p.Via), TaskPoweringOff)
			p.VMState, p.Power = VMStopped, PowerShutdown
		}
	case SpecialResetState:
		if c.Target != VMActive && c.Target != VMError {
			return Plan{}, fmt.Errorf("state: os-resetState to %q: only active or error", c.Target)
		}
		p.VMState = c.Target
	}
	p.Via = slices.Clone(p.Via)
	return p, nil
}

// poweredLike is the power state a move leaves a server in: shut down if
// it was stopped, running otherwise.
func poweredLike(vm VMState) PowerState {
	if vm == VMStopped {
		return PowerShutdown
	}
	return PowerRunning
}
