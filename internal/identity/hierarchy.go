package identity

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
)

// domainProject is a domain as Keystone shows it through /v3/projects:
// a project acting as a domain.
func domainProject(d *Domain) *Project {
	return &Project{ID: d.ID, Name: d.Name, Description: d.Description, Enabled: d.Enabled,
		IsDomain: true, Tags: []string{}, Extra: map[string]any{}}
}

// GetProjectOrDomain returns a project by id, or the domain of that id as
// a project acting as a domain: Keystone keeps domains as projects, so
// /v3/projects/{id} reaches both.
func (s *Service) GetProjectOrDomain(ctx context.Context, id string) (*Project, error) {
	p, err := getProject(ctx, s.db, id)
	if !errs.Is(err, errs.KindNotFound) {
		return p, err
	}
	d, derr := getDomain(ctx, s.db, id)
	if errs.Is(derr, errs.KindNotFound) {
		return nil, err // the project's 404
	}
	if derr != nil {
		return nil, derr
	}
	return domainProject(d), nil
}

// ProjectParents lists a project's parents from the nearest up, ending
// with its domain as a project acting as a domain, as Keystone's
// list_project_parents does; a domain has none.
func (s *Service) ProjectParents(ctx context.Context, id string) ([]Project, error) {
	p, err := s.GetProjectOrDomain(ctx, id)
	if err != nil || p.IsDomain {
		return nil, err
	}
	byID, err := s.domainProjects(ctx, p.DomainID)
	if err != nil {
		return nil, err
	}
	var out []Project
	seen := map[string]bool{p.ID: true}
	for cur := p; cur.ParentID != ""; {
		parent, ok := byID[cur.ParentID]
		if !ok || seen[parent.ID] {
			return nil, fmt.Errorf("project %s: broken parent chain at %s", id, cur.ParentID)
		}
		seen[parent.ID] = true
		out = append(out, *parent)
		cur = parent
	}
	d, err := getDomain(ctx, s.db, p.DomainID)
	if err != nil {
		return nil, err
	}
	return append(out, *domainProject(d)), nil
}

// ProjectSubtree lists the projects under a project (or, for a domain, all
// the domain's projects) level by level, as Keystone's
// list_projects_in_subtree does.
func (s *Service) ProjectSubtree(ctx context.Context, id string) ([]Project, error) {
	p, err := s.GetProjectOrDomain(ctx, id)
	if err != nil {
		return nil, err
	}
	domainID := p.DomainID
	if p.IsDomain {
		domainID = p.ID
	}
	ps, err := s.ListProjects(ctx, ProjectFilter{DomainID: domainID})
	if err != nil {
		return nil, err
	}
	children := map[string][]Project{}
	for _, c := range ps {
		parent := c.ParentID
		if parent == "" {
			parent = c.DomainID // a top-level project's parent is its domain
		}
		children[parent] = append(children[parent], c)
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
				out = append(out, c)
				next = append(next, c.ID)
			}
		}
		level = next
	}
	return out, nil
}

// domainProjects indexes a domain's projects by id.
func (s *Service) domainProjects(ctx context.Context, domainID string) (map[string]*Project, error) {
	ps, err := s.ListProjects(ctx, ProjectFilter{DomainID: domainID})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Project, len(ps))
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	return byID, nil
}
