package api_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// decodeTarget has the field types handlers decode bodies into.
type decodeTarget struct {
	Server *struct {
		Name     string            `json:"name"`
		Count    int               `json:"min_count"`
		Size     int64             `json:"size"`
		Ratio    float64           `json:"rxtx_factor"`
		Public   *bool             `json:"is_public"`
		Networks []map[string]any  `json:"networks"`
		Metadata map[string]string `json:"metadata"`
		Tags     []string          `json:"tags"`
		Raw      json.RawMessage   `json:"raw"`
	} `json:"server"`
}

// jsonTypeInMessage is the type a type-mismatch message names.
var jsonTypeInMessage = regexp.MustCompile(`is not of type '([^']*)'$`)

// FuzzDecodeJSON: api.DecodeJSON accepts exactly the bodies that are one
// JSON value (encoding/json's json.Valid), decodes them as encoding/json
// does, and refuses every other body with a 400 (errs.Invalid) whose
// type-mismatch message names a JSON type, never a Go one.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"server": {"name": "a", "min_count": 1, "metadata": {"k": "v"}, "tags": ["x"], "is_public": true}}`,
		`{"server": {"min_count": "1"}}`, `{"server": {"metadata": {"k": 1}}}`, `{"server": []}`,
		`{"a": 1}]`, `{"a": 1}}`, `[1, 2]`, `"x"`, `null`, `1e400`, ` `, ``, `{"a": "\u0000\ud800"}`,
		`{"server": {"size": 9223372036854775808}}`, `{"server": {"min_count": 1.5}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got any
		err := api.DecodeJSON(b, &got)
		if valid := json.Valid(b); (err == nil) != valid {
			t.Fatalf("DecodeJSON(%q) = %v, but json.Valid says %v", b, err, valid)
		}
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var want any
			if err := dec.Decode(&want); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeJSON(%q) = %#v, encoding/json %#v (%v)", b, got, want, err)
			}
		}
		checkDecodeError(t, b, err)
		var typed decodeTarget
		err = api.DecodeJSON(b, &typed)
		if err == nil && !json.Valid(b) {
			t.Fatalf("DecodeJSON(%q) into a struct accepted invalid JSON", b)
		}
		checkDecodeError(t, b, err)
	})
}

func checkDecodeError(t *testing.T, b []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errs.KindOf(err) != errs.KindInvalid || errs.Message(err) == "" {
		t.Fatalf("DecodeJSON(%q): %v (kind %v), want an errs.Invalid with a message", b, err, errs.KindOf(err))
	}
	if m := jsonTypeInMessage.FindStringSubmatch(errs.Message(err)); m != nil {
		switch m[1] {
		case "string", "integer", "number", "boolean", "object", "array":
		default:
			t.Fatalf("DecodeJSON(%q): %q names type %q, not a JSON type", b, errs.Message(err), m[1])
		}
	}
}
