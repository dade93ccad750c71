package api

import (
	"net/http/httptest"
	"testing"
)

func TestJSONTextOK(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"plain", `{"k": "v"}`, true},
		{"escapes", `{"k": "a\"b\\c\n\u00e9\u20ac"}`, true},
		{"surrogate pair", `{"k": "\ud83d\ude00"}`, true},
		{"surrogate pair, upper case", `{"k": "\uD83D\uDE00"}`, true},
		{"escaped backslash before u0000", `{"k": "\\u0000"}`, true},
		{"raw UTF-8", `{"k": "é😀"}`, true},
		{"escaped NUL", `{"k": "v\u0000"}`, false},
		{"escaped NUL in a key", `{"k\u0000": "v"}`, false},
		{"raw NUL", "{\"k\": \"v\x00\"}", false},
		{"invalid UTF-8", "{\"k\": \"\xff\"}", false},
		{"lone high surrogate", `{"k": "\ud800"}`, false},
		{"lone high surrogate at the end", `"\ud800`, false},
		{"high surrogate then a letter", `{"k": "\ud800\u0041"}`, false},
		{"lone low surrogate", `{"k": "\udc00x"}`, false},
		{"truncated escape", `{"k": "\u00`, true}, // the decoder refuses it
		{"backslash at the end", `\`, true},
	} {
		if got := jsonTextOK([]byte(tc.body)); got != tc.ok {
			t.Errorf("%s: jsonTextOK(%q) = %v, want %v", tc.name, tc.body, got, tc.ok)
		}
	}
}

func TestReplaceInvalid(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abc":        "abc",
		"\xff":       "\ufffd",
		"a\xff\xfeb": "a\ufffd\ufffdb",
		"é\xc3":      "é\ufffd",
	} {
		if got := replaceInvalid(in); got != want {
			t.Errorf("replaceInvalid(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQueryRules: a query with NUL or invalid UTF-8 is refused, or read
// with U+FFFD where the rules say so; a plain query is left alone.
func TestQueryRules(t *testing.T) {
	t.Parallel()
	strict := &TextRules{QueryNotUTF8: "not UTF-8", QueryNUL: func(name, value string) string { return "NUL in " + name }}
	lenient := &TextRules{}
	for _, tc := range []struct {
		name, query string
		rules       *TextRules
		err         string
		rewritten   string // the query handlers see; "" if unchanged
	}{
		{"plain", "name=web&limit=2", strict, "", ""},
		{"escaped UTF-8", "name=%C3%A9", strict, "", ""},
		{"invalid UTF-8 value", "name=%FF", strict, "not UTF-8", ""},
		{"invalid UTF-8 key", "%BA=0", strict, "not UTF-8", ""},
		{"NUL value", "a=1&name=x%00", strict, "NUL in name", ""},
		{"NUL key", "%00=1", strict, "NUL in \x00", ""},
		{"NUL, lenient", "name=%00", lenient, "Invalid query parameter name: NUL characters are not allowed", ""},
		{"invalid UTF-8, lenient", "name=%FF&b=2", lenient, "", "b=2&name=%EF%BF%BD"},
	} {
		r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
		err := tc.rules.checkQuery(r)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%s: checkQuery = %q, want %q", tc.name, got, tc.err)
		}
		want := tc.rewritten
		if want == "" {
			want = tc.query
		}
		if r.URL.RawQuery != want {
			t.Errorf("%s: query %q, want %q", tc.name, r.URL.RawQuery, want)
		}
	}
}
