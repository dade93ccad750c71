package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestInstanceRevisionBumpsOnEveryUpdate: whatever an UPDATE of a server
// row sets, even nothing new, the database raises that row's revision by
// one, and only that row's, and no writer can set it back; the server
// listing's row cache relies on it.
func TestInstanceRevisionBumpsOnEveryUpdate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		revs := twoInstances(t, db)
		if a, b := revs(); a != 0 || b != 0 {
			t.Fatalf("new rows at revisions %d, %d; want 0", a, b)
		}
		steps := []revStep{
			{"one column", func() error {
				_, err := db.ExecContext(ctx, `UPDATE instances SET vm_state = 'active' WHERE id = 'a'`)
				return err
			}, 1, 0},
			{"same value again", func() error {
				_, err := db.ExecContext(ctx, `UPDATE instances SET vm_state = 'active' WHERE id = 'a'`)
				return err
			}, 2, 0},
			{"two rows at once", func() error {
				_, err := db.ExecContext(ctx, `UPDATE instances SET task_state = NULL, progress = progress + 1`)
				return err
			}, 3, 1},
			{"twice in one transaction", func() error {
				return db.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(ctx, `UPDATE instances SET name = 'x' WHERE id = 'b'`); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE instances SET name = 'y' WHERE id = 'b'`)
					return err
				})
			}, 3, 3},
			{"a writer setting the revision back", func() error {
				_, err := db.ExecContext(ctx, `UPDATE instances SET rev = 0 WHERE id = 'a'`)
				return err
			}, 4, 3},
		}
		runRevSteps(t, revs, steps)
	})
}

// TestInstanceRevisionFollowsMetadataAndTags: adding, changing, moving
// and removing a server's metadata or tags raises its revision by one
// per row changed, so a server cached at a revision carries the details
// it had then.
func TestInstanceRevisionFollowsMetadataAndTags(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		revs := twoInstances(t, db)
		errRollback := errors.New("roll back")
		exec := func(query string) func() error {
			return func() error {
				_, err := db.ExecContext(ctx, query)
				return err
			}
		}
		runRevSteps(t, revs, []revStep{
			{"metadata added", exec(`INSERT INTO instance_metadata (instance_id, key, value) VALUES ('a', 'k', 'v')`), 1, 0},
			{"metadata changed", exec(`UPDATE instance_metadata SET value = 'w' WHERE instance_id = 'a'`), 2, 0},
			{"two metadata items added at once", exec(`INSERT INTO instance_metadata (instance_id, key, value)
				VALUES ('b', 'k1', 'v'), ('b', 'k2', 'v')`), 2, 2},
			{"metadata removed", exec(`DELETE FROM instance_metadata WHERE instance_id = 'a'`), 3, 2},
			{"tag added", exec(`INSERT INTO instance_tags (instance_id, tag) VALUES ('b', 't')`), 3, 3},
			{"tag moved to another server", exec(`UPDATE instance_tags SET instance_id = 'a' WHERE tag = 't'`), 4, 4},
			{"tag renamed", exec(`UPDATE instance_tags SET tag = 'u' WHERE instance_id = 'a'`), 5, 4},
			{"tag removed", exec(`DELETE FROM instance_tags WHERE instance_id = 'a'`), 6, 4},
			{"nothing matched", exec(`DELETE FROM instance_tags WHERE instance_id = 'a'`), 6, 4},
			{"rolled back", func() error {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO instance_tags (instance_id, tag) VALUES ('a', 'x')`); err != nil {
						return err
					}
					return errRollback
				})
				if errors.Is(err, errRollback) {
					return nil
				}
				return err
			}, 6, 4},
		})
	})
}

type revStep struct {
	name  string
	run   func() error
	wantA int64
	wantB int64
}

// twoInstances inserts servers a and b and returns a reader of their
// revisions.
func twoInstances(t *testing.T, db *store.DB) func() (a, b int64) {
	t.Helper()
	ctx := context.Background()
	for i, id := range []string{"a", "b"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
			reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, created_at, updated_at)
			VALUES (?, ?, 'p', 'u', ?, ?, 'r', 'f', '{}', 1, 512, 1, 0, 'building', 1, 1)`, id, i+1, id, id); err != nil {
			t.Fatal(err)
		}
	}
	return func() (a, b int64) {
		t.Helper()
		if err := db.QueryRowContext(ctx, `SELECT (SELECT rev FROM instances WHERE id = 'a'),
			(SELECT rev FROM instances WHERE id = 'b')`).Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func runRevSteps(t *testing.T, revs func() (a, b int64), steps []revStep) {
	t.Helper()
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if a, b := revs(); a != s.wantA || b != s.wantB {
			t.Errorf("after %s: revisions %d, %d; want %d, %d", s.name, a, b, s.wantA, s.wantB)
		}
	}
}
