package jsonschema_test

import (
	"strings"
	"testing"

	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
)

// server is a small schema in the shape of Nova's bodies.
var server = js.Object([]string{"server"}, js.Property{Name: "server", Schema: js.Object([]string{"name"},
	js.Property{Name: "name", Schema: js.Schema{js.Type("string"), js.Format("name"), js.MinLength(1), js.MaxLength(8)}},
	js.Property{Name: "count", Schema: js.Schema{js.Type("integer", "string"), js.Pattern("^[0-9]*$"), js.Minimum(1), js.Maximum(3)}},
	js.Property{Name: "kind", Schema: js.Schema{js.Type("string"), js.Enum("HARD", "SOFT")}},
	js.Property{Name: "id", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
	js.Property{Name: "ip", Schema: js.Schema{js.Type("string"), js.Format("ipv4")}},
	js.Property{Name: "data", Schema: js.Schema{js.Type("string"), js.Format("base64")}},
	js.Property{Name: "tags", Schema: js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("string"), js.MinLength(1)}),
		js.MinItems(1), js.MaxItems(2), js.UniqueItems()}},
	js.Property{Name: "metadata", Schema: append(js.Schema{js.Type("object")},
		js.PatternProperties(`^[a-z]+$`, `^[a-z]+$`, js.Schema{js.Type("string")})...)},
	js.Property{Name: "net", Schema: js.Schema{js.OneOf(js.Schema{js.Type("string")}, js.Schema{js.Type("string", "null")})}},
)})

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		relaxed    bool
		want       string // the 400's message, "" when valid
	}{
		{"valid", `{"server": {"name": "a", "count": 2, "kind": "SOFT", "tags": ["x"], "metadata": {"k": "v"}}}`, false, ""},
		{"numeric string counts", `{"server": {"name": "a", "count": "3"}}`, false, ""},
		{"not an object", `[]`, false, "[] is not of type 'object'"},
		{"required", `{"server": {}}`, false, "Invalid input for field/attribute server. Value: {}. 'name' is a required property"},
		{"additional, in request order", `{"server": {"name": "a", "zz": 1, "aa": 2}}`, false,
			"Invalid input for field/attribute server. Value: {'name': 'a', 'zz': 1, 'aa': 2}. Additional properties are not allowed ('aa', 'zz' were unexpected)"},
		{"relaxed drops additional", `{"server": {"name": "a", "zz": 1}}`, true, ""},
		{"first failure in keyword order", `{"server": {"name": 5, "count": 9}}`, false,
			"Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"},
		{"raw format message", `{"server": {"name": " a"}}`, false,
			"An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"empty string", `{"server": {"name": ""}}`, false, "Invalid input for field/attribute name. Value: . '' should be non-empty"},
		{"too long", `{"server": {"name": "abcdefghi"}}`, false, "Invalid input for field/attribute name. Value: abcdefghi. 'abcdefghi' is too long"},
		{"pattern", `{"server": {"name": "a", "count": "x"}}`, false, "Invalid input for field/attribute count. Value: x. 'x' does not match '^[0-9]*$'"},
		{"minimum", `{"server": {"name": "a", "count": 0}}`, false, "Invalid input for field/attribute count. Value: 0. 0 is less than the minimum of 1"},
		{"maximum", `{"server": {"name": "a", "count": "4"}}`, false, "Invalid input for field/attribute count. Value: 4. 4 is greater than the maximum of 3"},
		{"integer", `{"server": {"name": "a", "count": 1.5}}`, false, "Invalid input for field/attribute count. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
		{"bool is not a number", `{"server": {"name": "a", "count": true}}`, false, "Invalid input for field/attribute count. Value: True. True is not of type 'integer', 'string'"},
		{"enum", `{"server": {"name": "a", "kind": "hard"}}`, false, "Invalid input for field/attribute kind. Value: hard. 'hard' is not one of ['HARD', 'SOFT']"},
		{"uuid", `{"server": {"name": "a", "id": "nope"}}`, false, "Invalid input for field/attribute id. Value: nope. 'nope' is not a 'uuid'"},
		{"uuid without dashes", `{"server": {"name": "a", "id": "6d1c4f3e00004000800000000000000a"}}`, false, ""},
		{"ipv4", `{"server": {"name": "a", "ip": "::1"}}`, false, "Invalid input for field/attribute ip. Value: ::1. '::1' is not a 'ipv4'"},
		{"base64 padding", `{"server": {"name": "a", "data": "YQ"}}`, false, "Invalid input for field/attribute data. Value: YQ. 'YQ' is not a 'base64'"},
		{"base64", `{"server": {"name": "a", "data": "YQ=="}}`, false, ""},
		{"items name the index", `{"server": {"name": "a", "tags": ["x", ""]}}`, false, "Invalid input for field/attribute 1. Value: . '' should be non-empty"},
		{"min items", `{"server": {"name": "a", "tags": []}}`, false, "Invalid input for field/attribute tags. Value: []. [] should be non-empty"},
		{"max items", `{"server": {"name": "a", "tags": ["a", "b", "c"]}}`, false, "Invalid input for field/attribute tags. Value: ['a', 'b', 'c']. ['a', 'b', 'c'] is too long"},
		{"unique items", `{"server": {"name": "a", "tags": ["a", "a"]}}`, false, "Invalid input for field/attribute tags. Value: ['a', 'a']. ['a', 'a'] has non-unique elements"},
		{"pattern properties value", `{"server": {"name": "a", "metadata": {"k": 1}}}`, false, "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
		{"pattern properties key, also relaxed", `{"server": {"name": "a", "metadata": {"K": "v", "Z": "v"}}}`, true,
			"Invalid input for field/attribute metadata. Value: {'K': 'v', 'Z': 'v'}. 'K', 'Z' do not match any of the regexes: '^[a-z]+$'"},
		{"one of: none", `{"server": {"name": "a", "net": 1}}`, false, "Invalid input for field/attribute net. Value: 1. 1 is not valid under any of the given schemas"},
		{"one of: both", `{"server": {"name": "a", "net": "x"}}`, false, "Invalid input for field/attribute net. Value: x. 'x' is valid under each of the given schemas"},
		{"one of: exactly one", `{"server": {"name": "a", "net": null}}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, order, err := js.Decode([]byte(tc.body))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			run := &js.Run{Relaxed: tc.relaxed, Order: order}
			f := server.Validate(run, nil, body)
			switch {
			case f == nil && tc.want != "":
				t.Fatalf("valid, want %q", tc.want)
			case f != nil && tc.want == "":
				t.Fatalf("%q, want valid", f.Err(run))
			case f != nil:
				err := f.Err(run)
				if !errs.Is(err, errs.KindInvalid) || errs.Message(err) != tc.want {
					t.Fatalf("got  %q\nwant %q", errs.Message(err), tc.want)
				}
			}
		})
	}
}

// TestRelaxedDropsUnknownKeys: a relaxed run removes what it does not
// know, so the handler never sees it.
func TestRelaxedDropsUnknownKeys(t *testing.T) {
	body, order, err := js.Decode([]byte(`{"server": {"name": "a", "extra": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f := server.Validate(&js.Run{Relaxed: true, Order: order}, nil, body); f != nil {
		t.Fatalf("relaxed: %v", f.Message)
	}
	if _, has := body.(map[string]any)["server"].(map[string]any)["extra"]; has {
		t.Fatal("extra key kept")
	}
}

func TestDecodeKeepsKeyOrder(t *testing.T) {
	for _, tc := range []struct{ body, keys, repr string }{
		{`{"b": 1, "a": [true, null, 1.5], "c": {"y": "s", "x": 2}}`, "b a c", `{'b': 1, 'a': [True, None, 1.5], 'c': {'y': 's', 'x': 2}}`},
		{`{"k": 1, "k": 2, "j": 3}`, "k j", `{'k': 2, 'j': 3}`},
		{`{}`, "", `{}`},
	} {
		v, order, err := js.Decode([]byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		run := &js.Run{Order: order}
		keys := run.Keys(v.(map[string]any))
		if got := strings.Join(keys, " "); got != tc.keys {
			t.Errorf("%s: keys %q, want %q", tc.body, got, tc.keys)
		}
		if got := run.Repr(v); got != tc.repr {
			t.Errorf("%s: repr %s, want %s", tc.body, got, tc.repr)
		}
	}
}

func TestTypeOf(t *testing.T) {
	v, _, err := js.Decode([]byte(`[null, true, "s", 1, 1.0, 1.5, {}, []]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"null", "boolean", "string", "integer", "integer", "number", "object", "array"}
	for i, x := range v.([]any) {
		if got := js.TypeOf(x); got != want[i] {
			t.Errorf("TypeOf(%v) = %s, want %s", x, got, want[i])
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		s               string
		name, printable bool
	}{
		{"web-1", true, true},
		{"", true, true},
		{" lead", false, true},
		{"trail ", false, true},
		{"in side", true, true},
		{"tab\there", false, false},
		{"line\u2028sep", false, false},
	} {
		if got := js.ValidName(tc.s); got != tc.name {
			t.Errorf("ValidName(%q) = %v", tc.s, got)
		}
		if got := js.Printable(tc.s); got != tc.printable {
			t.Errorf("Printable(%q) = %v", tc.s, got)
		}
	}
}

func TestUUIDLike(t *testing.T) {
	for s, want := range map[string]bool{
		"6d1c4f3e-0000-4000-8000-000000000000":          true,
		"6D1C4F3E-0000-4000-8000-000000000000":          true,
		"{6d1c4f3e-0000-4000-8000-000000000000}":        true,
		"urn:uuid:6d1c4f3e-0000-4000-8000-000000000000": true,
		"6d1c4f3e00004000800000000000000":               false,
		"6d1c4f3e-0000-4000-8000-00000000000g":          false,
	} {
		if got := js.UUIDLike(s); got != want {
			t.Errorf("UUIDLike(%q) = %v, want %v", s, got, want)
		}
	}
}
