// Package volume is kumo's block storage domain, the built-in Cinder:
// volumes, snapshots, volume types, attachments and quotas in the shared
// database. Requests change rows; the slow work (writing, copying,
// growing and removing data) is done by the Worker for the rows in a
// transient status, through a Backend that keeps the data (package
// volfile). Every call takes the caller (*auth.Principal) and applies
// Cinder's project scoping; policy is the API's business.
package volume

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
)

// Volume statuses, as Cinder names them.
const (
	StatusCreating       = "creating"
	StatusAvailable      = "available"
	StatusReserved       = "reserved"
	StatusAttaching      = "attaching"
	StatusInUse          = "in-use"
	StatusDetaching      = "detaching"
	StatusDeleting       = "deleting"
	StatusError          = "error"
	StatusErrorDeleting  = "error_deleting"
	StatusExtending      = "extending"
	StatusErrorExtending = "error_extending"
	StatusDownloading    = "downloading"
	StatusUploading      = "uploading"
	StatusErrorRestoring = "error_restoring"
	StatusMaintenance    = "maintenance"
)

// Attach statuses of a volume and of an attachment.
const (
	AttachDetached  = "detached"
	AttachReserved  = "reserved"
	AttachAttaching = "attaching"
	AttachAttached  = "attached"
	AttachDetaching = "detaching"
	AttachErrorAtt  = "error_attaching"
	AttachErrorDet  = "error_detaching"
)

// Snapshot statuses.
const (
	SnapshotCreating      = "creating"
	SnapshotAvailable     = "available"
	SnapshotDeleting      = "deleting"
	SnapshotError         = "error"
	SnapshotErrorDeleting = "error_deleting"
)

// DefaultTypeName is the volume type Cinder creates for volumes asked
// for without one.
const DefaultTypeName = "__DEFAULT__"

// Volume is one volume as the API shows it.
type Volume struct {
	ID               string
	ProjectID        string
	UserID           string
	Name             *string
	Description      *string
	Size             int // GiB
	Status           string
	PreviousStatus   string
	AttachStatus     string
	MigrationStatus  *string
	AvailabilityZone string
	VolumeTypeID     string
	VolumeTypeName   string
	Bootable         bool
	Multiattach      bool
	ImageID          *string // the image the volume was created from
	SnapshotID       *string
	SourceVolID      *string
	// Host is os-vol-host-attr:host ("" until scheduled).
	Host string
	// Location is where the backend keeps the data ("" until written);
	// Format is how ("raw" or "qcow2").
	Location      string
	Format        string
	ConsumesQuota bool
	Metadata      map[string]string
	ImageMetadata map[string]string
	// AdminMetadata holds "readonly" ("True"/"False") and, while
	// attached, "attached_mode".
	AdminMetadata map[string]string
	Attachments   []Attachment
	LaunchedAt    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Readonly reports the volume's readonly flag.
func (v *Volume) Readonly() bool { return v.AdminMetadata["readonly"] == "True" }

// Attachment is one attachment of a volume (the attachments API's and
// the old attach flow's record alike).
type Attachment struct {
	ID           string
	VolumeID     string
	ProjectID    string
	InstanceUUID *string
	AttachedHost *string
	Mountpoint   *string
	AttachMode   string // "rw" or "ro"
	AttachStatus string // reserved, attaching, attached, detaching, ...
	// Connector is what the attaching host said of itself (nil when
	// reserved without one).
	Connector map[string]any
	// ConnectionInfo is what the host needs to use the volume, set once
	// a connector is given.
	ConnectionInfo map[string]any
	AttachTime     *time.Time
	DetachTime     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Snapshot is one snapshot of a volume.
type Snapshot struct {
	ID            string
	ProjectID     string
	UserID        string
	VolumeID      string
	Name          *string
	Description   *string
	Size          int
	Status        string
	Progress      string
	VolumeTypeID  string
	ConsumesQuota bool
	Metadata      map[string]string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// VolumeType is one volume type.
type VolumeType struct {
	ID          string
	Name        string
	Description *string
	IsPublic    bool
	ExtraSpecs  map[string]string
	// QoSSpecsID is the QoS specs associated with the type, if any.
	QoSSpecsID *string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// TypeAccess is one project allowed a private type.
type TypeAccess struct {
	VolumeTypeID string
	ProjectID    string
}

// DefaultType is a project's default volume type (3.62).
type DefaultType struct {
	ProjectID    string
	VolumeTypeID string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// QuotaUsage is one resource of a quota set shown with usage=True.
type QuotaUsage struct {
	Limit    int64
	InUse    int64
	Reserved int64
	// Allocated is shown by Cinder only for nested quotas; always 0.
}

// AvailabilityZone is one zone of os-availability-zone.
type AvailabilityZone struct {
	Name      string
	Available bool
}

// ServiceInfo is one row of os-services.
type ServiceInfo struct {
	Binary         string // cinder-scheduler, cinder-volume
	Host           string
	Zone           string
	Status         string // enabled
	State          string // up
	UpdatedAt      time.Time
	DisabledReason *string
	Cluster        *string
	Frozen         bool
	// ReplicationStatus and ActiveBackendID are cinder-volume's only.
	ReplicationStatus string
	ActiveBackendID   *string
	BackendState      string // "up" (3.49, cinder-volume only)
}

// Capacity is the storage host's space (the scheduler stats' pool).
type Capacity struct {
	TotalGB int64
	UsedGB  int64 // volumes and snapshots placed on the host
	FreeGB  int64
}

// Images is what volumes need of the image service: reading an image and
// its data (create from image) and making one from a volume (upload to
// image). *image.Service implements it.
type Images interface {
	Get(ctx context.Context, p *auth.Principal, id string) (*image.Image, error)
	Open(ctx context.Context, p *auth.Principal, id string) (*image.Data, error)
	CreateQueued(ctx context.Context, tx *store.Tx, p *auth.Principal, req image.CreateRequest, member string) (*image.Image, error)
	UploadSnapshot(ctx context.Context, id, diskFormat string, data io.Reader) (*image.Image, error)
	DeleteSnapshot(ctx context.Context, id string) error
}

var _ Images = (*image.Service)(nil)

// Config is the service's deployment settings.
type Config struct {
	// Host is the storage host's name (Cinder's host@backend); "" uses
	// "kumo@volfile". Each kumo keeping volume files (each data
	// directory) sharing a database needs its own: a worker does the jobs
	// of its host's volumes only.
	Host string
	// AvailabilityZone is storage_availability_zone ("" is "nova").
	AvailabilityZone string
	// CapacityGB is the storage host's capacity; creates beyond it end in
	// "error" as Cinder's scheduler leaves them. 0 is unlimited.
	CapacityGB int64
	// Images is the image service (nil: creating from an image and
	// uploading to one fail).
	Images Images
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// EnableForceUpload is Cinder's enable_force_upload (default false:
	// os-volume_upload_image ignores force, so an in-use volume cannot be
	// uploaded).
	EnableForceUpload bool
	// Defaults overrides Cinder's default quotas (quota_volumes, ...) by
	// resource name.
	Defaults map[string]int64
	// Inventory lists the backend's disks for manageable_volumes (nil:
	// none are listed).
	Inventory Inventory
}

// Service is the block storage service.
type Service struct {
	db     *store.DB
	cfg    Config
	now    func() time.Time
	wake   chan struct{}
	mu     sync.Mutex
	change chan struct{} // closed and replaced when the worker finishes a job
	// notifying is set while a notification to other processes' workers
	// is on its way (Wake sends at most one at a time).
	notifying atomic.Bool
}

// New returns the block storage service over db.
func New(db *store.DB, cfg Config) *Service {
	if cfg.Host == "" {
		cfg.Host = "kumo@volfile"
	}
	if cfg.AvailabilityZone == "" {
		cfg.AvailabilityZone = "nova"
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, cfg: cfg, now: now, wake: make(chan struct{}, 1), change: make(chan struct{})}
}

// volumeChannel is the notification channel that wakes the storage
// hosts' workers in every process sharing a PostgreSQL database.
const volumeChannel = "kumo_volumes"

// Wake tells the workers there is work, once the caller's change has
// committed: this process's at once and, on PostgreSQL, those of other
// processes (kumo api queues work the kumo compute hosts do).
func (s *Service) Wake() {
	s.wakeLocal()
	if s.db.Dialect() != store.Postgres || !s.notifying.CompareAndSwap(false, true) {
		return
	}
	go func() {
		// Cleared before sending: a Wake after this point sends again,
		// one before it is covered by this notification.
		s.notifying.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.db.NotifyNow(ctx, volumeChannel, "") // the workers' periodic scan covers a loss
	}()
}

// wakeLocal wakes this process's worker.
func (s *Service) wakeLocal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// changed wakes the waiters of AwaitVolume.
func (s *Service) changed() {
	s.mu.Lock()
	close(s.change)
	s.change = make(chan struct{})
	s.mu.Unlock()
}

// changes is the channel closed at the next finished job.
func (s *Service) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change
}

// AvailabilityZone is the zone volumes are created in.
func (s *Service) AvailabilityZone() string { return s.cfg.AvailabilityZone }

// HostName is the storage host (os-vol-host-attr:host of placed volumes
// shows HostName + "#" + the pool).
func (s *Service) HostName() string { return s.cfg.Host }

func (s *Service) ts() int64 { return s.now().UnixMicro() }

// WakeSoon wakes the worker for work a caller's transaction has not
// committed yet: shortly after now, and again a little later; the
// worker's periodic scan covers a slower commit.
func (s *Service) WakeSoon() {
	for _, d := range []time.Duration{50 * time.Millisecond, 500 * time.Millisecond} {
		time.AfterFunc(d, s.Wake)
	}
}
