package compute

// Request validation for the flavor APIs, reproducing the checks and
// messages of Nova's JSON schemas (nova/api/openstack/compute/schemas).
// jsonschema reports the error nearest the document root first, so
// problems are collected with their depth and the shallowest one wins.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
)

// schemaErrors collects validation failures in schema order.
type schemaErrors struct {
	// relaxed drops unknown keys instead of failing, as Nova does for the
	// legacy v2 endpoint.
	relaxed bool
	depth   []int
	msgs    []string
}

// newSchemaErrors starts a validation for c's endpoint.
func newSchemaErrors(c *api.Call) *schemaErrors { return &schemaErrors{relaxed: isLegacyV2(c)} }

// isLegacyV2 reports whether c came through the /v2 endpoint.
func isLegacyV2(c *api.Call) bool { return strings.HasSuffix(c.BaseURL, "/v2") }

// add records a failure at path (the keys leading to the bad instance).
// Nova prefixes nested failures with the last key and the value.
func (e *schemaErrors) add(path []string, value any, msg string) {
	if len(path) > 0 {
		msg = fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s", path[len(path)-1], pyStr(value), msg)
	}
	e.addRaw(len(path), msg)
}

// addRaw records a message shown as is (format checks such as names).
func (e *schemaErrors) addRaw(depth int, msg string) {
	e.depth = append(e.depth, depth)
	e.msgs = append(e.msgs, msg)
}

// err is the best failure as a 400, or nil.
func (e *schemaErrors) err() error {
	if len(e.msgs) == 0 {
		return nil
	}
	best := 0
	for i, d := range e.depth {
		if d < e.depth[best] {
			best = i
		}
	}
	return errs.Invalid("%s", e.msgs[best])
}

// checkObject validates that v is an object with the required keys and no
// keys outside allowed; it returns the object (nil when v is not one).
func (e *schemaErrors) checkObject(path []string, v any, required, allowed []string) map[string]any {
	obj, ok := v.(map[string]any)
	if !ok {
		e.add(path, v, fmt.Sprintf("%s is not of type 'object'", api.PyRepr(v)))
		return nil
	}
	for _, r := range required {
		if _, ok := obj[r]; !ok {
			e.add(path, v, fmt.Sprintf("%s is a required property", api.PyRepr(r)))
		}
	}
	if allowed != nil && !e.relaxed {
		var extra []string
		for k := range obj {
			if !slices.Contains(allowed, k) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			e.add(path, v, js.AdditionalPropertiesMessage(extra))
		}
	}
	return obj
}

// checkType reports whether v has one of types ("number" includes
// integers), recording the failure otherwise.
func (e *schemaErrors) checkType(path []string, v any, types ...string) bool {
	t := js.TypeOf(v)
	for _, want := range types {
		if want == t || (want == "number" && t == "integer") {
			return true
		}
	}
	quoted := make([]string, len(types))
	for i, x := range types {
		quoted[i] = api.PyRepr(x)
	}
	e.add(path, v, fmt.Sprintf("%s is not of type %s", api.PyRepr(v), strings.Join(quoted, ", ")))
	return false
}

// checkLength applies minLength/maxLength to strings (in characters).
func (e *schemaErrors) checkLength(path []string, v any, minLen, maxLen int) {
	s, ok := v.(string)
	if !ok {
		return
	}
	n := len([]rune(s))
	if n < minLen {
		e.add(path, v, fmt.Sprintf("%s is too short", api.PyRepr(v)))
	}
	if maxLen >= 0 && n > maxLen {
		e.add(path, v, fmt.Sprintf("%s is too long", api.PyRepr(v)))
	}
}

// checkPattern applies a pattern to strings; shown is the pattern as Nova
// spells it in its message.
func (e *schemaErrors) checkPattern(path []string, v any, re *regexp.Regexp, shown string) {
	if s, ok := v.(string); ok && !re.MatchString(s) {
		e.add(path, v, fmt.Sprintf("%s does not match %s", api.PyRepr(v), api.PyRepr(shown)))
	}
}

// checkRange applies minimum (exclusive when exclusiveMin) and maximum.
func (e *schemaErrors) checkRange(path []string, v any, minimum float64, exclusiveMin bool, maximum float64, maxShown string) {
	f, shown, ok := js.NumberOf(v)
	if !ok {
		return
	}
	if exclusiveMin {
		// Stock jsonschema: exclusiveMinimum only looks at numbers.
		if _, isNum := v.(json.Number); isNum && f <= minimum {
			e.add(path, v, fmt.Sprintf("%s is less than or equal to the minimum of %s", shown, js.FormatNumber(minimum)))
		}
	} else if f < minimum {
		e.add(path, v, fmt.Sprintf("%s is less than the minimum of %s", shown, js.FormatNumber(minimum)))
	}
	if f > maximum {
		e.add(path, v, fmt.Sprintf("%s is greater than the maximum of %s", shown, maxShown))
	}
}

// pyStr renders v as Python's str() would: strings bare, the rest as repr.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return api.PyRepr(v)
}

func sortStrings(s []string) { slices.Sort(s) }
