package identity

import (
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/identity"
)

// obj is a JSON object under construction.
type obj = map[string]any

// v3 is the versioned base every link starts from.
func v3(c *api.Call) string { return c.BaseURL + "/v3" }

// selfLink is the links object of one resource.
func selfLink(c *api.Call, path string) obj { return obj{"self": v3(c) + path} }

// collection is a list body with Keystone's links object; self repeats
// the request's path and query.
func collection(c *api.Call, key string, items []obj) obj {
	if items == nil {
		items = []obj{}
	}
	self := c.BaseURL + strings.TrimPrefix(c.Req.URL.Path, Mount)
	if c.Req.URL.RawQuery != "" {
		self += "?" + c.Req.URL.RawQuery
	}
	return obj{key: items, "links": obj{"self": self, "previous": nil, "next": nil}}
}

// nullable renders "" as JSON null, as Keystone shows unset columns.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func domainView(c *api.Call, d *identity.Domain) obj {
	return obj{
		"id": d.ID, "name": d.Name, "description": d.Description, "enabled": d.Enabled,
		"tags": []string{}, "options": obj{}, "links": selfLink(c, "/domains/"+d.ID),
	}
}

func projectView(c *api.Call, p *identity.Project) obj {
	if p.IsDomain {
		return domainAsProjectView(c, &identity.Domain{ID: p.ID, Name: p.Name, Description: p.Description, Enabled: p.Enabled})
	}
	parent := p.ParentID
	if parent == "" {
		parent = p.DomainID // a top-level project's parent is its domain
	}
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return withExtra(obj{
		"id": p.ID, "name": p.Name, "domain_id": p.DomainID, "description": p.Description,
		"enabled": p.Enabled, "parent_id": parent, "is_domain": false, "tags": tags,
		"options": obj{}, "links": selfLink(c, "/projects/"+p.ID),
	}, p.Extra)
}

// withExtra adds extra attributes to a view without hiding defined ones.
func withExtra(v obj, extra map[string]any) obj {
	for k, x := range extra {
		if _, defined := v[k]; !defined {
			v[k] = x
		}
	}
	return v
}

// domainAsProjectView renders a domain created through POST /v3/projects
// with is_domain true.
func domainAsProjectView(c *api.Call, d *identity.Domain) obj {
	return obj{
		"id": d.ID, "name": d.Name, "domain_id": nil, "description": d.Description,
		"enabled": d.Enabled, "parent_id": nil, "is_domain": true, "tags": []string{},
		"options": obj{}, "links": selfLink(c, "/projects/"+d.ID),
	}
}

func userView(c *api.Call, u *identity.User) obj {
	options := u.Options
	if options == nil {
		options = obj{}
	}
	v := obj{
		"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": u.Enabled,
		"password_expires_at": nil, "options": options, "links": selfLink(c, "/users/"+u.ID),
	}
	// Keystone shows these only when they are set.
	if u.DefaultProjectID != "" {
		v["default_project_id"] = u.DefaultProjectID
	}
	if u.Description != "" {
		v["description"] = u.Description
	}
	if u.Email != "" {
		v["email"] = u.Email
	}
	return withExtra(v, u.Extra)
}

func roleView(c *api.Call, r *identity.Role) obj {
	return withExtra(obj{
		"id": r.ID, "name": r.Name, "domain_id": nullable(r.DomainID), "description": nullable(r.Description),
		"options": obj{}, "links": selfLink(c, "/roles/"+r.ID),
	}, r.Extra)
}

func views[T any](c *api.Call, items []T, view func(*api.Call, *T) obj) []obj {
	out := make([]obj, 0, len(items))
	for i := range items {
		out = append(out, view(c, &items[i]))
	}
	return out
}
