// Package image is kumo's built-in Glance: image records in the shared
// database and image files in the data directory.
package image

import (
	"context"

	"github.com/kumocloud/kumo/internal/store"
)

// Service implements the image service.
type Service struct {
	db  *store.DB
	dir string
}

// New returns an image service storing files under dir.
func New(db *store.DB, dir string) *Service { return &Service{db: db, dir: dir} }

// SeedTiny registers the small public "kumo-tiny" image, owned by owner
// (a project id), when no image of that name exists, so a fresh cloud can
// boot something.
func (s *Service) SeedTiny(ctx context.Context, owner string) error { panic("TODO") }
