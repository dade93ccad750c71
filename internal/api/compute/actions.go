package compute

import (
	"sort"

	"github.com/kumocloud/kumo/internal/mv"
)

// Action is one action of a route that dispatches on the body's first key
// (POST .../action): the route's path, the key, the policy rule that
// guards it and the microversions it exists at (zero: all).
type Action struct {
	Path, Name, Rule string
	MinVer, MaxVer   mv.Version
}

// Actions lists every action the compute API dispatches, for tests that
// walk them.
func Actions() []Action {
	var out []Action
	for name, a := range (&handlers{}).serverActionHandlers() {
		out = append(out, Action{Path: "/servers/{server_id}/action", Name: name, Rule: a.policy, MinVer: a.minVer, MaxVer: a.maxVer})
	}
	for name, rule := range flavorActionRules {
		out = append(out, Action{Path: "/flavors/{flavor_id}/action", Name: name, Rule: rule})
	}
	for name := range aggregateActionSchemas {
		out = append(out, Action{Path: "/os-aggregates/{aggregate_id}/action", Name: name, Rule: aggregateRule(name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Name < out[j].Path+out[j].Name })
	return out
}
