package dashboard

import (
	"encoding/json"
	"html/template"
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
