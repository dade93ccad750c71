// Package image is kumo's built-in Glance: image records in the shared
// database and image files in the data directory. Every operation takes
// the caller (an *auth.Principal) and applies Glance's visibility and
// ownership rules, so the Glance API and Nova's image proxy behave alike.
package image

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// Image statuses, as Glance names them.
const (
	StatusQueued      = "queued"
	StatusSaving      = "saving"
	StatusUploading   = "uploading" // data staged (glance-direct)
	StatusImporting   = "importing" // an import task is at work
	StatusActive      = "active"
	StatusKilled      = "killed"
	StatusDeleted     = "deleted"
	StatusDeactivated = "deactivated"
)

// Visibilities.
const (
	Public    = "public"
	Community = "community"
	Shared    = "shared"
	Private   = "private"
)

// Member statuses.
const (
	MemberPending  = "pending"
	MemberAccepted = "accepted"
	MemberRejected = "rejected"
)

// Limits Glance applies by default (image_*_quota, image_size_cap).
const (
	MaxTags        = 128
	MaxProperties  = 128
	MaxMembers     = 128
	MaxNameLength  = 255
	DefaultMaxSize = int64(1) << 40
)

// Image is one image record.
type Image struct {
	ID              string
	Name            *string
	Status          string
	Visibility      string
	Owner           string
	ContainerFormat *string
	DiskFormat      *string
	Size            *int64
	VirtualSize     *int64
	Checksum        *string
	OSHashAlgo      *string
	OSHashValue     *string
	MinDisk         int
	MinRAM          int
	Protected       bool
	OSHidden        bool
	Properties      map[string]string
	Tags            []string
	CreatedAt       int64 // store timestamps (Unix microseconds)
	UpdatedAt       int64
}

// Member is one project an image is shared with.
type Member struct {
	ImageID   string
	MemberID  string
	Status    string
	CreatedAt int64
	UpdatedAt int64
}

// Service implements the image service.
type Service struct {
	db  *store.DB
	dir string
	// MaxSize is the largest image file accepted (Glance's image_size_cap).
	MaxSize int64
	// Limits gives the per-project quotas (Keystone unified limits); nil
	// enforces none.
	Limits LimitSource
	// DiskReserve is the free space (bytes) uploads leave on the image
	// filesystem; 0 keeps none back.
	DiskReserve int64
	// ImportWorkers is how many imports run at once (RunImports);
	// ImportTimeout bounds each; ImportFilter is what web-download may
	// fetch.
	ImportWorkers int
	ImportTimeout time.Duration
	ImportFilter  ImportFilter
	// Log receives what background imports cannot return; nil discards.
	Log        *slog.Logger
	importWake chan struct{}
}

// New returns an image service storing files under dir.
func New(db *store.DB, dir string) *Service {
	return &Service{db: db, dir: dir, MaxSize: DefaultMaxSize, ImportWorkers: 2, ImportTimeout: time.Hour,
		ImportFilter: DefaultImportFilter(), importWake: make(chan struct{}, 1)}
}

// dataPath is where an active image's file lives.
func (s *Service) dataPath(id string) string { return filepath.Join(s.dir, id) }

// trashPath is where an image's file waits while its image is deleted.
func (s *Service) trashPath(id string) string { return filepath.Join(s.dir, trashPrefix+id) }

// logf logs an error background work cannot return.
func (s *Service) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Error(fmt.Sprintf(format, args...))
	}
}
