package compute_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/store"
)

// TestListingShowsEveryChange: listings and shows keep decoded rows
// between requests, yet each shows the servers as they are now, whoever changed
// them (the compute service, another package's SQL, a rolled-back
// transaction that must leave no trace), whether the row or its metadata
// and tags changed, and whatever a caller set on the servers an earlier
// listing returned.
func TestListingShowsEveryChange(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := computetest.New(t, database, computetest.Options{})
		id := c.CreateServer(t, snapOwner, "first", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		other := c.CreateServer(t, snapOwner, "other", nil).Servers[0].ID
		c.WaitFor(t, other, computetest.Active)
		sql := func(q string) func() error {
			return func() error { _, err := c.DB.ExecContext(ctx, q, id); return err }
		}
		name := func(n string) *string { return &n }
		steps := []struct {
			name   string
			change func() error
			check  func(*compute.Server) bool
		}{
			{"nothing", func() error { return nil }, func(s *compute.Server) bool { return s.Name == "first" }},
			{"renamed by the service", func() error {
				_, err := c.Compute.Update(ctx, snapOwner, id, compute.UpdateRequest{Name: name("second")})
				return err
			}, func(s *compute.Server) bool { return s.Name == "second" }},
			{"written by other SQL", sql(`UPDATE instances SET name = 'third', progress = 42 WHERE id = ?`),
				func(s *compute.Server) bool { return s.Name == "third" && s.Progress == 42 }},
			{"rolled back", func() error {
				err := c.DB.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(ctx, `UPDATE instances SET name = 'never' WHERE id = ?`, id); err != nil {
						return err
					}
					return errors.New("abort")
				})
				if err == nil {
					return errors.New("the transaction committed")
				}
				return nil
			}, func(s *compute.Server) bool { return s.Name == "third" }},
			{"metadata set", func() error {
				_, err := c.Compute.SetMetadata(ctx, snapOwner, id, map[string]string{"k": "v"}, true, nil)
				return err
			}, func(s *compute.Server) bool { return s.Metadata["k"] == "v" }},
			{"metadata cleared", func() error {
				_, err := c.Compute.SetMetadata(ctx, snapOwner, id, map[string]string{}, true, nil)
				return err
			}, func(s *compute.Server) bool { return len(s.Metadata) == 0 }},
			{"metadata written by other SQL", sql(`INSERT INTO instance_metadata (instance_id, key, value) VALUES (?, 'o', 'p')`),
				func(s *compute.Server) bool { return s.Metadata["o"] == "p" }},
			{"metadata changed by other SQL", sql(`UPDATE instance_metadata SET value = 'q' WHERE instance_id = ?`),
				func(s *compute.Server) bool { return s.Metadata["o"] == "q" }},
			{"tag added by the service", func() error {
				_, err := c.Compute.AddTag(ctx, snapOwner, id, "blue", func(string) error { return nil })
				return err
			}, func(s *compute.Server) bool { return len(s.Tags) == 1 && s.Tags[0] == "blue" }},
			{"tag renamed by other SQL", sql(`UPDATE instance_tags SET tag = 'green' WHERE instance_id = ?`),
				func(s *compute.Server) bool { return len(s.Tags) == 1 && s.Tags[0] == "green" }},
			{"tags removed by other SQL", sql(`DELETE FROM instance_tags WHERE instance_id = ?`),
				func(s *compute.Server) bool { return len(s.Tags) == 0 }},
		}
		for _, step := range steps {
			if err := step.change(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			listed, err := c.Compute.List(ctx, compute.ListOptions{ProjectID: snapOwner.ProjectID})
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 2 || listed[0].ID != other || listed[1].ID != id {
				t.Fatalf("%s: listed %d servers, want %s then %s", step.name, len(listed), other, id)
			}
			if !step.check(listed[1]) {
				t.Errorf("%s: listed %+v", step.name, listed[1])
			}
			shown, err := c.Compute.Get(ctx, snapOwner, id)
			if err != nil {
				t.Fatal(err)
			}
			if !step.check(shown) {
				t.Errorf("%s: shown %+v", step.name, shown)
			}
			// What callers set on the servers they got stays theirs (their
			// metadata and tags are shared and read-only).
			for _, srv := range []*compute.Server{listed[1], shown} {
				srv.Name, srv.Progress = "scribbled", 0
			}
		}
	})
}
