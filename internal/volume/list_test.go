package volume_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func ids(vs []*volume.Volume) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = *v.Name
	}
	return out
}

func TestListFiltersSortAndPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		for i := 0; i < 5; i++ {
			md := map[string]string{"even": fmt.Sprint(i%2 == 0)}
			e.create(t, alice, volume.CreateRequest{Size: i + 1, Name: ptr(fmt.Sprintf("v%d", i)), Metadata: md})
		}
		e.create(t, bob, volume.CreateRequest{Size: 1, Name: ptr("bobs")})
		e.step(t)
		if err := e.s.SetBootable(e.ctx, alice, mustFind(t, e, "v3").ID, true); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			p    bool // as admin
			opts volume.ListOptions
			want string
		}{
			{"default newest first", false, volume.ListOptions{}, "v4 v3 v2 v1 v0"},
			{"name asc", false, volume.ListOptions{Sort: []volume.SortKey{{Key: "name", Dir: "asc"}}}, "v0 v1 v2 v3 v4"},
			{"size desc limit", false, volume.ListOptions{Sort: []volume.SortKey{{Key: "size", Dir: "desc"}}, Limit: 2}, "v4 v3"},
			{"offset", false, volume.ListOptions{Sort: []volume.SortKey{{Key: "name", Dir: "asc"}}, Offset: 3}, "v3 v4"},
			{"name filter", false, volume.ListOptions{Filters: map[string]string{"name": "v2"}}, "v2"},
			{"name like", false, volume.ListOptions{Like: map[string]string{"name": "v"}, Limit: 1}, "v4"},
			{"metadata", false, volume.ListOptions{Metadata: map[string]string{"even": "true"}, Sort: []volume.SortKey{{Key: "name", Dir: "asc"}}}, "v0 v2 v4"},
			{"bootable", false, volume.ListOptions{Filters: map[string]string{"bootable": "true"}}, "v3"},
			{"status", false, volume.ListOptions{Filters: map[string]string{"status": "available"}, Limit: 1}, "v4"},
			{"unknown filter", false, volume.ListOptions{Filters: map[string]string{"colour": "red"}}, ""},
			{"all tenants", true, volume.ListOptions{AllTenants: true, Sort: []volume.SortKey{{Key: "name", Dir: "asc"}}}, "bobs v0 v1 v2 v3 v4"},
			{"all tenants one project", true, volume.ListOptions{AllTenants: true, ProjectID: "pb"}, "bobs"},
			{"admin own project", true, volume.ListOptions{}, ""},
		} {
			p := alice
			if tc.p {
				p = admin
			}
			vs, err := e.s.List(e.ctx, p, tc.opts)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := strings.Join(ids(vs), " "); got != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
			n, err := e.s.Count(e.ctx, p, volume.ListOptions{AllTenants: tc.opts.AllTenants, ProjectID: tc.opts.ProjectID,
				Filters: tc.opts.Filters, Like: tc.opts.Like, Metadata: tc.opts.Metadata})
			if err != nil {
				t.Fatal(err)
			}
			if tc.opts.Limit == 0 && tc.opts.Offset == 0 && n != len(vs) {
				t.Errorf("%s: count %d, listed %d", tc.name, n, len(vs))
			}
		}
		// Marker pages walk every volume once, whatever the sort.
		for _, sort := range [][]volume.SortKey{nil, {{Key: "size", Dir: "asc"}}, {{Key: "name", Dir: "desc"}}, {{Key: "bootable", Dir: "asc"}}} {
			var seen []string
			marker := ""
			for {
				vs, err := e.s.List(e.ctx, alice, volume.ListOptions{Sort: sort, Limit: 2, Marker: marker})
				if err != nil {
					t.Fatal(err)
				}
				if len(vs) == 0 {
					break
				}
				seen = append(seen, ids(vs)...)
				marker = vs[len(vs)-1].ID
			}
			slices.Sort(seen)
			if strings.Join(seen, " ") != "v0 v1 v2 v3 v4" {
				t.Errorf("pages sorted by %v: %v", sort, seen)
			}
		}
		_, err := e.s.List(e.ctx, alice, volume.ListOptions{Marker: mustFind(t, e, "bobs").ID})
		wantErr(t, err, errs.KindNotFound, "could not be found")
		_, err = e.s.List(e.ctx, alice, volume.ListOptions{Sort: []volume.SortKey{{Key: "colour"}}})
		wantErr(t, err, errs.KindInvalid, "")
	})
}

func mustFind(t *testing.T, e *env, name string) *volume.Volume {
	t.Helper()
	vs, err := e.s.List(e.ctx, admin, volume.ListOptions{AllTenants: true, Filters: map[string]string{"name": name}})
	if err != nil || len(vs) != 1 {
		t.Fatalf("find %s: %v, %v", name, vs, err)
	}
	return vs[0]
}

func TestListOrderIsIndexBacked(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	for _, q := range []string{
		`SELECT v.id, t.name FROM volumes v JOIN volume_types t ON t.id = v.volume_type_id WHERE v.project_id = ? ORDER BY v.created_at DESC, v.id DESC LIMIT 10`,
		`SELECT id FROM snapshots s WHERE s.project_id = ? ORDER BY s.created_at DESC, s.id DESC LIMIT 10`,
		`SELECT id FROM volume_attachments a WHERE a.project_id = ? ORDER BY a.created_at DESC, a.id DESC LIMIT 10`,
	} {
		plan := storetest.SQLitePlan(t, db, q, "p")
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "_project_order") {
			t.Errorf("%s\nplan: %s", q, plan)
		}
	}
}
