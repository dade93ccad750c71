package dashboard

import (
	"encoding/json"
	"html/template"
	"strings"
	"time"
)

// funcs are the templates' helpers; html/template escapes what they
// return for where it lands.
var funcs = template.FuncMap{
	"bytes": humanBytes,
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"deleteForm": newDeleteForm,
	"short":      shortID,
	"when":       shortTime,
	// str prints a decoded JSON value (admin tables read maps).
	"str": func(v any) string {
		switch t := v.(type) {
		case nil:
			return ""
		case string:
			return t
		}
		b, _ := json.Marshal(v)
		return string(b)
	},
}

// deleteForm is a list row's delete button: a POST to
// <base>/<id>/delete with the CSRF token, confirmed by the page's script.
type deleteForm struct{ Action, CSRF, Confirm string }

func newDeleteForm(base, id, csrf, confirm string) deleteForm {
	return deleteForm{Action: path(base, id, "delete"), CSRF: csrf, Confirm: confirm}
}

// shortID is the head of a long id for a crowded table (the whole id is
// the cell's title): a request id's "req-" and 8 hex digits, a UUID's 8.
func shortID(id string) string {
	n := 8
	if strings.HasPrefix(id, "req-") {
		n += len("req-")
	}
	if len(id) <= n+1 {
		return id
	}
	return id[:n] + "…"
}

// shortTime prints an API's RFC 3339 time to the millisecond, in UTC; a
// time it cannot read as it is.
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}
