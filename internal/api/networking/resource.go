package networking

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/policy"
)

// resource describes one Neutron resource to the shared machinery: its
// names, the path parameter of one object, how the policy target of an
// object is found and what its policy rules are called.
type resource struct {
	collection
	// Singular is the body key of one object ("network"); the rules are
	// <action>_<singular> (create_network, get_network:tags).
	Singular string
	// Param is the path parameter naming one object ("network_id").
	Param string
	// Target looks the object up whoever asks (Neutron loads it elevated)
	// and returns the attributes its rules read (project_id, shared,
	// router:external, network:project_id), or its NotFound.
	Target func(c *api.Call, id string) (policy.Target, error)
	// NotFound is the resource's 404 (NetworkNotFound).
	NotFound func(id string) error
	// Extension marks a resource an extension brings, which the v2.0
	// resource list leaves out as Neutron lists its core resources only.
	Extension bool
}

// rule names one of the resource's rules: rule("get") is get_network,
// rule("get", "tags") get_network:tags.
func (r resource) rule(action string, attr ...string) string {
	name := action + "_" + r.Singular
	for _, a := range attr {
		name += ":" + a
	}
	return name
}

// path is the collection's path, or one object's with suffix.
func (r resource) path(suffix ...string) string {
	p := "/v2.0/" + r.segment()
	if len(suffix) == 0 {
		return p
	}
	p += "/{" + r.Param + "}"
	for _, s := range suffix {
		p += s
	}
	return p
}

// objectTarget is the route Target of calls on one object: its rules
// are checked against the object, and a missing object is its NotFound.
func (r resource) objectTarget(c *api.Call) (policy.Target, error) {
	return r.Target(c, c.Param(r.Param))
}

// visible reports whether the caller may see the object the call names:
// a refusal on an object the caller may not get is its NotFound
// (Neutron's base.py "pretend that it doesn't exist").
func (r resource) visible(c *api.Call) bool {
	t, err := r.objectTarget(c)
	return err == nil && c.Allowed(r.rule("get"), t)
}

// itemTarget is the policy target of a listed or shown view: what
// Neutron's per-item get_<resource> check reads.
func itemTarget(v view) policy.Target {
	t := policy.Target{}
	for _, k := range []string{"project_id", "tenant_id", "network:project_id", "network:tenant_id"} {
		if s, ok := v[k].(string); ok {
			t[k] = s
		}
	}
	for _, k := range []string{"shared", "router:external"} {
		if b, ok := v[k].(bool); ok {
			t[k] = pyBool(b)
		}
	}
	return t
}

// pyBool is str() of a Python bool, as targets hold booleans.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
