package identity

import (
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestProjectTags(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p, err := f.svc.CreateProject(f.ctx, Project{Name: "tagged", Enabled: true, Tags: []string{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := f.svc.AddProjectTag(f.ctx, p.ID, "c"); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.RemoveProjectTag(f.ctx, p.ID, "a"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, f.svc.RemoveProjectTag(f.ctx, p.ID, "a"), errs.KindNotFound)
		got, err := f.svc.GetProject(f.ctx, p.ID)
		if err != nil || !slices.Equal(got.Tags, []string{"b", "c"}) {
			t.Fatalf("tags %v %v, want [b c]", got.Tags, err)
		}
		tests := []struct {
			name   string
			filter ProjectFilter
			want   bool
		}{
			{"all present", ProjectFilter{Tags: []string{"b", "c"}}, true},
			{"one missing", ProjectFilter{Tags: []string{"a", "b"}}, false},
			{"any", ProjectFilter{TagsAny: []string{"a", "c"}}, true},
			{"not all", ProjectFilter{NotTags: []string{"b", "c"}}, false},
			{"none of", ProjectFilter{NotTagsAny: []string{"x", "a"}}, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ps, err := f.svc.ListProjects(f.ctx, tc.filter)
				if err != nil {
					t.Fatal(err)
				}
				found := slices.ContainsFunc(ps, func(x Project) bool { return x.ID == p.ID })
				if found != tc.want {
					t.Errorf("listed %v, want %v", found, tc.want)
				}
			})
		}
		_, err = f.svc.UpdateProject(f.ctx, p.ID, ProjectPatch{Tags: &[]string{"dup", "dup"}})
		wantKind(t, err, errs.KindInvalid)
	})
}
