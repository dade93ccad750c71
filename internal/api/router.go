package api

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

// Route is one endpoint: method and path pattern (segments in braces are
// parameters), the policy rule that guards it, the handler, and for
// compute routes the microversion range it exists in (zero values mean
// "all").
type Route struct {
	Method string
	Path   string
	// Rule names the rule of the service's policy set that a caller must
	// pass; the service checks it before the handler runs. Every route
	// that needs a token names one.
	Rule string
	// Anonymous routes need no token and no rule (version documents, token
	// issue).
	Anonymous bool
	// Target, when set, adds what the rule compares to the service's
	// default target (the owner of the object the path names, say).
	Target func(c *Call) (policy.Target, error)
	// RuleFor, when set, picks the rule of a call in Rule's stead, for
	// the calls upstream guards by their query (Keystone's trust list
	// filtered on its trustor or trustee). Rule stays the unfiltered one.
	RuleFor func(c *Call) string
	// Deferred leaves Rule to the handler, which checks it (Call.Authorize)
	// where upstream does: after the body and the object the path names
	// have passed upstream's earlier checks (Glance's add_location checks
	// the image's status before its policy).
	Deferred bool
	Handler  Handler
	MinVer   mv.Version
	MaxVer   mv.Version
	// Name labels the route in metrics; defaults to Path.
	Name string
	// Actions are the rows of an action route (POST .../action, Rule
	// policy.Action), which dispatches on the body's first key: its
	// handler picks the row, answers for an action that does not exist at
	// the request's microversion (Action.Exists) and checks the row's
	// rule.
	Actions []Action
}

// Action is one action of an action route, a row like a route: the body
// key that names it, the rule that guards it and the microversions it
// exists at (zero values mean "all").
type Action struct {
	Name   string
	Rule   string
	MinVer mv.Version
	MaxVer mv.Version
}

// Exists reports whether the action exists at v.
func (a Action) Exists(v mv.Version) bool { return inRange(a.MinVer, a.MaxVer, v) }

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

// NewRouter compiles routes. A route must either be anonymous or name a
// rule: one that does neither is a programming error and panics.
func NewRouter(routes []Route) *Router {
	rt := &Router{}
	for _, r := range routes {
		if r.Anonymous == (r.Rule != "") {
			panic(fmt.Sprintf("route %s %s: exactly one of Anonymous and Rule must be set", r.Method, r.Path))
		}
		if (r.Rule == policy.Action) != (len(r.Actions) > 0) {
			panic(fmt.Sprintf("route %s %s: an action route has Rule policy.Action and its actions, nothing else does", r.Method, r.Path))
		}
		for _, a := range r.Actions {
			if a.Name == "" || a.Rule == "" {
				panic(fmt.Sprintf("route %s %s: action %q needs a name and a rule", r.Method, r.Path, a.Name))
			}
		}
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

// Routes returns the route table, in the order it was given.
func (rt *Router) Routes() []Route {
	out := make([]Route, len(rt.routes))
	for i, r := range rt.routes {
		out[i] = r.Route
	}
	return out
}

// Params lists the parameter names of a path pattern, in order.
func Params(pattern string) []string {
	var out []string
	for _, s := range splitPath(pattern) {
		if isParam(s) && !slices.Contains(out, s[1:len(s)-1]) {
			out = append(out, s[1:len(s)-1])
		}
	}
	return out
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
		if versioned && !inRange(cr.MinVer, cr.MaxVer, v) {
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

// inRange reports whether v lies in [minVer, maxVer]; a zero bound is
// open.
func inRange(minVer, maxVer, v mv.Version) bool {
	if minVer != (mv.Version{}) && v.Less(minVer) {
		return false
	}
	if maxVer != (mv.Version{}) && maxVer.Less(v) {
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
