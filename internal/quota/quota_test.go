package quota_test

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var instanceSeq atomic.Int64

// hasColumn reports whether table has column in this schema.
func hasColumn(ctx context.Context, db *store.DB, table, column string) bool {
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE 1 = 0", column, table))
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// addInstance inserts a live instance row with the given size.
func addInstance(t testing.TB, ctx context.Context, q store.Querier, numbered bool, project, user string, vcpus, ram int, deleted bool) error {
	t.Helper()
	n := instanceSeq.Add(1)
	id := fmt.Sprintf("inst-%d", n)
	now := store.Now()
	cols := `id, project_id, user_id, name, hostname, reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, created_at, updated_at, deleted`
	vals := `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
	args := []any{id, project, user, id, id, "r-" + id, "1", "{}", vcpus, ram, 1, 0, "active", now, now, deleted}
	if numbered {
		cols += `, number`
		vals += `, ?`
		args = append(args, n)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO instances (`+cols+`) VALUES (`+vals+`)`, args...)
	return err
}

func mustAdd(t *testing.T, db *store.DB, project, user string, vcpus, ram int, deleted bool) {
	t.Helper()
	ctx := context.Background()
	if err := addInstance(t, ctx, db, hasColumn(ctx, db, "instances", "number"), project, user, vcpus, ram, deleted); err != nil {
		t.Fatalf("insert instance: %v", err)
	}
}

func TestDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		def, err := s.Defaults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{
			"instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": 100,
			"server_groups": 10, "server_group_members": 10, "injected_files": 5,
			"injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
			"floating_ips": -1, "fixed_ips": -1, "security_groups": -1, "security_group_rules": -1,
		}
		for res, v := range want {
			if def[res] != v {
				t.Errorf("default %s = %d, want %d", res, def[res], v)
			}
		}
		if len(def) != len(want) {
			t.Errorf("defaults have %d resources, want %d", len(def), len(want))
		}

		// The default class replaces the configured defaults for everyone.
		if _, err := s.SetClass(ctx, quota.DefaultClass, quota.Limits{"cores": 40}); err != nil {
			t.Fatal(err)
		}
		// A project's own limit beats the class; a user's beats the project's.
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"instances", 5}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Set(ctx, "p1", "u1", []quota.Change{{"instances", 3}, {"ram", 1024}}, false); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			project, user, res string
			want               int
		}{
			{"p1", "", "cores", 40}, {"p1", "", "instances", 5}, {"p1", "", "ram", 51200},
			{"p1", "u1", "instances", 3}, {"p1", "u1", "ram", 1024}, {"p1", "u1", "cores", 40},
			{"p1", "u2", "instances", 5}, {"p2", "", "instances", 10}, {"p2", "", "cores", 40},
		} {
			got, err := s.Get(ctx, c.project, c.user)
			if err != nil {
				t.Fatal(err)
			}
			if got[c.res] != c.want {
				t.Errorf("%s/%s %s = %d, want %d", c.project, c.user, c.res, got[c.res], c.want)
			}
		}
		cls, err := s.Class(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		if cls["cores"] != 20 {
			t.Errorf("another class starts from the configured defaults: cores %d", cls["cores"])
		}

		// Delete of a user drops only that user's limits; of a project, all.
		if err := s.Delete(ctx, "p1", "u1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "p1", "u1"); got["instances"] != 5 {
			t.Errorf("after user delete instances = %d, want the project's 5", got["instances"])
		}
		if _, err := s.Set(ctx, "p1", "u1", []quota.Change{{"instances", 2}}, false); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "p1", ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "p1", "u1"); got["instances"] != 10 {
			t.Errorf("after project delete user instances = %d, want 10", got["instances"])
		}
	})
}

func TestUsageCounting(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		mustAdd(t, db, "p1", "u1", 2, 1024, false)
		mustAdd(t, db, "p1", "u1", 4, 2048, false)
		mustAdd(t, db, "p1", "u2", 1, 512, false)
		mustAdd(t, db, "p1", "u1", 8, 8192, true) // deleted: not counted
		mustAdd(t, db, "p2", "u1", 16, 4096, false)
		for _, c := range []struct {
			user                  string
			instances, cores, ram int
		}{
			{"", 3, 7, 3584},
			{"u1", 2, 6, 3072},
			{"u2", 1, 1, 512},
		} {
			d, err := s.Detail(ctx, "p1", c.user)
			if err != nil {
				t.Fatal(err)
			}
			if d["instances"].InUse != c.instances || d["cores"].InUse != c.cores || d["ram"].InUse != c.ram {
				t.Errorf("user %q: usage %+v %+v %+v, want %d %d %d", c.user, d["instances"], d["cores"], d["ram"], c.instances, c.cores, c.ram)
			}
			if d["instances"].Limit != 10 || d["key_pairs"].InUse != 0 {
				t.Errorf("user %q: instances limit %d, key_pairs in use %d", c.user, d["instances"].Limit, d["key_pairs"].InUse)
			}
		}
	})
}

func TestSetValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		mustAdd(t, db, "p1", "u1", 2, 1024, false)
		mustAdd(t, db, "p1", "u1", 2, 1024, false)
		cases := []struct {
			name    string
			user    string
			changes []quota.Change
			force   bool
			wantErr string
		}{
			{"below usage", "", []quota.Change{{"instances", 1}}, false,
				"Quota limit 1 for instances must be greater than or equal to already used and reserved 2."},
			{"below usage forced", "", []quota.Change{{"instances", 1}}, true, ""},
			{"unlimited", "", []quota.Change{{"instances", -1}}, false, ""},
			{"user below usage", "u1", []quota.Change{{"cores", 3}}, false,
				"Quota limit 3 for cores must be greater than or equal to already used and reserved 4."},
			{"user above project", "u1", []quota.Change{{"cores", 21}}, false,
				"Quota limit 21 for cores must be less than or equal to 20."},
			{"user within", "u1", []quota.Change{{"cores", 15}}, false, ""},
			{"second user above what is left", "u2", []quota.Change{{"cores", 6}}, false,
				"Quota limit 6 for cores must be less than or equal to 5."},
			{"project below its users", "", []quota.Change{{"cores", 14}}, false,
				"Quota limit 14 for cores must be greater than or equal to already used and reserved 15."},
		}
		for _, c := range cases {
			_, err := s.Set(ctx, "p1", c.user, c.changes, c.force)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("%s: %v", c.name, err)
			case c.wantErr != "" && (!errs.Is(err, errs.KindInvalid) || errs.Message(err) != c.wantErr):
				t.Errorf("%s: got %v, want %q", c.name, err, c.wantErr)
			}
		}
	})
}

func TestCheckInstances(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		for range 9 {
			mustAdd(t, db, "p1", "u1", 2, 2048, false)
		}
		check := func(user string, n, vcpus, ram int) error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				return s.CheckInstances(ctx, tx, "p1", user, n, vcpus, ram)
			})
		}
		cases := []struct {
			name          string
			user          string
			n, vcpus, ram int
			want          string
		}{
			{"fits", "u1", 1, 2, 2048, ""},
			{"instances", "u1", 2, 1, 2048, "Quota exceeded for instances: Requested 2, but already used 9 of 10 instances"},
			{"cores and ram", "u1", 1, 4, 40000, "Quota exceeded for cores, ram: Requested 4, 40000, but already used 18, 18432 of 20, 51200 cores, ram"},
			{"all three", "u1", 3, 2, 13000, "Quota exceeded for cores, instances, ram: Requested 6, 3, 39000, but already used 18, 9, 18432 of 20, 10, 51200 cores, instances, ram"},
		}
		for _, c := range cases {
			err := check(c.user, c.n, c.vcpus, c.ram)
			if c.want == "" {
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
				continue
			}
			if !errs.Is(err, errs.KindOverQuota) || errs.Message(err) != c.want {
				t.Errorf("%s: got %v, want %q", c.name, err, c.want)
			}
		}
		// A user's own limit is checked against the user's own usage.
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"instances", 20}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Set(ctx, "p1", "u2", []quota.Change{{"instances", 1}}, false); err != nil {
			t.Fatal(err)
		}
		mustAdd(t, db, "p1", "u2", 1, 512, false)
		err := check("u2", 1, 1, 512)
		want := "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"
		if errs.Message(err) != want {
			t.Errorf("user limit: got %v, want %q", err, want)
		}
		// A project at its limit is full for everyone.
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"instances", 10}}, false); err != nil {
			t.Fatal(err)
		}
		err = check("u1", 1, 1, 512)
		want = "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"
		if errs.Message(err) != want {
			t.Errorf("project full: got %v, want %q", err, want)
		}
	})
}

func TestCheckInstanceCountAndMaxAllowed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		for range 6 {
			mustAdd(t, db, "p1", "u1", 1, 1024, false)
		}
		run := func(min, max, vcpus, ram int) (n int, err error) {
			err = db.InTx(ctx, func(tx *store.Tx) error {
				n, err = s.CheckInstanceCount(ctx, tx, "p1", "u1", min, max, vcpus, ram)
				return err
			})
			return n, err
		}
		cases := []struct {
			min, max, vcpus, ram int
			want                 int
			msg                  string
		}{
			{1, 3, 1, 1024, 3, ""},
			{1, 10, 1, 1024, 4, ""}, // four more instances fit
			{1, 10, 4, 1024, 3, ""}, // cores: 14 left, 3 of 4 vCPUs
			{5, 10, 1, 1024, 0, "Quota exceeded for instances: Requested 5-10, but already used 6 of 10 instances"},
			{5, 5, 1, 1024, 0, "Quota exceeded for instances: Requested 5, but already used 6 of 10 instances"},
			{1, 1, 15, 1024, 0, "Quota exceeded for cores: Requested 15, but already used 6 of 20 cores"},
		}
		for _, c := range cases {
			n, err := run(c.min, c.max, c.vcpus, c.ram)
			if c.msg != "" {
				if !errs.Is(err, errs.KindOverQuota) || errs.Message(err) != c.msg {
					t.Errorf("%d-%d x %d: got %v, want %q", c.min, c.max, c.vcpus, err, c.msg)
				}
				continue
			}
			if err != nil || n != c.want {
				t.Errorf("%d-%d x %d: got %d, %v, want %d", c.min, c.max, c.vcpus, n, err, c.want)
			}
		}
		var allowed int
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			allowed, err = s.MaxAllowed(ctx, tx, "p1", "u1", 4, 1024)
			return err
		})
		if err != nil || allowed != 3 {
			t.Errorf("MaxAllowed = %d, %v, want 3", allowed, err)
		}
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"instances", -1}, {"cores", -1}, {"ram", -1}}, false); err != nil {
			t.Fatal(err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			allowed, err = s.MaxAllowed(ctx, tx, "p1", "u1", 4, 1024)
			return err
		})
		if err != nil || allowed != math.MaxInt {
			t.Errorf("MaxAllowed unlimited = %d, %v, want math.MaxInt", allowed, err)
		}
	})
}

func TestLimitAndSimpleChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		if l, err := s.Limit(ctx, "p1", "u1", "key_pairs"); err != nil || l != 100 {
			t.Errorf("key_pairs limit = %d, %v", l, err)
		}
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"key_pairs", 5}, {"metadata_items", 2}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Set(ctx, "p1", "u1", []quota.Change{{"key_pairs", 3}}, false); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			user string
			want int
		}{{"u1", 3}, {"u2", 5}, {"", 5}} {
			if l, err := s.Limit(ctx, "p1", c.user, "key_pairs"); err != nil || l != c.want {
				t.Errorf("key_pairs limit of %q = %d, %v, want %d", c.user, l, err, c.want)
			}
		}
		if _, err := s.Limit(ctx, "p1", "u1", "bogus"); err == nil {
			t.Error("unknown resource accepted")
		}
		if err := s.CheckMetadataItems(ctx, "p1", 2); err != nil {
			t.Errorf("2 metadata items: %v", err)
		}
		err := s.CheckMetadataItems(ctx, "p1", 3)
		if !errs.Is(err, errs.KindOverQuota) || errs.Message(err) != "Maximum number of metadata items exceeds 2" {
			t.Errorf("3 metadata items: %v", err)
		}
		for _, c := range []struct {
			files, path, content int
			want                 string
		}{
			{5, 255, 10240, ""},
			{6, 1, 1, "Personality file limit exceeded"},
			{1, 256, 1, "Personality file path exceeds maximum 255"},
			{1, 1, 10241, "Personality file content exceeds maximum 10240"},
		} {
			err := s.CheckInjectedFiles(ctx, "p1", c.files, c.path, c.content)
			if errs.Message(err) != c.want && !(c.want == "" && err == nil) {
				t.Errorf("injected files %+v: %v", c, err)
			}
		}
	})
}

// TestConcurrentCreates proves the check and the insert are atomic: many
// transactions racing for the last slots never exceed the limit.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		numbered := hasColumn(ctx, db, "instances", "number")
		const workers = 25
		var wg sync.WaitGroup
		var created, refused, failed atomic.Int64
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.InTx(ctx, func(tx *store.Tx) error {
					if err := s.CheckInstances(ctx, tx, "p1", "u1", 1, 1, 512); err != nil {
						return err
					}
					return addInstance(t, ctx, tx, numbered, "p1", "u1", 1, 512, false)
				})
				switch {
				case err == nil:
					created.Add(1)
				case errs.Is(err, errs.KindOverQuota):
					refused.Add(1)
				default:
					failed.Add(1)
					t.Logf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		var rows int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE project_id = 'p1'`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 10 || created.Load() != 10 {
			t.Errorf("%d rows, %d created, %d refused, %d failed; want exactly 10", rows, created.Load(), refused.Load(), failed.Load())
		}
		if created.Load()+refused.Load()+failed.Load() != workers {
			t.Errorf("lost outcomes")
		}
	})
}

// TestHugeInstanceCounts: counts past int's range (Nova reads them with
// Python's int()) are checked exactly. A max_count of 10^20 is lowered to
// what fits, as Nova does; a min_count of 2^64 is Nova's 403 with the
// numbers whole. Before the checks were exact, count × vCPUs and usage +
// count wrapped and such requests passed.
func TestHugeInstanceCounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		mustAdd(t, db, "p1", "u1", 1, 512, false)
		pow := func(base, exp int64) *big.Int { return new(big.Int).Exp(big.NewInt(base), big.NewInt(exp), nil) }
		run := func(min, max *big.Int, vcpus, ram int) (n int, err error) {
			err = db.InTx(ctx, func(tx *store.Tx) error {
				n, err = s.CheckInstanceRange(ctx, tx, "p1", "u1", min, max, vcpus, ram)
				return err
			})
			return n, err
		}
		one := big.NewInt(1)
		cases := []struct {
			name       string
			min, max   *big.Int
			vcpus, ram int
			want       int
			msg        string
		}{
			{"max 10^20", one, pow(10, 20), 1, 512, 9, ""},
			{"max 2^64", one, pow(2, 64), 1, 512, 9, ""},
			{"max int64", one, big.NewInt(math.MaxInt64), 1, 512, 9, ""},
			{"max 2^63/512: RAM wraps to 0 in int64", one, pow(2, 54), 1, 512, 9, ""},
			{"max 10^20, big flavor", one, pow(10, 20), 4, 8192, 4, ""},
			{"min 2^64", pow(2, 64), pow(2, 64), 1, 512, 0,
				"Quota exceeded for cores, instances, ram: Requested 18446744073709551616, 18446744073709551616, 9444732965739290427392, but already used 1, 1, 512 of 20, 10, 51200 cores, instances, ram"},
			{"min 10 max 10^20", big.NewInt(10), pow(10, 20), 1, 512, 0,
				"Quota exceeded for cores, instances, ram: Requested 100000000000000000000, 10-100000000000000000000, 51200000000000000000000, but already used 1, 1, 512 of 20, 10, 51200 cores, instances, ram"},
			{"min 11, over by a little", big.NewInt(11), big.NewInt(11), 1, 512, 0,
				"Quota exceeded for instances: Requested 11, but already used 1 of 10 instances"},
			{"max 11, over by a little", one, big.NewInt(11), 1, 512, 9, ""},
		}
		for _, c := range cases {
			n, err := run(c.min, c.max, c.vcpus, c.ram)
			if c.msg != "" {
				if !errs.Is(err, errs.KindOverQuota) || errs.Message(err) != c.msg {
					t.Errorf("%s: got %d, %v, want %q", c.name, n, err, c.msg)
				}
				continue
			}
			if err != nil || n != c.want {
				t.Errorf("%s: got %d, %v, want %d", c.name, n, err, c.want)
			}
		}
		// The int entry point, as the API called it with a saturated count.
		var n int
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = s.CheckInstanceCount(ctx, tx, "p1", "u1", 1, math.MaxInt, 1, 512)
			return err
		})
		if err != nil || n != 9 {
			t.Errorf("CheckInstanceCount(1, MaxInt) = %d, %v, want 9", n, err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return s.CheckInstances(ctx, tx, "p1", "u1", math.MaxInt, 1, 512)
		})
		want := "Quota exceeded for cores, instances, ram: Requested 9223372036854775807, 9223372036854775807, 4722366482869645213184, but already used 1, 1, 512 of 20, 10, 51200 cores, instances, ram"
		if errs.Message(err) != want {
			t.Errorf("CheckInstances(MaxInt) = %v, want %q", err, want)
		}
		// Unlimited: any count fits and the answer saturates.
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"instances", -1}, {"cores", -1}, {"ram", -1}}, false); err != nil {
			t.Fatal(err)
		}
		if n, err := run(one, pow(10, 20), 1, 512); err != nil || n != math.MaxInt {
			t.Errorf("unlimited, max 10^20: %d, %v, want math.MaxInt", n, err)
		}
		if n, err := run(big.NewInt(3), big.NewInt(5), 1, 512); err != nil || n != 5 {
			t.Errorf("unlimited, 3-5: %d, %v, want 5", n, err)
		}
		// Resizes add cores and RAM exactly too.
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"cores", 20}, {"ram", 51200}}, false); err != nil {
			t.Fatal(err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return s.CheckUpsize(ctx, tx, "p1", "u1", math.MaxInt, math.MaxInt)
		})
		want = "Quota exceeded for cores, ram: Requested 9223372036854775807, 9223372036854775807, but already used 1, 512 of 20, 51200 cores, ram"
		if errs.Message(err) != want {
			t.Errorf("CheckUpsize(MaxInt) = %v, want %q", err, want)
		}
	})
}

// TestGroupMembersQuota is Nova's server_group_members check: members of
// the group are counted per user against the user's limit.
func TestGroupMembersQuota(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
		now := store.Now()
		if _, err := db.ExecContext(ctx, `INSERT INTO server_groups (id, name, project_id, user_id, policy, rules, created_at, updated_at)
			VALUES ('g1', 'g', 'p1', 'u1', 'affinity', '{}', ?, ?)`, now, now); err != nil {
			t.Fatal(err)
		}
		numbered := hasColumn(ctx, db, "instances", "number")
		member := func(user string, deleted bool) {
			t.Helper()
			if err := addInstance(t, ctx, db, numbered, "p1", user, 1, 512, deleted); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO server_group_members (group_id, instance_id, created_at)
				SELECT 'g1', id, 0 FROM instances WHERE number = (SELECT MAX(number) FROM instances)`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"server_group_members", 3}}, false); err != nil {
			t.Fatal(err)
		}
		member("u1", false)
		member("u1", false)
		member("u1", true)  // deleted: not counted
		member("u2", false) // another user's: not counted for u1
		check := func(user string, n int) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return s.CheckGroupMembers(ctx, tx, "p1", user, "g1", n) })
		}
		for _, c := range []struct {
			user string
			n    int
			over bool
		}{
			{"u1", 1, false}, {"u1", 2, true}, {"u1", math.MaxInt, true}, {"u2", 2, false}, {"u2", 3, true},
		} {
			err := check(c.user, c.n)
			if c.over != (err != nil) || (err != nil && errs.Message(err) != "Quota exceeded, too many servers in group") {
				t.Errorf("%s +%d: %v, want over %v", c.user, c.n, err, c.over)
			}
		}
		if _, err := s.Set(ctx, "p1", "u1", []quota.Change{{"server_group_members", 1}}, false); err != nil {
			t.Fatal(err)
		}
		if err := check("u1", 1); err == nil {
			t.Error("u1's own limit of 1 with 2 members: passed")
		}
		if _, err := s.Set(ctx, "p1", "", []quota.Change{{"server_group_members", -1}}, false); err != nil {
			t.Fatal(err)
		}
		if err := check("u2", math.MaxInt); err != nil {
			t.Errorf("unlimited: %v", err)
		}
	})
}
