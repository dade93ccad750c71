package api

import (
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// Policy decides whether a caller may use a route.
type Policy struct {
	// Anonymous routes need no token at all (version documents, token issue).
	Anonymous bool
	// Check returns nil to allow or a domain error (usually Forbidden).
	Check func(c *Call) error
}

// Public needs no token.
var Public = Policy{Anonymous: true}

// Authenticated allows any caller with a valid token.
var Authenticated = Policy{}

// AdminOnly allows callers holding the admin role.
var AdminOnly = Policy{Check: func(c *Call) error {
	if c.IsAdmin() {
		return nil
	}
	return errs.Forbidden("Policy doesn't allow this operation to be performed.")
}}

func (p Policy) check(c *Call) error {
	if p.Check == nil {
		return nil
	}
	return p.Check(c)
}

// Route is one endpoint: method and path pattern (segments in braces are
// parameters), the policy that guards it, the handler, and for compute
// routes the microversion range it exists in (zero values mean "all").
type Route struct {
	Method  string
	Path    string
	Policy  Policy
	Handler Handler
	MinVer  mv.Version
	MaxVer  mv.Version
	// Name labels the route in metrics; defaults to Path.
	Name string
}

type compiledRoute struct {
	Route
	segs []string
}

// Router matches a request path to a route. Matching is literal segments
// first, so "/flavors/detail" beats "/flavors/{id}".
type Router struct {
	routes    []compiledRoute
	firstSegs map[string]bool // computed once; read by concurrent requests
}

// NewRouter compiles routes.
func NewRouter(routes []Route) *Router {
	rt := &Router{}
	for _, r := range routes {
		if r.Name == "" {
			r.Name = r.Path
		}
		rt.routes = append(rt.routes, compiledRoute{Route: r, segs: splitPath(r.Path)})
	}
	rt.firstSegs = map[string]bool{}
	for _, r := range rt.routes {
		if len(r.segs) > 0 && !isParam(r.segs[0]) {
			rt.firstSegs[r.segs[0]] = true
		}
	}
	return rt
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the route for method and path. It returns the route and its
// parameters; when only the method is wrong, methodMismatch is true.
func (rt *Router) match(method, path string, v mv.Version, versioned bool) (r *compiledRoute, params map[string]string, methodMismatch bool) {
	segs := splitPath(path)
	bestScore := -1
	versionMiss := false
	for i := range rt.routes {
		cr := &rt.routes[i]
		score, ok := matchSegs(cr.segs, segs)
		if !ok {
			continue
		}
		if versioned && !inRange(cr.Route, v) {
			// Nova answers 404, not 405, for a method that exists only
			// at other microversions.
			versionMiss = versionMiss || cr.Method == method
			continue
		}
		if cr.Method != method && !(method == "HEAD" && cr.Method == "GET") {
			methodMismatch = true
			continue
		}
		if score > bestScore {
			bestScore, r = score, cr
		}
	}
	if r == nil {
		return nil, nil, methodMismatch && !versionMiss
	}
	params = map[string]string{}
	for i, s := range r.segs {
		if isParam(s) {
			params[s[1:len(s)-1]] = segs[i]
		}
	}
	return r, params, false
}

func inRange(r Route, v mv.Version) bool {
	if r.MinVer != (mv.Version{}) && v.Less(r.MinVer) {
		return false
	}
	if r.MaxVer != (mv.Version{}) && r.MaxVer.Less(v) {
		return false
	}
	return true
}

func isParam(s string) bool { return len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' }

// matchSegs reports whether the path matches the pattern; the score counts
// literal segments so literal routes win over parameters.
func matchSegs(pattern, path []string) (int, bool) {
	if len(pattern) != len(path) {
		return 0, false
	}
	score := 0
	for i, p := range pattern {
		if isParam(p) {
			if path[i] == "" {
				return 0, false
			}
			continue
		}
		if p != path[i] {
			return 0, false
		}
		score++
	}
	return score, true
}

// isFirstSegment reports whether seg is the literal first segment of some
// route ("servers", "flavors"); compute uses it to tell a project id in
// the URL from a collection name.
func (rt *Router) isFirstSegment(seg string) bool { return rt.firstSegs[seg] }
