package image

import (
	"context"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func nsNames(nss []*Namespace) []string {
	out := []string{}
	for _, ns := range nss {
		out = append(out, ns.Namespace)
	}
	return out
}

// TestNamespacePaging pages through namespaces by marker in each sort
// order, with rows that tie on the sort key.
func TestNamespacePaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		for _, n := range []string{"c", "a", "d", "b", "e"} {
			// Every namespace public: created_at ties are likely, so the
			// pages must break them the same way each time.
			if _, err := s.CreateNamespace(ctx, admin, NamespaceRequest{Namespace: n, Visibility: Public}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			key, dir string
			want     []string
		}{
			{"namespace", "asc", []string{"a", "b", "c", "d", "e"}},
			{"namespace", "desc", []string{"e", "d", "c", "b", "a"}},
			{"visibility", "asc", nil}, // all tie: any order, each once
			{"created_at", "desc", nil},
		} {
			var got []string
			marker := ""
			for range 10 {
				page, err := s.ListNamespaces(ctx, alice, NamespaceQuery{Marker: marker, Limit: 2, SortKey: c.key, SortDir: c.dir})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, nsNames(page)...)
				if len(page) < 2 {
					break
				}
				marker = page[len(page)-1].Namespace
			}
			if c.want != nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s %s: %v, want %v", c.key, c.dir, got, c.want)
			}
			seen := map[string]bool{}
			for _, n := range got {
				seen[n] = true
			}
			if len(got) != 5 || len(seen) != 5 {
				t.Errorf("%s %s: pages %v", c.key, c.dir, got)
			}
		}
		_, err := s.ListNamespaces(ctx, alice, NamespaceQuery{SortKey: "color"})
		wantKind(t, err, errs.KindInvalid)
		_, err = s.ListNamespaces(ctx, alice, NamespaceQuery{Marker: "nope"})
		wantKind(t, err, errs.KindNotFound)
	})
}

// TestNamespaceLifecycle renames a namespace with contents, replaces its
// attributes (what an update leaves out goes back to its default) and
// deletes it with everything in it.
func TestNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		_, err := s.CreateNamespace(ctx, admin, NamespaceRequest{
			Namespace: "n", DisplayName: ptr("N"), Visibility: Public, Owner: "pa",
			ResourceTypes: []ResourceTypeAssociation{{Name: "Kumo::New", Prefix: ptr("k_")}},
			Objects:       []MetadefObject{{Name: "o", Required: []string{"p"}, Properties: map[string]map[string]any{"p": {"type": "string", "title": "P"}}}},
			Properties:    []MetadefProperty{{Name: "p", Schema: map[string]any{"type": "integer", "title": "P"}}},
			Tags:          []string{"t"},
		})
		if err != nil {
			t.Fatal(err)
		}
		// An association names a resource type into being.
		rts, err := s.ListResourceTypes(ctx, alice)
		if err != nil || len(rts) != 1 || rts[0].Name != "Kumo::New" || rts[0].Protected {
			t.Fatalf("resource types %v, %v", rts, err)
		}
		ns, err := s.UpdateNamespace(ctx, admin, "n", NamespaceRequest{Namespace: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if ns.Visibility != Private || ns.DisplayName != nil || ns.Owner != "admin" {
			t.Errorf("updated %+v", ns)
		}
		_, err = s.GetNamespace(ctx, alice, "m", "")
		wantKind(t, err, errs.KindNotFound) // private now, and not alice's
		got, err := s.GetNamespace(ctx, admin, "m", "Kumo::New")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Objects) != 1 || got.Objects[0].Required[0] != "k_p" || got.Properties[0].Name != "k_p" || len(got.Tags) != 1 {
			t.Errorf("renamed namespace's contents %+v", got)
		}
		if _, err := s.CreateNamespace(ctx, admin, NamespaceRequest{Namespace: "other"}); err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateNamespace(ctx, admin, "m", NamespaceRequest{Namespace: "other"})
		wantKind(t, err, errs.KindConflict)
		if err := s.DeleteNamespace(ctx, admin, "m"); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"metadef_objects", "metadef_properties", "metadef_tags", "metadef_namespace_resource_types"} {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s: %d rows left (%v)", table, n, err)
			}
		}
	})
}

// TestMetadefContents covers the contents' own rules: renames, case
// insensitive tags with paging, and the protection of a protected
// namespace's contents.
func TestMetadefContents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		if _, err := s.CreateNamespace(ctx, admin, NamespaceRequest{Namespace: "n", Protected: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateMetadefTags(ctx, admin, "n", []string{"b", "a", "c", "d"}, false); err != nil {
			t.Fatal(err)
		}
		var got []string
		marker := ""
		for range 5 {
			page, err := s.ListMetadefTags(ctx, admin, "n", TagQuery{Marker: marker, Limit: 3, SortKey: "name", SortDir: "asc"})
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range page {
				got = append(got, tg.Name)
			}
			if len(page) < 3 {
				break
			}
			marker = page[len(page)-1].Name
		}
		if !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
			t.Errorf("tag pages %v", got)
		}
		if _, err := s.UpdateMetadefTag(ctx, admin, "n", "A", "B"); errs.KindOf(err) != errs.KindConflict {
			t.Errorf("rename onto another tag: %v", err)
		}
		if tg, err := s.UpdateMetadefTag(ctx, admin, "n", "A", "e"); err != nil || tg.Name != "e" {
			t.Errorf("rename: %v %v", tg, err)
		}
		if _, err := s.CreateProperty(ctx, admin, "n", MetadefProperty{Name: "p", Schema: map[string]any{"type": "string", "title": "P"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateProperty(ctx, admin, "n", "p", MetadefProperty{Name: "q", Schema: map[string]any{"type": "string", "title": "Q"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetProperty(ctx, admin, "n", "p", ""); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("old property name: %v", err)
		}
		if _, err := s.CreateObject(ctx, admin, "n", MetadefObject{Name: "o"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Associate(ctx, admin, "n", ResourceTypeAssociation{Name: ResourceImage}); err != nil {
			t.Fatal(err)
		}
		for name, del := range map[string]func() error{
			"tag":         func() error { return s.DeleteMetadefTag(ctx, admin, "n", "e") },
			"property":    func() error { return s.DeleteProperty(ctx, admin, "n", "q") },
			"object":      func() error { return s.DeleteObject(ctx, admin, "n", "o") },
			"association": func() error { return s.Dissociate(ctx, admin, "n", ResourceImage) },
			"all tags":    func() error { return s.DeleteNamespaceContents(ctx, admin, "n", ContentTags) },
		} {
			if err := del(); errs.KindOf(err) != errs.KindForbidden {
				t.Errorf("delete %s of a protected namespace: %v", name, err)
			}
		}
		// Missing items are 404 before the protection is.
		if err := s.DeleteObject(ctx, admin, "n", "nope"); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("delete missing object: %v", err)
		}
		// The owner's project may change its namespace; others may not
		// even see it (the API's rules keep both to admins by default).
		if _, err := s.CreateNamespace(ctx, admin, NamespaceRequest{Namespace: "pa's", Owner: "pa"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateMetadefTag(ctx, alice, "pa's", "x"); err != nil {
			t.Errorf("owner adds a tag: %v", err)
		}
		_, err := s.CreateMetadefTag(ctx, bob, "pa's", "y")
		wantKind(t, err, errs.KindNotFound)
		if _, err := s.CreateNamespace(ctx, admin, NamespaceRequest{Namespace: "pub", Visibility: Public}); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateMetadefTag(ctx, bob, "pub", "y")
		wantKind(t, err, errs.KindForbidden)
	})
}

// TestSeedMetadefsOnce checks the catalog is seeded on the first start
// only: a namespace an admin deletes stays deleted.
func TestSeedMetadefsOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		if err := s.SeedMetadefs(ctx, "adm"); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListNamespaces(ctx, alice, NamespaceQuery{})
		if err != nil || len(all) != len(seedNamespaces()) {
			t.Fatalf("seeded %v, %v", nsNames(all), err)
		}
		if _, err := s.UpdateNamespace(ctx, admin, "OS::Compute::Watchdog", NamespaceRequest{Namespace: "OS::Compute::Watchdog"}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteNamespace(ctx, admin, "OS::Compute::Watchdog"); err != nil {
			t.Fatal(err)
		}
		if err := s.SeedMetadefs(ctx, "adm"); err != nil {
			t.Fatal(err)
		}
		all, err = s.ListNamespaces(ctx, admin, NamespaceQuery{})
		if err != nil || len(all) != len(seedNamespaces())-1 {
			t.Errorf("after a reseed: %v, %v", nsNames(all), err)
		}
	})
}
