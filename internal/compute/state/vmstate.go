package state

// VMState is Nova's vm_state: the stable state a server is in when no task
// runs (OS-EXT-STS:vm_state).
type VMState string

// Nova's vm states (nova/compute/vm_states.py).
const (
	VMActive           VMState = "active"
	VMBuilding         VMState = "building"
	VMPaused           VMState = "paused"
	VMSuspended        VMState = "suspended"
	VMStopped          VMState = "stopped"
	VMRescued          VMState = "rescued"
	VMResized          VMState = "resized"
	VMSoftDeleted      VMState = "soft-delete"
	VMDeleted          VMState = "deleted"
	VMError            VMState = "error"
	VMShelved          VMState = "shelved"
	VMShelvedOffloaded VMState = "shelved_offloaded"
)

// VMStates lists every vm state in Nova's order (InstanceState.ALL).
func VMStates() []VMState {
	return []VMState{VMActive, VMBuilding, VMPaused, VMSuspended, VMStopped,
		VMRescued, VMResized, VMSoftDeleted, VMDeleted, VMError, VMShelved,
		VMShelvedOffloaded}
}

// Valid reports whether s is one of Nova's vm states.
func (s VMState) Valid() bool {
	for _, v := range VMStates() {
		if v == s {
			return true
		}
	}
	return false
}
