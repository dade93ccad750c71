// Package flavor manages compute flavors, their extra specs and the
// projects allowed to use private flavors.
package flavor

import (
	"context"

	"github.com/kumocloud/kumo/internal/store"
)

// Service implements flavor management.
type Service struct{ db *store.DB }

// New returns a flavor service.
func New(db *store.DB) *Service { return &Service{db: db} }

// SeedDefaults creates the five classic flavors (ids 1..5, m1.tiny ..
// m1.xlarge) when the flavor table is empty.
func (s *Service) SeedDefaults(ctx context.Context) error { panic("TODO") }
