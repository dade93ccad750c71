package state

import "strconv"

// PowerState is Nova's power_state: what the hypervisor last reported, as
// the integer Nova stores and shows in OS-EXT-STS:power_state.
type PowerState int

// Nova's power states (nova/compute/power_state.py). 2 and 5 are unused.
const (
	PowerNoState   PowerState = 0
	PowerRunning   PowerState = 1
	PowerPaused    PowerState = 3
	PowerShutdown  PowerState = 4
	PowerCrashed   PowerState = 6
	PowerSuspended PowerState = 7
)

// PowerStates lists every power state in numeric order.
func PowerStates() []PowerState {
	return []PowerState{PowerNoState, PowerRunning, PowerPaused, PowerShutdown,
		PowerCrashed, PowerSuspended}
}

// String is Nova's name for p (fields.InstancePowerState, used e.g. by
// server diagnostics' "state"): NOSTATE is "pending".
func (p PowerState) String() string {
	switch p {
	case PowerNoState:
		return "pending"
	case PowerRunning:
		return "running"
	case PowerPaused:
		return "paused"
	case PowerShutdown:
		return "shutdown"
	case PowerCrashed:
		return "crashed"
	case PowerSuspended:
		return "suspended"
	}
	return "PowerState(" + strconv.Itoa(int(p)) + ")"
}

// Valid reports whether p is one of Nova's power states.
func (p PowerState) Valid() bool {
	for _, v := range PowerStates() {
		if v == p {
			return true
		}
	}
	return false
}
