package compute

import (
	"sort"

	"github.com/kumocloud/kumo/internal/mv"
)

// Action is one row of an action route of the compute route table (POST
// .../action dispatches on the body's first key), with its route's path.
type Action struct {
	Path, Name, Rule string
	MinVer, MaxVer   mv.Version
}

// Actions lists every action of the compute route table, sorted by path
// and name, for tests that walk them.
func Actions() []Action {
	var out []Action
	for _, r := range Routes(Deps{}) {
		for _, a := range r.Actions {
			out = append(out, Action{Path: r.Path, Name: a.Name, Rule: a.Rule, MinVer: a.MinVer, MaxVer: a.MaxVer})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Name < out[j].Path+out[j].Name })
	return out
}
