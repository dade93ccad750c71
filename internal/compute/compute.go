// Package compute is the server domain: the lifecycle state machine,
// creates, reads, updates, deletes and (later) actions. Every change
// checks its preconditions, writes the new task_state, the task for the
// compute agent and the instance action in ONE transaction, then wakes
// the agent; the agent calls the virt driver and commits the outcome.
package compute

import (
	"context"
	"math/big"
	"time"

	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/store"
)

// Quotas is what the service needs from the quota engine; every call runs
// inside the caller's transaction so checks and inserts are atomic.
type Quotas interface {
	// CheckInstanceCount returns how many servers of the given size to
	// create (maxCount if they fit, else the most that fit if at least
	// minCount) or Nova's over-quota error.
	CheckInstanceCount(ctx context.Context, tx *store.Tx, projectID, userID string, minCount, maxCount, cores, ramMB int) (int, error)
	// CheckInstanceRange is CheckInstanceCount for counts of any size.
	CheckInstanceRange(ctx context.Context, tx *store.Tx, projectID, userID string, minCount, maxCount *big.Int, cores, ramMB int) (int, error)
	// CheckGroupMembers checks that n more servers of the user fit in a
	// server group (server_group_members), or is Nova's 403.
	CheckGroupMembers(ctx context.Context, tx *store.Tx, projectID, userID, groupID string, n int) error
}

// Addresses is the address manager servers get their IPs from.
type Addresses interface {
	Allocate(ctx context.Context, tx *store.Tx, projectID, instanceID string, req NetworkRequest) error
	Release(ctx context.Context, tx *store.Tx, instanceID string) error
	// NICs are the instance's ports as its driver plugs them: MAC, fixed
	// addresses and subnet, in port order.
	NICs(ctx context.Context, q store.Querier, projectID, instanceID string) ([]NIC, error)
	// AttachInterface gives the instance one more port (the given one,
	// or a new one on req's network) owned by "compute:<zone>", and
	// returns its id; DetachInterface takes it off again (deleting the
	// ports it made, unbinding given ones).
	AttachInterface(ctx context.Context, tx *store.Tx, projectID, instanceID, zone string, req RequestedNetwork) (string, error)
	DetachInterface(ctx context.Context, tx *store.Tx, instanceID, portID string) error
	// PortQuota is the project's port limit (negative: none) and how many
	// ports it has, which Nova reads from Neutron before a create.
	PortQuota(ctx context.Context, tx *store.Tx, projectID string) (limit, used int, err error)
}

// NIC is one port of a server as its guest plugs it.
type NIC struct {
	Port    string
	Network string // the network's label (name)
	// NetworkID is the network's id: bridge networking joins the NICs
	// of one network.
	NetworkID string
	MAC       string
	IPv4      string
	IPv6      string
	// CIDR is the IPv4 subnet IPv4 belongs to (10.0.0.0/24), whose first
	// address is the gateway.
	CIDR string
}

// KeyPairs looks up a user's key pair (a NotFound error when absent).
type KeyPairs interface {
	Get(ctx context.Context, userID, name string) (*keypair.KeyPair, error)
}

// Deps are the services compute calls.
type Deps struct {
	DB        *store.DB
	Flavors   *flavor.Service
	Images    *image.Service
	Quotas    Quotas
	Addresses Addresses
	KeyPairs  KeyPairs
	// Volumes is the block storage service (Nova's Cinder).
	Volumes Volumes
	// Secrets seals admin passwords on their way to the agent.
	Secrets *secret.Box
	// Wake tells this process's agent that host has work; agents of
	// other processes learn of it from the database (poll, notification).
	Wake func(host string)
	// Settings are the deployment's lifecycle choices.
	Settings Settings
	// Scheduler is the deployment's scheduler configuration
	// (service_down_time, weight multipliers); the zero value is Nova's
	// defaults.
	Scheduler scheduler.Config
	// Now is the service's clock (nil: time.Now); tests advance a fake
	// one (package clock) past reclaim, offload and confirm deadlines.
	Now func() time.Time
	// ServiceHost is the host name of this process, which does the
	// conductor's part of Nova's work: the events the conductor records
	// carry its host (Nova's CONF.host), and so kumo's.
	ServiceHost string
}

// Settings are the lifecycle choices Nova reads from nova.conf.
type Settings struct {
	// ReclaimInterval > 0 makes DELETE a soft delete: the server is
	// really deleted that long after unless restored first
	// (reclaim_instance_interval).
	ReclaimInterval time.Duration
	// ShelvedOffloadTime is how long a shelved server keeps its host
	// before it is offloaded: 0 offloads at once, negative never
	// (shelved_offload_time).
	ShelvedOffloadTime time.Duration
	// ResizeConfirmWindow > 0 confirms resizes left unconfirmed that
	// long (resize_confirm_window).
	ResizeConfirmWindow time.Duration
	// NoResizeToSameHost is Nova's allow_resize_to_same_host = False: a
	// resize always moves to another host. By default (True, as
	// DevStack sets it, and what one host needs) a resize stays on its
	// host when it fits there.
	NoResizeToSameHost bool
	// MaxCreateCount is the most servers one create makes (0:
	// DefaultMaxCreateCount): a larger max_count is lowered to it, a
	// larger min_count refused. Quotas bound creates too, but they may
	// be unlimited; this keeps every request's work bounded.
	MaxCreateCount int
}

// Service is the compute domain service.
type Service struct {
	Deps
	now    func() time.Time
	parsed *parsedTexts
	rows   *rowCache
	// kinds are the task kinds and versions this host runs (taskKinds).
	kinds map[string]taskKind
}

// New returns the compute service. Every dependency but Settings and Now
// (nil: the wall clock) is required: one missing is a wiring mistake, and
// New panics naming it.
func New(d Deps) *Service {
	if name := d.missing(); name != "" {
		panic("compute.New: Deps." + name + " is nil")
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Service{Deps: d, now: now, parsed: newParsedTexts(), rows: newRowCache(rowCacheBytes), kinds: taskKinds}
}

// missing names the first required dependency d lacks ("" for none).
func (d Deps) missing() string {
	for _, dep := range []struct {
		name   string
		absent bool
	}{
		{"DB", d.DB == nil}, {"Flavors", d.Flavors == nil}, {"Images", d.Images == nil},
		{"Quotas", d.Quotas == nil}, {"Addresses", d.Addresses == nil}, {"KeyPairs", d.KeyPairs == nil}, {"Volumes", d.Volumes == nil},
		{"Secrets", d.Secrets == nil}, {"Wake", d.Wake == nil},
	} {
		if dep.absent {
			return dep.name
		}
	}
	return ""
}

func (s *Service) wake(host string) {
	if host != "" {
		s.Wake(host)
	}
}
