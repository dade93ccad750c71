package compute

// A small JSON-schema evaluator for the server create body. Nova validates
// with jsonschema's Draft 2020-12 validator and reports the FIRST error it
// yields; jsonschema walks each schema's keywords in the order they are
// written, descending into properties and items as it meets them. So a
// schema here is an ordered list of keywords and validation stops at the
// first failure, which makes the message the one Nova returns.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// jsFail is a validation failure: where, the failing value and the
// jsonschema message (raw messages are shown as they are, as Nova does for
// its name formats).
type jsFail struct {
	path  []string
	value any
	msg   string
	raw   bool
}

// err renders f as Nova's 400.
func (f *jsFail) err(r *jsRun) error {
	if f.raw || len(f.path) == 0 {
		return errs.Invalid("%s", f.msg)
	}
	return errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s", f.path[len(f.path)-1], r.str(f.value), f.msg)
}

// jsRun carries what a validation needs besides the instance.
type jsRun struct {
	// relaxed drops unknown keys instead of failing (legacy /v2).
	relaxed bool
	// order has the request's key order of each object, so values show
	// as Python prints the dicts json.loads made.
	order jsKeyOrder
}

// jsKeyword checks one keyword against v at path.
type jsKeyword func(r *jsRun, path []string, v any) *jsFail

// jsSchema is an ordered list of keywords.
type jsSchema []jsKeyword

func (s jsSchema) validate(r *jsRun, path []string, v any) *jsFail {
	for _, k := range s {
		if f := k(r, path, v); f != nil {
			return f
		}
	}
	return nil
}

func jsFailAt(path []string, v any, format string, args ...any) *jsFail {
	return &jsFail{path: path, value: v, msg: fmt.Sprintf(format, args...)}
}

func jsChild(path []string, key string) []string {
	out := make([]string, len(path), len(path)+1)
	copy(out, path)
	return append(out, key)
}

// jsType is the "type" keyword; bools are never numbers, whole numbers
// are integers (jsonschema's Draft 2020-12 checker).
func jsType(types ...string) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		t := jsonType(v)
		for _, want := range types {
			if want == t || (want == "number" && t == "integer") {
				return nil
			}
		}
		quoted := make([]string, len(types))
		for i, x := range types {
			quoted[i] = api.PyRepr(x)
		}
		return jsFailAt(path, v, "%s is not of type %s", r.repr(v), strings.Join(quoted, ", "))
	}
}

// jsFormat is the "format" keyword for the formats the create body uses;
// like jsonschema it only looks at strings.
func jsFormat(format string) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		var valid bool
		switch format {
		case "uuid":
			valid = isUUIDLike(s)
		case "ipv4":
			a, err := netip.ParseAddr(s)
			valid = err == nil && a.Is4() && !strings.Contains(s, ":")
		case "ipv6":
			a, err := netip.ParseAddr(s)
			valid = err == nil && a.Is6() && a.Zone() == ""
		case "base64":
			valid = pyBase64Valid(s)
		case "name":
			if !validName(s) {
				return &jsFail{raw: true, msg: "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."}
			}
			return nil
		case "name_with_leading_trailing_spaces":
			if strings.TrimSpace(s) == "" || !validDescription(s) {
				return &jsFail{raw: true, msg: "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character"}
			}
			return nil
		default:
			panic("unknown format " + format)
		}
		if !valid {
			return jsFailAt(path, v, "%s is not a %s", r.repr(v), api.PyRepr(format))
		}
		return nil
	}
}

// isUUIDLike is oslo's is_uuid_like: any spelling uuid.UUID accepts whose
// canonical hex equals the input's hex digits.
func isUUIDLike(s string) bool {
	u, err := uuid.Parse(s)
	if err != nil {
		return false
	}
	norm := strings.ToLower(s)
	for _, p := range []string{"urn:", "uuid:"} {
		norm = strings.TrimPrefix(norm, p)
	}
	norm = strings.NewReplacer("{", "", "}", "", "-", "").Replace(norm)
	return strings.ReplaceAll(u.String(), "-", "") == norm
}

// pyBase64Valid reports whether Python's non-strict b64decode accepts s:
// characters outside the alphabet are skipped, and the data must end on
// a quantum boundary or with complete padding.
func pyBase64Valid(s string) bool {
	quad, pads := 0, 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return true
				}
			}
			continue
		}
		if !isBase64Char(ch) {
			continue
		}
		pads = 0
		quad = (quad + 1) % 4
	}
	return quad == 0
}

func isBase64Char(ch byte) bool {
	return ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/'
}

// jsPattern is the "pattern" keyword (search semantics, strings only);
// shown is the pattern as Nova spells it.
func jsPattern(shown string) jsKeyword {
	re := regexp.MustCompile(shown)
	return func(r *jsRun, path []string, v any) *jsFail {
		if s, ok := v.(string); ok && !re.MatchString(s) {
			return jsFailAt(path, v, "%s does not match %s", r.repr(v), api.PyRepr(shown))
		}
		return nil
	}
}

// jsPatternGo is jsPattern for patterns Go spells differently.
func jsPatternGo(goRE, shown string) jsKeyword {
	re := regexp.MustCompile(goRE)
	return func(r *jsRun, path []string, v any) *jsFail {
		if s, ok := v.(string); ok && !re.MatchString(s) {
			return jsFailAt(path, v, "%s does not match %s", r.repr(v), api.PyRepr(shown))
		}
		return nil
	}
}

// jsMinLength and jsMaxLength count characters, with jsonschema's wording.
func jsMinLength(n int) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		if s, ok := v.(string); ok && len([]rune(s)) < n {
			if n == 1 {
				return jsFailAt(path, v, "%s should be non-empty", r.repr(v))
			}
			return jsFailAt(path, v, "%s is too short", r.repr(v))
		}
		return nil
	}
}

func jsMaxLength(n int) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		if s, ok := v.(string); ok && len([]rune(s)) > n {
			if n == 0 {
				return jsFailAt(path, v, "%s is expected to be empty", r.repr(v))
			}
			return jsFailAt(path, v, "%s is too long", r.repr(v))
		}
		return nil
	}
}

// jsMinimum and jsMaximum are Nova's relaxed versions, which also read
// numeric strings.
func jsMinimum(m float64) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		if f, shown, ok := numberOf(v); ok && f < m {
			return jsFailAt(path, v, "%s is less than the minimum of %s", shown, pyNum(m))
		}
		return nil
	}
}

func jsMaximum(m float64) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		if f, shown, ok := numberOf(v); ok && f > m {
			return jsFailAt(path, v, "%s is greater than the maximum of %s", shown, pyNum(m))
		}
		return nil
	}
}

// jsEnum is the "enum" keyword; values are compared by JSON type and value.
func jsEnum(values ...any) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		for _, want := range values {
			if jsEqual(v, want) {
				return nil
			}
		}
		shown := make([]string, len(values))
		for i, x := range values {
			shown[i] = api.PyRepr(x)
		}
		return jsFailAt(path, v, "%s is not one of [%s]", r.repr(v), strings.Join(shown, ", "))
	}
}

func jsEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return false
}

// jsProperty is one entry of "properties".
type jsProperty struct {
	name   string
	schema jsSchema
}

// jsProperties validates the listed properties present in an object, in
// order.
func jsProperties(props ...jsProperty) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, p := range props {
			if pv, has := obj[p.name]; has {
				if f := p.schema.validate(r, jsChild(path, p.name), pv); f != nil {
					return f
				}
			}
		}
		return nil
	}
}

// jsRequired is the "required" keyword.
func jsRequired(names ...string) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, n := range names {
			if _, has := obj[n]; !has {
				return jsFailAt(path, v, "%s is a required property", api.PyRepr(n))
			}
		}
		return nil
	}
}

// jsNoAdditional is "additionalProperties": false for an object whose
// allowed keys are the names of props; the legacy endpoint drops unknown
// keys instead.
func jsNoAdditional(props ...jsProperty) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		var extra []string
		for k := range obj {
			known := false
			for _, p := range props {
				known = known || p.name == k
			}
			if !known {
				extra = append(extra, k)
			}
		}
		if len(extra) == 0 {
			return nil
		}
		if r.relaxed {
			for _, k := range extra {
				delete(obj, k)
			}
			return nil
		}
		sortStrings(extra)
		return jsFailAt(path, v, "%s", additionalMessage(extra))
	}
}

// jsObject is {"type": "object", "properties": ..., "required": ...,
// "additionalProperties": false}, the shape of most of the body.
func jsObject(required []string, props ...jsProperty) jsSchema {
	s := jsSchema{jsType("object"), jsProperties(props...)}
	if len(required) > 0 {
		s = append(s, jsRequired(required...))
	}
	return append(s, jsNoAdditional(props...))
}

// jsPatternProperties validates keys matching keyRE with valueSchema and,
// with additionalProperties false, fails on the others (also on /v2: Nova
// keeps checking keys where patternProperties are given). shown is the
// pattern as Nova spells it.
func jsPatternProperties(keyRE, shown string, valueSchema jsSchema) jsSchema {
	re := regexp.MustCompile(keyRE)
	return jsSchema{
		func(r *jsRun, path []string, v any) *jsFail {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sortStrings(keys)
			for _, k := range keys {
				if re.MatchString(k) {
					if f := valueSchema.validate(r, jsChild(path, k), obj[k]); f != nil {
						return f
					}
				}
			}
			return nil
		},
		func(r *jsRun, path []string, v any) *jsFail {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			var extra []string
			for k := range obj {
				if !re.MatchString(k) {
					extra = append(extra, k)
				}
			}
			if len(extra) == 0 {
				return nil
			}
			sortStrings(extra)
			quoted := make([]string, len(extra))
			for i, x := range extra {
				quoted[i] = api.PyRepr(x)
			}
			verb := "does"
			if len(extra) > 1 {
				verb = "do"
			}
			return jsFailAt(path, v, "%s %s not match any of the regexes: %s", strings.Join(quoted, ", "), verb, api.PyRepr(shown))
		},
	}
}

// jsItems validates every item of an array; the path names the index.
func jsItems(item jsSchema) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, x := range arr {
			if f := item.validate(r, jsChild(path, fmt.Sprint(i)), x); f != nil {
				return f
			}
		}
		return nil
	}
}

func jsMinItems(n int) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		if arr, ok := v.([]any); ok && len(arr) < n {
			if n == 1 {
				return jsFailAt(path, v, "%s should be non-empty", r.repr(v))
			}
			return jsFailAt(path, v, "%s is too short", r.repr(v))
		}
		return nil
	}
}

func jsMaxItems(n int) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		if arr, ok := v.([]any); ok && len(arr) > n {
			return jsFailAt(path, v, "%s is too long", r.repr(v))
		}
		return nil
	}
}

func jsUniqueItems() jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		seen := map[string]bool{}
		for _, x := range arr {
			b, _ := json.Marshal(x)
			if seen[string(b)] {
				return jsFailAt(path, v, "%s has non-unique elements", r.repr(v))
			}
			seen[string(b)] = true
		}
		return nil
	}
}

// jsOneOf passes when exactly one alternative validates.
func jsOneOf(alternatives ...jsSchema) jsKeyword {
	return func(r *jsRun, path []string, v any) *jsFail {
		valid := 0
		for _, alt := range alternatives {
			// Alternatives must not strip keys while being tried.
			probe := &jsRun{order: r.order}
			if alt.validate(probe, path, v) == nil {
				valid++
			}
		}
		switch {
		case valid == 0:
			return jsFailAt(path, v, "%s is not valid under any of the given schemas", r.repr(v))
		case valid > 1:
			return jsFailAt(path, v, "%s is valid under each of the given schemas", r.repr(v))
		}
		return nil
	}
}
