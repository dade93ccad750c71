package identity

// Small readers of a request's JSON object under one key, with the
// messages of Keystone's schema validator, for the OS-FEDERATION and
// OS-OAUTH1 bodies.

import (
	"slices"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// fields is a body's object under its key, read field by field.
type fields struct {
	key string
	m   map[string]any
}

// memberBody reads the object under key: absent is an empty object
// unless required; other top-level keys are refused when strict.
func memberBody(c *api.Call, key string, required, strict bool) (*fields, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := decodeBytes(b, &body); err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errs.Invalid("Invalid input for field '/': None is not of type 'object'")
	}
	if strict {
		var extra []string
		for k := range body {
			if k != key {
				extra = append(extra, "'"+k+"'")
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return nil, errs.Invalid("Invalid input for field '/': Additional properties are not allowed (%s %s unexpected)",
				strings.Join(extra, ", "), wasWere(len(extra)))
		}
	}
	v, ok := body[key]
	if !ok {
		if required {
			return nil, errs.Invalid("Invalid input for field '/': '%s' is a required property", key)
		}
		return &fields{key: key, m: map[string]any{}}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errs.Invalid("Invalid input for field '%s': %s is not of type 'object'", key, jsonText(v))
	}
	return &fields{key: key, m: m}, nil
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func (f *fields) invalid(name, format string, args ...any) error {
	return errs.Invalid("Invalid input for field '"+f.key+"/"+name+"': "+format, args...)
}

// only refuses properties other than allowed.
func (f *fields) only(allowed ...string) error {
	var extra []string
	for k := range f.m {
		if !slices.Contains(allowed, k) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return errs.Invalid("Invalid input for field '%s': Additional properties are not allowed (%s %s unexpected)",
		f.key, strings.Join(extra, ", "), wasWere(len(extra)))
}

// need refuses a missing property.
func (f *fields) need(names ...string) error {
	for _, n := range names {
		if _, ok := f.m[n]; !ok {
			return errs.Invalid("Invalid input for field '%s': '%s' is a required property", f.key, n)
		}
	}
	return nil
}

// str reads a string (set: present; null allowed when nullable).
func (f *fields) str(name string, nullable bool, maxLen int) (v *string, set bool, err error) {
	x, ok := f.m[name]
	if !ok {
		return nil, false, nil
	}
	if x == nil && nullable {
		return nil, true, nil
	}
	s, isStr := x.(string)
	if !isStr {
		want := "'string'"
		if nullable {
			want = "'string', 'null'"
		}
		return nil, true, f.invalid(name, "%s is not of type %s", jsonText(x), want)
	}
	if maxLen > 0 && len(s) > maxLen {
		return nil, true, f.invalid(name, "'%s' is too long", s)
	}
	return &s, true, nil
}

// boolean reads a boolean as Keystone's parameter_types.boolean: JSON
// true or false, or their spellings as strings.
func (f *fields) boolean(name string) (*bool, error) {
	x, ok := f.m[name]
	if !ok {
		return nil, nil
	}
	switch v := x.(type) {
	case bool:
		return &v, nil
	case string:
		switch strings.ToLower(v) {
		case "true", "t", "yes", "y", "on", "1":
			t := true
			return &t, nil
		case "false", "f", "no", "n", "off", "0":
			fl := false
			return &fl, nil
		}
	}
	return nil, f.invalid(name, "%s is not of type 'boolean'", jsonText(x))
}

// integer reads an integer or null with a minimum.
func (f *fields) integer(name string, min int) (v *int, set bool, err error) {
	x, ok := f.m[name]
	if !ok {
		return nil, false, nil
	}
	if x == nil {
		return nil, true, nil
	}
	n, isNum := x.(float64)
	if !isNum || n != float64(int(n)) {
		return nil, true, f.invalid(name, "%s is not of type 'integer', 'null'", jsonText(x))
	}
	if int(n) < min {
		return nil, true, f.invalid(name, "%d is less than the minimum of %d", int(n), min)
	}
	i := int(n)
	return &i, true, nil
}
