package virt

// PowerState is what a driver reports of a guest's power. It is the
// driver's own vocabulary; the agent maps it to Nova's power_state
// (internal/compute/state), which drivers never see.
type PowerState int

// The power states a driver reports. Their numbers never change: the
// fake driver persists them in the data directory.
const (
	PowerNoState   PowerState = 0 // unknown, or being created
	PowerRunning   PowerState = 1 // vCPUs run
	PowerPaused    PowerState = 3 // vCPUs frozen in memory
	PowerShutdown  PowerState = 4 // stopped
	PowerCrashed   PowerState = 6 // the guest crashed
	PowerSuspended PowerState = 7 // state saved, stopped
)

// String names p for logs.
func (p PowerState) String() string {
	switch p {
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
	return "nostate"
}
