package compute

import (
	"net/url"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// actionQuery is one of Nova's os-instance-actions query schemas: the
// known parameters (each single_param: one value) and whether others
// are rejected.
type actionQuery struct {
	rules  []flavorQueryRule
	strict bool
}

// actionListQueryRules is Nova's index query schema at c's version:
// anything goes before 2.58; then limit, marker and changes-since only;
// changes-before from 2.66.
func actionListQueryRules(c *api.Call) actionQuery {
	if !c.AtLeast(mv.V2_58) {
		return actionQuery{}
	}
	rules := []flavorQueryRule{
		{"limit", nonNegativeIntegerCheck},
		{"marker", anyString},
		{"changes-since", dateTimeCheck},
	}
	if c.AtLeast(mv.V2_66) {
		rules = append(rules, flavorQueryRule{"changes-before", dateTimeCheck})
	}
	return actionQuery{rules: rules, strict: true}
}

// actionShowQueryRules is the show query schema: no parameters, and
// from 2.102 none allowed.
func actionShowQueryRules(c *api.Call) actionQuery {
	return actionQuery{strict: c.AtLeast(mv.V2_102)}
}

// checkActionQuery validates the query as jsonschema would walk Nova's
// schema: each known parameter's values, then its single-value limit,
// then unknown parameters. It returns the known parameters; before the
// strict versions others are ignored.
func checkActionQuery(c *api.Call, s actionQuery) (url.Values, error) {
	q := c.Query()
	known := url.Values{}
	for _, r := range s.rules {
		vs, ok := q[r.name]
		if !ok {
			continue
		}
		for _, v := range vs {
			if msg := r.check(v); msg != "" {
				return nil, errs.Invalid("Invalid input for query parameters %s. Value: %s. %s", r.name, v, msg)
			}
		}
		if len(vs) > 1 {
			list := pyStringList(vs)
			return nil, errs.Invalid("Invalid input for query parameters %s. Value: %s. %s is too long", r.name, list, list)
		}
		known[r.name] = vs
	}
	if s.strict {
		var extra []string
		for k := range q {
			if _, ok := known[k]; !ok {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sortStrings(extra)
			return nil, errs.Invalid("%s", js.AdditionalPropertiesMessage(extra))
		}
	}
	return known, nil
}

// pyStringList is Python's repr of a list of strings.
func pyStringList(vs []string) string {
	quoted := make([]string, len(vs))
	for i, v := range vs {
		quoted[i] = api.PyRepr(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
