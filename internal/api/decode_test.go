package api_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

func TestDecodeJSONTakesOneValueOnly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"server": {"name": "a"}}`, true},
		{" \t\r\n{\"a\": 1}\n ", true},
		// A stray closing bracket after the value: the decoder stopped at
		// the value's end and took it for an enclosing value's (found by
		// FuzzDecodeJSON).
		{`{"server": {"name": "a"}}}`, false},
		{`{"a": 1}]`, false},
		{`[1]]`, false},
		{`{"a": 1} {"b": 2}`, false},
		{`{"a": 1} x`, false},
		{`{"a": 1`, false},
		{` `, false},
	} {
		var v any
		err := api.DecodeJSON([]byte(c.body), &v)
		if c.ok != (err == nil) {
			t.Errorf("DecodeJSON(%q) = %v, want ok %v", c.body, err, c.ok)
		}
		if err != nil && errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("DecodeJSON(%q): %v is not an errs.Invalid", c.body, err)
		}
	}
}
