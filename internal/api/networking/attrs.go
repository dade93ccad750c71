package networking

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// attrs is the object of a create or update body ({"network": {...}}),
// with Neutron's checks of its attributes (neutron/api/v2/base.py
// prepare_request_body and neutron-lib's validators).
type attrs map[string]any

// attrSpec is what a resource accepts in a body: the attributes a POST
// may set and those a PUT may change; the others it knows are read-only.
type attrSpec struct {
	post, put []string
	readOnly  []string
}

// decodeAttrs reads {"<singular>": {...}} and refuses attributes the
// spec does not take for the method.
func decodeAttrs(c *api.Call, singular string, spec attrSpec, update bool) (attrs, error) {
	body, err := decodeBody(c)
	if err != nil {
		return nil, err
	}
	raw, ok := body[singular]
	if !ok {
		return nil, badRequest("Unable to find '%s' in request body", singular)
	}
	return checkAttrs(raw, singular, spec, update)
}

// decodeBody reads a write's body as Neutron's prepare_request_body
// does: a body Python reads as false is missing, one that is not an
// object holds invalid data.
func decodeBody(c *api.Call) (map[string]any, error) {
	var decoded any
	if err := c.DecodeJSON(&decoded); err != nil {
		return nil, err
	}
	if pyFalsy(decoded) {
		return nil, badRequest("Resource body required")
	}
	body, ok := decoded.(map[string]any)
	if !ok {
		return nil, badRequest("Body contains invalid data")
	}
	return body, nil
}

// checkAttrs takes one object of a body, refusing attributes the spec
// does not take for the method.
func checkAttrs(raw any, singular string, spec attrSpec, update bool) (attrs, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, badRequest("Invalid input for %s. Reason: '%v' is not a dictionary.", singular, raw)
	}
	a := attrs(obj)
	allowed := spec.post
	if update {
		allowed = spec.put
	}
	var unknown []string
	for k := range a {
		switch {
		case slices.Contains(allowed, k):
		case slices.Contains(spec.readOnly, k) || slices.Contains(spec.post, k):
			if update {
				return nil, badRequest("Cannot update read-only attribute %s", k)
			}
			return nil, badRequest("Attribute '%s' not allowed in POST", k)
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, badRequest("Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
	}
	return a, nil
}

// invalidAttr is base.py's 400 for a value a validator refuses.
func invalidAttr(key, reason string) error {
	return badRequest("Invalid input for %s. Reason: %s.", key, reason)
}

// str reads a string attribute of at most maxLen characters (0: any).
func (a attrs) str(key string, maxLen int) (*string, error) {
	v, ok := a[key]
	if !ok {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, invalidAttr(key, fmt.Sprintf("'%v' is not a valid string", pyRepr(v)))
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return nil, invalidAttr(key, fmt.Sprintf("'%s' exceeds maximum length of %d", s, maxLen))
	}
	return &s, nil
}

// boolean reads a boolean attribute; "true"/"false" strings are taken as
// neutron-lib's convert_to_boolean takes them.
func (a attrs) boolean(key string) (*bool, error) {
	v, ok := a[key]
	if !ok {
		return nil, nil
	}
	switch b := v.(type) {
	case bool:
		return &b, nil
	case string:
		if parsed, err := parseBool(b); err == nil {
			return &parsed, nil
		}
	case json.Number:
		if parsed, err := parseBool(b.String()); err == nil {
			return &parsed, nil
		}
	}
	return nil, invalidAttr(key, fmt.Sprintf("'%v' cannot be converted to boolean", pyRepr(v)))
}

// integer reads an integer attribute (a number or its text).
func (a attrs) integer(key string) (*int, error) {
	v, ok := a[key]
	if !ok {
		return nil, nil
	}
	var text string
	switch n := v.(type) {
	case json.Number:
		text = n.String()
	case string:
		text = n
	default:
		return nil, invalidAttr(key, fmt.Sprintf("'%v' is not an integer", pyRepr(v)))
	}
	var i int
	if _, err := fmt.Sscan(text, &i); err != nil || fmt.Sprint(i) != strings.TrimSpace(text) {
		return nil, invalidAttr(key, fmt.Sprintf("'%s' is not an integer", text))
	}
	return &i, nil
}

// strings reads a list of strings.
func (a attrs) strings(key string) (*[]string, error) {
	v, ok := a[key]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalidAttr(key, fmt.Sprintf("'%v' is not a list", pyRepr(v)))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, invalidAttr(key, fmt.Sprintf("'%v' is not a valid string", pyRepr(e)))
		}
		out = append(out, s)
	}
	return &out, nil
}

// dicts reads a list of objects whose values are strings, with the keys
// each must have.
func (a attrs) dicts(key string, keys ...string) (*[]map[string]string, error) {
	v, ok := a[key]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalidAttr(key, fmt.Sprintf("'%v' is not a list", pyRepr(v)))
	}
	out := make([]map[string]string, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, invalidAttr(key, fmt.Sprintf("'%v' is not a dictionary", pyRepr(e)))
		}
		d := map[string]string{}
		for _, k := range keys {
			s, ok := m[k].(string)
			if !ok {
				return nil, invalidAttr(key, fmt.Sprintf("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s",
					pySet(keys), pySet(mapKeys(m))))
			}
			d[k] = s
		}
		out = append(out, d)
	}
	return &out, nil
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pySet(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = "'" + k + "'"
	}
	return "{" + strings.Join(q, ", ") + "}"
}

// pyRepr prints a JSON value roughly as Python's str() would.
func pyRepr(v any) any {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return pyBool(x)
	}
	return v
}

// projectOf is the project a create is for: tenant_id or project_id from
// the body (which must agree), else the caller's.
func projectOf(c *api.Call, a attrs) (string, error) {
	t, err := a.str("tenant_id", 255)
	if err != nil {
		return "", err
	}
	p, err := a.str("project_id", 255)
	if err != nil {
		return "", err
	}
	switch {
	case t != nil && p != nil && *t != *p:
		return "", badRequest("'project_id' and 'tenant_id' do not match")
	case p != nil:
		return *p, nil
	case t != nil:
		return *t, nil
	}
	if c.ProjectID() == "" {
		return "", badRequest("'project_id' must be specified")
	}
	return c.ProjectID(), nil
}

// timestamp is Neutron's format of created_at and updated_at.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// standardAttrs puts the standard attributes every resource shows in v.
func standardAttrs(v view, project, description string, revision int, created, updated time.Time, tags []string) view {
	v["tenant_id"], v["project_id"] = project, project
	v["description"] = description
	v["revision_number"] = revision
	v["created_at"], v["updated_at"] = timestamp(created), timestamp(updated)
	v["tags"] = nonNil(tags)
	return v
}

// forbidden is a failed attribute rule (create_network:shared, ...):
// Neutron's 403 naming it.
func forbidden(c *api.Call, rule string, target map[string]string) error {
	if err := c.Authorize(rule, target); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return denied(rule)
		}
		return err
	}
	return nil
}

// pyFalsy reports whether Python reads a decoded JSON value as false.
func pyFalsy(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case json.Number:
		f, err := v.Float64()
		return err == nil && f == 0
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}
