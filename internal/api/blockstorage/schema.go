package blockstorage

import (
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
)

// The pieces of cinder/api/validation/parameter_types.py the schemas
// below are made of.
var (
	// extraSpecs is parameter_types.extra_specs (metadata too).
	extraSpecsKey  = `^[a-zA-Z0-9-_:. /]{1,255}$`
	extraSpecsGoRE = `^[a-zA-Z0-9\-_:. /]{1,255}$`
	extraSpecs     = append(js.Schema{js.Type("object")},
		js.PatternProperties(extraSpecsGoRE, extraSpecsKey, js.Schema{js.Type("string"), js.MaxLength(255)})...)
	metadataAllowsNull = append(js.Schema{js.Type("object", "null")},
		js.PatternProperties(extraSpecsGoRE, extraSpecsKey, js.Schema{js.Type("string"), js.MaxLength(255)})...)
	optionalUUID = js.Schema{js.OneOf(js.Schema{js.Type("null")}, js.Schema{js.Type("string"), js.Format("uuid")})}
	volumeSize   = js.Schema{js.Type("integer", "string", "null"), js.PatternGo(`^[0-9]+$`, `^[0-9]+$`),
		js.Minimum(1), js.Maximum(2147483647)}
	availabilityZone = js.Schema{js.Type("string", "null"), js.MinLength(1), js.MaxLength(255)}
	nameZeroMin      = js.Schema{js.Type("string", "null"), js.MinLength(0), js.MaxLength(255)}
	boolean          = js.Schema{js.Type("boolean", "string"), js.Enum(true, "True", "TRUE", "true", "1", "ON", "On", "on",
		"YES", "Yes", "yes", "y", "t", false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f")}
	optionalBoolean = js.Schema{js.OneOf(js.Schema{js.Type("null")}, boolean)}
	// nameText is the name_non_mandatory_remove_white_spaces format:
	// trimmed, at most 255 characters.
	nameText        = js.Schema{js.Type("string", "null"), textLength("name")}
	descriptionText = js.Schema{js.Type("string", "null"), textLength("description")}
)

// textLength is Cinder's *_non_mandatory_remove_white_spaces formats:
// the trimmed text may not pass 255 characters (check_string_length's
// InvalidInput).
func textLength(entity string) js.Keyword {
	return func(_ *js.Run, _ []string, v any) *js.Failure {
		s, ok := v.(string)
		if n := len([]rune(strings.TrimSpace(s))); ok && n > 255 {
			return &js.Failure{Raw: true, Message: fmt.Sprintf("Invalid input received: %s has %d characters, more than 255.", entity, n)}
		}
		return nil
	}
}

// decodeBody reads the body and validates it against schema, with the
// messages of Cinder's validation; it returns the decoded object.
func decodeBody(c *api.Call, schema js.Schema) (map[string]any, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, errs.Invalid("Malformed request body")
	}
	body, order, err := js.Decode(raw)
	if err != nil {
		return nil, errs.Invalid("Malformed request body")
	}
	run := &js.Run{Order: order}
	if f := schema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, errs.Invalid("Malformed request body")
	}
	return obj, nil
}

// str is the string at key of m, with ok false when absent or null.
func str(m map[string]any, key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

// strPtr is the trimmed string at key, nil when absent or null.
func strPtr(m map[string]any, key string) *string {
	s, ok := m[key].(string)
	if !ok {
		return nil
	}
	s = strings.TrimSpace(s)
	return &s
}

// stringMap converts a validated metadata object.
func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

// boolValue reads a validated boolean (true, "true", "yes", ...).
func boolValue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		b, _ := parseBool(t)
		return b
	}
	return false
}

var (
	// description is parameter_types.description.
	description   = js.Schema{js.Type("string", "null"), js.MinLength(0), js.MaxLength(255)}
	uuidAllowNull = js.Schema{js.OneOf(js.Schema{js.Type("string"), js.Format("uuid")}, js.Schema{js.Type("null")})}
)

// anyRequired is anyOf [{required: [a]}, {required: [b]}, ...].
func anyRequired(names ...string) js.Keyword {
	return func(r *js.Run, path []string, v any) *js.Failure {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, n := range names {
			if _, has := m[n]; has {
				return nil
			}
		}
		return js.FailAt(path, v, "%s is not valid under any of the given schemas", r.Repr(v))
	}
}

// pickAction reads an action body and picks its row by the body's one
// key, with Cinder's messages: an unknown key is "There is no such
// action".
func pickAction(c *api.Call, actions []api.Action) (api.Action, []byte, error) {
	raw, err := c.Body()
	if err != nil {
		return api.Action{}, nil, err
	}
	body, _, err := js.Decode(raw)
	if err != nil {
		return api.Action{}, nil, errs.Invalid("Malformed request body")
	}
	m, ok := body.(map[string]any)
	if !ok || len(m) != 1 {
		return api.Action{}, nil, errs.Invalid("Malformed request body")
	}
	var key string
	for k := range m {
		key = k
	}
	for _, a := range actions {
		if a.Name == key && a.Exists(c.Version) {
			return a, raw, nil
		}
	}
	return api.Action{}, nil, errs.Invalid("There is no such action: %s. Verify the request body and Content-Type header and try again.", key)
}

// validateRaw validates an action body read by pickAction.
func validateRaw(raw []byte, schema js.Schema) (map[string]any, error) {
	body, order, err := js.Decode(raw)
	if err != nil {
		return nil, errs.Invalid("Malformed request body")
	}
	run := &js.Run{Order: order}
	if f := schema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return body.(map[string]any), nil
}
