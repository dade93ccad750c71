package api

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kumocloud/kumo/internal/errs"
)

// Request text that a database cannot hold (PostgreSQL refuses NUL and
// invalid UTF-8 in any text value) is dealt with here, once for every
// route, so that each API answers it alike on SQLite and PostgreSQL:
//
//   - path parameters: invalid UTF-8 reads as U+FFFD, as Keystone's
//     werkzeug decodes paths (Nova and Glance hand the handler a Latin-1
//     reading of the bytes, which names nothing either), so the route
//     answers as for any unknown id: GET /servers/%FF is Nova's 404
//     "Instance \ufffd could not be found.". A NUL is the 404 of an
//     unknown URL: no id holds one, and upstream, on MySQL, looks it up
//     and finds nothing;
//   - query keys and values: invalid UTF-8 is Nova's 400 "Query string
//     is not UTF-8 encoded" and Glance's 400 "Error decoding your
//     request...", and reads as U+FFFD in Keystone (werkzeug). A NUL is
//     a 400 in every API: upstream passes it to MySQL, which matches
//     nothing, or to PostgreSQL, which fails; kumo cannot do the first;
//   - JSON bodies: invalid UTF-8 is each API's malformed-body 400 (Nova
//     "Malformed request body", Keystone "Expecting to find valid JSON
//     ...", Glance "Error decoding your request..."); a NUL or a lone
//     UTF-16 surrogate (\ud800) in a string gets the same answer, since
//     no database column can store either.

// TextRules are one API's answers to request text kumo does not pass on.
// The zero value answers with generic messages and reads invalid UTF-8
// in queries as U+FFFD.
type TextRules struct {
	// QueryNotUTF8 is the 400 message for a query that is not UTF-8;
	// empty reads the invalid bytes as U+FFFD instead.
	QueryNotUTF8 string
	// QueryNUL is the 400 message for a NUL in the query parameter name
	// or its value.
	QueryNUL func(name, value string) string
	// BadBody is the 400 message for a body that is not UTF-8 or has a
	// NUL or lone surrogate in a string.
	BadBody string
}

// checkRequest applies the rules to c's path parameters and query,
// replacing invalid UTF-8 where the rules read it as U+FFFD.
func (t *TextRules) checkRequest(c *Call) error {
	for name, v := range c.params {
		if strings.IndexByte(v, 0) >= 0 {
			return errs.NotFound("The resource could not be found.")
		}
		if !utf8.ValidString(v) {
			c.params[name] = replaceInvalid(v)
		}
	}
	return t.checkQuery(c.Req)
}

func (t *TextRules) checkQuery(r *http.Request) error {
	raw := r.URL.RawQuery
	if plainQuery(raw) {
		return nil
	}
	// Parsed as Call.Query parses it, so what is checked is what
	// handlers see.
	q, _ := url.ParseQuery(raw)
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names) // the first offender named is always the same one
	valid := true
	for _, k := range names {
		for _, s := range append([]string{k}, q[k]...) {
			if strings.IndexByte(s, 0) >= 0 {
				return errs.Invalid("%s", t.queryNUL(k, q.Get(k)))
			}
			valid = valid && utf8.ValidString(s)
		}
	}
	if valid {
		return nil
	}
	if t.QueryNotUTF8 != "" {
		return errs.Invalid("%s", t.QueryNotUTF8)
	}
	clean := make(url.Values, len(q))
	for k, vs := range q {
		k = replaceInvalid(k)
		for _, v := range vs {
			clean[k] = append(clean[k], replaceInvalid(v))
		}
	}
	r.URL.RawQuery = clean.Encode()
	return nil
}

func (t *TextRules) queryNUL(name, value string) string {
	if t.QueryNUL != nil {
		return t.QueryNUL(name, value)
	}
	return "Invalid query parameter " + name + ": NUL characters are not allowed"
}

// checkBody applies the rules to a JSON body.
func (t *TextRules) checkBody(b []byte) error {
	if jsonTextOK(b) {
		return nil
	}
	if t.BadBody != "" {
		return errs.Invalid("%s", t.BadBody)
	}
	return errs.Invalid("Malformed request body")
}

// plainQuery reports whether a raw query has nothing to check: no
// escapes, and only printable ASCII.
func plainQuery(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '%' || c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// replaceInvalid replaces each byte that is not part of a UTF-8
// character with U+FFFD, as Python's errors="replace" does.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// jsonTextOK reports whether b is UTF-8 without NUL, and no \u escape in
// it is \u0000 or a surrogate without its pair. Malformed escapes are
// left for the JSON decoder to refuse.
func jsonTextOK(b []byte) bool {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return true
		}
		i += j
		if i+1 >= len(b) {
			return true
		}
		if b[i+1] != 'u' {
			i += 2 // \" \\ \n ...: the next byte is taken, whatever it is
			continue
		}
		r, ok := hex4(b[i+2:])
		switch {
		case !ok:
			i += 2
			continue
		case r == 0:
			return false
		case r >= 0xDC00 && r <= 0xDFFF: // a low surrogate first
			return false
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := hex4(b[min(i+8, len(b)):])
			if !ok || !bytes.HasPrefix(b[i+6:], []byte(`\u`)) || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 12
			continue
		}
		i += 6
	}
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// declaredTooLarge reports whether r declares a body (Content-Length)
// over the middleware's limit, so it can be refused before it is read.
// The image upload route is exempt whatever the Content-Type: the image
// service bounds uploads itself, and answers 415 for other types (the
// body limit still holds for those if read).
func declaredTooLarge(r *http.Request) bool {
	ri, ok := r.Context().Value(requestInfoKey{}).(*requestInfo)
	uploadRoute := r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/image/") && strings.HasSuffix(r.URL.Path, "/file")
	return ok && ri.maxBody > 0 && r.ContentLength > ri.maxBody && !uploadRoute
}
