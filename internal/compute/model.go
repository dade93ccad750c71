package compute

import (
	"time"

	"github.com/kumocloud/kumo/internal/compute/state"
)

// Server is one instance as stored, with its metadata and tags.
type Server struct {
	ID            string
	Number        int64 // for Nova's instance_name ("instance-%08x")
	ProjectID     string
	UserID        string
	Name          string
	Hostname      string
	Description   *string
	ReservationID string
	LaunchIndex   int
	ImageRef      string // "" when booted from a volume
	Flavor        FlavorSnapshot
	VMState       state.VMState
	TaskState     state.TaskState
	PowerState    state.PowerState
	Host          string
	Node          string
	AZ            string
	KeyName       string
	KeyData       string
	UserData      string // base64, as given
	ConfigDrive   string // "" or "True"
	AccessIPv4    string
	AccessIPv6    string
	DiskConfig    string // "MANUAL" or "AUTO"
	Locked        bool
	LockedBy      string // "owner" or "admin"
	LockedReason  *string
	Progress      int
	Fault         *Fault
	// SystemMetadata holds what Nova keeps in system_metadata: the
	// image's properties at boot (image_*), old_vm_state, ...
	SystemMetadata map[string]string
	SchedulerHints map[string]any
	Metadata       map[string]string
	Tags           []string
	LaunchedAt     *time.Time
	TerminatedAt   *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
	Deleted        bool
	// hostStatus is the host's status read with the server, when
	// hostStatusRead (a single server's load joins its host's row).
	hostStatus     string
	hostStatusRead bool
}

// Status is the API status derived from the server's states.
func (s *Server) Status() string { return state.Status(s.VMState, s.TaskState) }

// FlavorSnapshot is the flavor as it was when the server got it; later
// changes to the flavor do not change the server (Nova embeds it too).
type FlavorSnapshot struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	VCPUs      int               `json:"vcpus"`
	RAM        int               `json:"ram"`
	Disk       int               `json:"disk"`
	Ephemeral  int               `json:"ephemeral"`
	Swap       int               `json:"swap"`
	ExtraSpecs map[string]string `json:"extra_specs"`
}

// Fault is why a server went to ERROR.
type Fault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details,omitempty"`
	Created time.Time `json:"created"`
}
