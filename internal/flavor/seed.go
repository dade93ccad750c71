package flavor

import (
	"context"
	"fmt"
)

// defaultFlavors are the classic m1 flavors Nova deployments start with.
var defaultFlavors = []CreateInput{
	{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1},
	{ID: "2", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20},
	{ID: "3", Name: "m1.medium", VCPUs: 2, RAM: 4096, Disk: 40},
	{ID: "4", Name: "m1.large", VCPUs: 4, RAM: 8192, Disk: 80},
	{ID: "5", Name: "m1.xlarge", VCPUs: 8, RAM: 16384, Disk: 160},
}

// SeedDefaults creates the five classic flavors (ids 1..5, m1.tiny ..
// m1.xlarge) when the flavor table is empty.
func (s *Service) SeedDefaults(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavors`).Scan(&n); err != nil {
		return fmt.Errorf("count flavors: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, in := range defaultFlavors {
		in.IsPublic = true
		if _, err := s.Create(ctx, in); err != nil {
			return fmt.Errorf("seed flavor %s: %w", in.Name, err)
		}
	}
	return nil
}
