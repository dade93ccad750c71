// Package jsonschema validates decoded JSON request bodies the way the
// OpenStack services do with Python's jsonschema (Draft 2020-12), and
// words the first failure as they do.
//
// jsonschema walks each schema's keywords in the order they are written,
// descending into properties and items as it meets them, and the services
// report the FIRST error it yields. So a Schema here is an ordered list of
// keywords and validation stops at the first failure, which makes the
// message the one the real service returns. Values are shown as Python
// prints them, dicts in the request's key order: Decode records it.
//
// Compute imports the package as js (js.Object, js.Type, ...).
package jsonschema

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// Failure is a validation failure: where, the failing value and the
// jsonschema message. Raw messages are shown as they are, as Nova does
// for its name formats.
type Failure struct {
	Path    []string
	Value   any
	Message string
	Raw     bool
}

// Err renders f as the API's 400.
func (f *Failure) Err(r *Run) error {
	if f.Raw || len(f.Path) == 0 {
		return errs.Invalid("%s", f.Message)
	}
	return errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s", f.Path[len(f.Path)-1], r.Str(f.Value), f.Message)
}

// Run carries what a validation needs besides the instance.
type Run struct {
	// Relaxed drops unknown keys instead of failing (Nova's legacy /v2).
	Relaxed bool
	// Order has the request's key order of each object, so values show
	// as Python prints the dicts json.loads made.
	Order KeyOrder
}

// Keyword checks one keyword against v at path.
type Keyword func(r *Run, path []string, v any) *Failure

// Schema is an ordered list of keywords.
type Schema []Keyword

// Validate checks v at path and returns the first failure, or nil.
func (s Schema) Validate(r *Run, path []string, v any) *Failure {
	for _, k := range s {
		if f := k(r, path, v); f != nil {
			return f
		}
	}
	return nil
}

// FailAt is a failure of v at path with a formatted message.
func FailAt(path []string, v any, format string, args ...any) *Failure {
	return &Failure{Path: path, Value: v, Message: fmt.Sprintf(format, args...)}
}

// Child is path extended by key, without sharing path's array.
func Child(path []string, key string) []string {
	out := make([]string, len(path), len(path)+1)
	copy(out, path)
	return append(out, key)
}

// Type is the "type" keyword; bools are never numbers, whole numbers
// are integers (jsonschema's Draft 2020-12 checker).
func Type(types ...string) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		t := TypeOf(v)
		for _, want := range types {
			if want == t || (want == "number" && t == "integer") {
				return nil
			}
		}
		quoted := make([]string, len(types))
		for i, x := range types {
			quoted[i] = api.PyRepr(x)
		}
		return FailAt(path, v, "%s is not of type %s", r.Repr(v), strings.Join(quoted, ", "))
	}
}

// Format is the "format" keyword for uuid, ipv4, ipv6, base64 and Nova's
// name formats; like jsonschema it only looks at strings. An unknown
// format is a programming error and panics when checked.
func Format(format string) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		var valid bool
		switch format {
		case "uuid":
			valid = UUIDLike(s)
		case "ipv4":
			a, err := netip.ParseAddr(s)
			valid = err == nil && a.Is4() && !strings.Contains(s, ":")
		case "ipv6":
			a, err := netip.ParseAddr(s)
			valid = err == nil && a.Is6() && a.Zone() == ""
		case "base64":
			valid = pyBase64Valid(s)
		case "name":
			if !ValidName(s) {
				return &Failure{Raw: true, Message: "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."}
			}
			return nil
		case "name_with_leading_trailing_spaces":
			if strings.TrimSpace(s) == "" || !Printable(s) {
				return &Failure{Raw: true, Message: "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character"}
			}
			return nil
		default:
			panic("unknown format " + format)
		}
		if !valid {
			return FailAt(path, v, "%s is not a %s", r.Repr(v), api.PyRepr(format))
		}
		return nil
	}
}

// Pattern is the "pattern" keyword (search semantics, strings only);
// shown is the pattern as the service spells it.
func Pattern(shown string) Keyword { return PatternGo(shown, shown) }

// PatternGo is Pattern for patterns Go spells differently.
func PatternGo(goRE, shown string) Keyword {
	re := regexp.MustCompile(goRE)
	return func(r *Run, path []string, v any) *Failure {
		if s, ok := v.(string); ok && !re.MatchString(s) {
			return FailAt(path, v, "%s does not match %s", r.Repr(v), api.PyRepr(shown))
		}
		return nil
	}
}

// MinLength and MaxLength count characters, with jsonschema's wording.
func MinLength(n int) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		if s, ok := v.(string); ok && len([]rune(s)) < n {
			if n == 1 {
				return FailAt(path, v, "%s should be non-empty", r.Repr(v))
			}
			return FailAt(path, v, "%s is too short", r.Repr(v))
		}
		return nil
	}
}

// MaxLength: see MinLength.
func MaxLength(n int) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		if s, ok := v.(string); ok && len([]rune(s)) > n {
			if n == 0 {
				return FailAt(path, v, "%s is expected to be empty", r.Repr(v))
			}
			return FailAt(path, v, "%s is too long", r.Repr(v))
		}
		return nil
	}
}

// Minimum and Maximum are Nova's relaxed versions, which also read
// numeric strings.
func Minimum(m float64) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		if f, shown, ok := NumberOf(v); ok && f < m {
			return FailAt(path, v, "%s is less than the minimum of %s", shown, FormatNumber(m))
		}
		return nil
	}
}

// Maximum: see Minimum.
func Maximum(m float64) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		if f, shown, ok := NumberOf(v); ok && f > m {
			return FailAt(path, v, "%s is greater than the maximum of %s", shown, FormatNumber(m))
		}
		return nil
	}
}

// Enum is the "enum" keyword for string and boolean values, compared by
// JSON type and value.
func Enum(values ...any) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		for _, want := range values {
			if equal(v, want) {
				return nil
			}
		}
		shown := make([]string, len(values))
		for i, x := range values {
			shown[i] = api.PyRepr(x)
		}
		return FailAt(path, v, "%s is not one of [%s]", r.Repr(v), strings.Join(shown, ", "))
	}
}

func equal(a, b any) bool {
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

// Property is one entry of "properties".
type Property struct {
	Name   string
	Schema Schema
}

// Properties validates the listed properties present in an object, in
// order.
func Properties(props ...Property) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, p := range props {
			if pv, has := obj[p.Name]; has {
				if f := p.Schema.Validate(r, Child(path, p.Name), pv); f != nil {
					return f
				}
			}
		}
		return nil
	}
}

// Required is the "required" keyword.
func Required(names ...string) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, n := range names {
			if _, has := obj[n]; !has {
				return FailAt(path, v, "%s is a required property", api.PyRepr(n))
			}
		}
		return nil
	}
}

// NoAdditional is "additionalProperties": false for an object whose
// allowed keys are the names of props; a relaxed run drops unknown keys
// instead.
func NoAdditional(props ...Property) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		var extra []string
		for k := range obj {
			if !slices.ContainsFunc(props, func(p Property) bool { return p.Name == k }) {
				extra = append(extra, k)
			}
		}
		if len(extra) == 0 {
			return nil
		}
		if r.Relaxed {
			for _, k := range extra {
				delete(obj, k)
			}
			return nil
		}
		slices.Sort(extra)
		return FailAt(path, v, "%s", AdditionalPropertiesMessage(extra))
	}
}

// AdditionalPropertiesMessage is jsonschema's message for unexpected keys
// (sorted by the caller).
func AdditionalPropertiesMessage(extra []string) string {
	quoted := make([]string, len(extra))
	for i, x := range extra {
		quoted[i] = api.PyRepr(x)
	}
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(quoted, ", "), verb)
}

// Object is {"type": "object", "properties": ..., "required": ...,
// "additionalProperties": false}, the shape of most request bodies.
func Object(required []string, props ...Property) Schema {
	s := Schema{Type("object"), Properties(props...)}
	if len(required) > 0 {
		s = append(s, Required(required...))
	}
	return append(s, NoAdditional(props...))
}

// PatternProperties validates keys matching keyRE with valueSchema and,
// with additionalProperties false, fails on the others (also on a relaxed
// run: Nova keeps checking keys where patternProperties are given). shown
// is the pattern as the service spells it.
func PatternProperties(keyRE, shown string, valueSchema Schema) Schema {
	re := regexp.MustCompile(keyRE)
	return Schema{
		func(r *Run, path []string, v any) *Failure {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if re.MatchString(k) {
					if f := valueSchema.Validate(r, Child(path, k), obj[k]); f != nil {
						return f
					}
				}
			}
			return nil
		},
		func(r *Run, path []string, v any) *Failure {
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
			slices.Sort(extra)
			quoted := make([]string, len(extra))
			for i, x := range extra {
				quoted[i] = api.PyRepr(x)
			}
			verb := "does"
			if len(extra) > 1 {
				verb = "do"
			}
			return FailAt(path, v, "%s %s not match any of the regexes: %s", strings.Join(quoted, ", "), verb, api.PyRepr(shown))
		},
	}
}

// Items validates every item of an array; the path names the index.
func Items(item Schema) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, x := range arr {
			if f := item.Validate(r, Child(path, fmt.Sprint(i)), x); f != nil {
				return f
			}
		}
		return nil
	}
}

// MinItems is the "minItems" keyword.
func MinItems(n int) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		if arr, ok := v.([]any); ok && len(arr) < n {
			if n == 1 {
				return FailAt(path, v, "%s should be non-empty", r.Repr(v))
			}
			return FailAt(path, v, "%s is too short", r.Repr(v))
		}
		return nil
	}
}

// MaxItems is the "maxItems" keyword.
func MaxItems(n int) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		if arr, ok := v.([]any); ok && len(arr) > n {
			return FailAt(path, v, "%s is too long", r.Repr(v))
		}
		return nil
	}
}

// UniqueItems is "uniqueItems": true.
func UniqueItems() Keyword {
	return func(r *Run, path []string, v any) *Failure {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		seen := map[string]bool{}
		for _, x := range arr {
			b, _ := json.Marshal(x)
			if seen[string(b)] {
				return FailAt(path, v, "%s has non-unique elements", r.Repr(v))
			}
			seen[string(b)] = true
		}
		return nil
	}
}

// OneOf passes when exactly one alternative validates.
func OneOf(alternatives ...Schema) Keyword {
	return func(r *Run, path []string, v any) *Failure {
		valid := 0
		for _, alt := range alternatives {
			// Alternatives must not strip keys while being tried.
			probe := &Run{Order: r.Order}
			if alt.Validate(probe, path, v) == nil {
				valid++
			}
		}
		switch {
		case valid == 0:
			return FailAt(path, v, "%s is not valid under any of the given schemas", r.Repr(v))
		case valid > 1:
			return FailAt(path, v, "%s is valid under each of the given schemas", r.Repr(v))
		}
		return nil
	}
}
