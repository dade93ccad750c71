package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestStringsTableJoinsEveryValue(t *testing.T) {
	t.Parallel()
	many := make([]string, 2000)
	for i := range many {
		many[i] = fmt.Sprintf("k%04d", i)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE strings_table_test (k TEXT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for _, k := range append([]string{`it's "quoted"`, "ünï\\cödé"}, many...) {
			if _, err := db.ExecContext(ctx, `INSERT INTO strings_table_test (k, v) VALUES (?, ?)`, k, "v-"+k); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			name string
			keys []string
			want []string
		}{
			{"none", nil, nil},
			{"unknown only", []string{"nope"}, nil},
			{"one", []string{"k0007"}, []string{"k0007"}},
			{"one with special characters", []string{`it's "quoted"`}, []string{`it's "quoted"`}},
			{"special characters", []string{`it's "quoted"`, "ünï\\cödé", "nope"}, []string{`it's "quoted"`, "ünï\\cödé"}},
			{"more than SQLite's 999 variables", many, many},
		} {
			t.Run(c.name, func(t *testing.T) {
				from, arg := store.StringsTable(db, "x", c.keys)
				rows, err := db.QueryContext(ctx, `SELECT t.k, t.v FROM `+from+` JOIN strings_table_test t ON t.k = x.value`, arg)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var got []string
				for rows.Next() {
					var k, v string
					if err := rows.Scan(&k, &v); err != nil {
						t.Fatal(err)
					}
					if v != "v-"+k {
						t.Errorf("row %q has value %q", k, v)
					}
					got = append(got, k)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				want := slices.Sorted(slices.Values(c.want))
				if !slices.Equal(got, want) {
					t.Errorf("joined %d keys, want %d (%.3q...)", len(got), len(want), got)
				}
			})
		}
	})
}
