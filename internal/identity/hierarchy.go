package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// maxProjectDepth is Keystone's max_project_tree_depth (5) plus one for
// the domain, which Keystone counts as a project.
const maxProjectDepth = 5 + 1

// domainProject is a domain as Keystone shows it through /v3/projects:
// a project acting as a domain.
func domainProject(d *Domain) *Project {
	return &Project{ID: d.ID, Name: d.Name, Description: d.Description, Enabled: d.Enabled,
		IsDomain: true, Tags: []string{}, Extra: map[string]any{}}
}

// getProjectOrDomain is getProject that also finds a domain, as a project
// acting as a domain; a miss is the project's 404.
func getProjectOrDomain(ctx context.Context, q store.Querier, id string) (*Project, error) {
	p, err := getProject(ctx, q, id)
	if !errs.Is(err, errs.KindNotFound) {
		return p, err
	}
	d, derr := getDomain(ctx, q, id)
	if errs.Is(derr, errs.KindNotFound) {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	return domainProject(d), nil
}

// GetProjectOrDomain returns a project by id, or the domain of that id as
// a project acting as a domain: Keystone keeps domains as projects, so
// /v3/projects/{id} reaches both.
func (s *Service) GetProjectOrDomain(ctx context.Context, id string) (*Project, error) {
	return getProjectOrDomain(ctx, s.db, id)
}

// ProjectParents lists a project's parents from the nearest up, ending
// with its domain as a project acting as a domain, as Keystone's
// list_project_parents does; a domain has none.
func (s *Service) ProjectParents(ctx context.Context, id string) ([]Project, error) {
	p, err := getProjectOrDomain(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return parentsOf(ctx, s.db, p)
}

// ProjectSubtree lists the projects under a project (or, for a domain, all
// the domain's projects) level by level, as Keystone's
// list_projects_in_subtree does.
func (s *Service) ProjectSubtree(ctx context.Context, id string) ([]Project, error) {
	p, err := getProjectOrDomain(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return subtreeOf(ctx, s.db, p)
}

func parentsOf(ctx context.Context, q store.Querier, p *Project) ([]Project, error) {
	if p.IsDomain {
		return nil, nil
	}
	byID, err := projectsOfDomain(ctx, q, p.DomainID)
	if err != nil {
		return nil, err
	}
	var out []Project
	seen := map[string]bool{p.ID: true}
	for cur := p; cur.ParentID != ""; {
		parent, ok := byID[cur.ParentID]
		if !ok || seen[parent.ID] {
			return nil, fmt.Errorf("project %s: broken parent chain at %s", p.ID, cur.ParentID)
		}
		seen[parent.ID] = true
		out = append(out, *parent)
		cur = parent
	}
	d, err := getDomain(ctx, q, p.DomainID)
	if err != nil {
		return nil, err
	}
	return append(out, *domainProject(d)), nil
}

func subtreeOf(ctx context.Context, q store.Querier, p *Project) ([]Project, error) {
	domainID := p.DomainID
	if p.IsDomain {
		domainID = p.ID
	}
	byID, err := projectsOfDomain(ctx, q, domainID)
	if err != nil {
		return nil, err
	}
	children := map[string][]*Project{}
	for _, c := range byID {
		parent := c.ParentID
		if parent == "" {
			parent = c.DomainID // a top-level project's parent is its domain
		}
		children[parent] = append(children[parent], c)
	}
	for _, cs := range children {
		// Keystone gives no order; name, id keeps answers stable.
		sortProjects(cs)
	}
	var out []Project
	level := []string{p.ID}
	seen := map[string]bool{p.ID: true}
	for len(level) > 0 {
		var next []string
		for _, pid := range level {
			for _, c := range children[pid] {
				if seen[c.ID] {
					continue
				}
				seen[c.ID] = true
				out = append(out, *c)
				next = append(next, c.ID)
			}
		}
		level = next
	}
	return out, nil
}

// projectsOfDomain indexes a domain's projects by id.
func projectsOfDomain(ctx context.Context, q store.Querier, domainID string) (map[string]*Project, error) {
	ps, err := queryProjects(ctx, q, `SELECT `+projectColumns+` FROM projects WHERE domain_id = ?`, domainID)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Project, len(ps))
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	return byID, nil
}

func sortProjects(ps []*Project) {
	slices.SortFunc(ps, func(a, b *Project) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// checkNewProjectBranch enforces Keystone's rules for a new project under
// parent (a project, or its domain for a top-level one): every project of
// the branch enabled, and no deeper than max_project_tree_depth.
func checkNewProjectBranch(ctx context.Context, q store.Querier, parent *Project) error {
	parents, err := parentsOf(ctx, q, parent)
	if err != nil {
		return err
	}
	branch := append(parents, *parent)
	for _, p := range branch {
		if !p.Enabled {
			return errs.Invalid("cannot create a project in a branch containing a disabled project: %s", p.ID)
		}
	}
	if len(branch)+1 > maxProjectDepth {
		return errs.Forbidden("Max hierarchy depth reached for %s branch.", parent.ID)
	}
	return nil
}

// checkEnabledChange enforces Keystone's rules for enabling (no disabled
// parent) and disabling (no enabled project below) a regular project.
func checkEnabledChange(ctx context.Context, q store.Querier, p *Project, enabled bool) error {
	if enabled && !p.Enabled {
		parents, err := parentsOf(ctx, q, p)
		if err != nil {
			return err
		}
		for _, x := range parents {
			if !x.Enabled {
				return errs.Forbidden("Cannot enable project %s since it has disabled parents", p.ID)
			}
		}
	}
	if !enabled && p.Enabled {
		subtree, err := subtreeOf(ctx, q, p)
		if err != nil {
			return err
		}
		for _, x := range subtree {
			if x.Enabled {
				return errs.Forbidden("Cannot disable project %s since its subtree contains enabled projects.", p.ID)
			}
		}
	}
	return nil
}
