package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

// malformedJSON is Keystone's 400 text for a body that is not JSON.
const malformedJSON = "Expecting to find valid JSON in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."

// decode reads the JSON body into dst with Keystone's 400 messages.
func decode(c *api.Call, dst any) error {
	_, err := decodeBody(c, dst)
	return err
}

// decodeBody is decode that also returns the body, for a second look.
func decodeBody(c *api.Call, dst any) ([]byte, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	return b, decodeBytes(b, dst)
}

// extraAttributes returns the members of the body's object under key
// that are not in known: Keystone keeps such attributes of users and
// projects and returns them as given.
func extraAttributes(b []byte, key string, known ...string) map[string]any {
	var body map[string]map[string]any
	if json.Unmarshal(b, &body) != nil {
		return nil
	}
	extra := map[string]any{}
	for k, v := range body[key] {
		if !slices.Contains(known, k) {
			extra[k] = v
		}
	}
	return extra
}

func decodeBytes(b []byte, dst any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errs.Invalid(malformedJSON)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := strings.ReplaceAll(te.Field, ".", "/")
			return errs.Invalid("Invalid input for field '%s': %s is not of type '%s'", field, te.Value, jsonType(te.Type))
		}
		return errs.Invalid(malformedJSON)
	}
	return nil
}

func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

// required is Keystone's schema error for a missing property.
func required(name string) error { return errs.Invalid("'%s' is a required property", name) }

// boolQuery reads a boolean filter like Keystone: absent is nil; "0",
// "false", "no" and "off" are false; anything else is true.
func boolQuery(c *api.Call, name string) *bool {
	q := c.Query()
	if !q.Has(name) {
		return nil
	}
	v := queryFlag(q.Get(name))
	return &v
}

// isTrue reads a flag as Keystone's query_filter_is_true: present and
// not "0" is true (include_names, include_subtree, parents_as_list, ...).
func isTrue(q url.Values, name string) bool {
	return q.Has(name) && q.Get(name) != "0"
}

// queryFlag is the truth of a flag parameter whose presence means true.
func queryFlag(v string) bool {
	switch strings.ToLower(v) {
	case "0", "f", "false", "n", "no", "off":
		return false
	}
	return true
}

// inexact reads Keystone's inexact filters (name__icontains=x, ...) on
// the given string attributes of a listing.
func inexact(c *api.Call, attrs ...string) []identity.Inexact {
	var out []identity.Inexact
	for key, vals := range c.Query() {
		for _, v := range vals {
			if f, ok := identity.ParseInexact(key, v, attrs...); ok {
				out = append(out, f)
			}
		}
	}
	return out
}
