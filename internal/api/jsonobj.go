package api

import (
	"strconv"
	"time"
)

// JSONAppender is a reply body part that writes its own JSON: a typed
// view of a hot path (a server in a listing of a thousand) that would
// otherwise be built as a map of a few dozen boxed values per item and
// then walked back out again.
type JSONAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// Object writes one JSON object into B field by field. Keys are written
// as given, so they must be literal names that need no escaping; values
// are escaped as encoding/json escapes them. The first error of a
// generic value is kept for Err.
type Object struct {
	B   []byte
	n   int
	err error
}

// OpenObject starts an object at the end of b.
func OpenObject(b []byte) Object { return Object{B: append(b, '{')} }

// Close ends the object and returns the buffer.
func (o *Object) Close() []byte { return append(o.B, '}') }

// Err is the first error of a Value; an object without one has none.
func (o *Object) Err() error { return o.err }

// Key starts a field; the caller appends its value to B.
func (o *Object) Key(k string) {
	if o.n > 0 {
		o.B = append(o.B, ',')
	}
	o.n++
	o.B = append(o.B, '"')
	o.B = append(o.B, k...)
	o.B = append(o.B, '"', ':')
}

// String writes a string field.
func (o *Object) String(k, v string) {
	o.Key(k)
	o.B = AppendString(o.B, v)
}

// StringOrNull writes a string field, null when v is empty.
func (o *Object) StringOrNull(k, v string) {
	o.Key(k)
	if v == "" {
		o.B = append(o.B, "null"...)
		return
	}
	o.B = AppendString(o.B, v)
}

// OptString writes *v, or null.
func (o *Object) OptString(k string, v *string) {
	o.Key(k)
	if v == nil {
		o.B = append(o.B, "null"...)
		return
	}
	o.B = AppendString(o.B, *v)
}

// Int writes an integer field.
func (o *Object) Int(k string, v int64) {
	o.Key(k)
	o.B = strconv.AppendInt(o.B, v, 10)
}

// Bool writes a boolean field.
func (o *Object) Bool(k string, v bool) {
	o.Key(k)
	o.B = strconv.AppendBool(o.B, v)
}

// Null writes a null field.
func (o *Object) Null(k string) {
	o.Key(k)
	o.B = append(o.B, "null"...)
}

// Time writes t in layout, or null when t is nil.
func (o *Object) Time(k string, t *time.Time, layout string) {
	o.Key(k)
	if t == nil {
		o.B = append(o.B, "null"...)
		return
	}
	o.B = append(o.B, '"')
	o.B = AppendUTC(o.B, *t, layout)
	o.B = append(o.B, '"')
}

// StringMap writes m with its keys sorted, {} when m is nil.
func (o *Object) StringMap(k string, m map[string]string) {
	o.Key(k)
	o.B = AppendStringMap(o.B, m)
}

// Strings writes a list of strings, [] when s is nil.
func (o *Object) Strings(k string, s []string) {
	o.Key(k)
	o.B = appendArray(o.B, s, AppendString)
}

// Links writes a list of links.
func (o *Object) Links(k string, links ...Link) {
	o.Key(k)
	o.B = appendArray(o.B, links, appendLink)
}

// appendArray writes items as a JSON array, each by write.
func appendArray[T any](b []byte, items []T, write func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, v := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = write(b, v)
	}
	return append(b, ']')
}

// LinksTo writes links whose hrefs are each link's Href followed by id:
// the items of a listing share their link bases, so no href needs to be
// built per item.
func (o *Object) LinksTo(k, id string, links ...Link) {
	o.Key(k)
	o.B = append(o.B, '[')
	for i, l := range links {
		if i > 0 {
			o.B = append(o.B, ',')
		}
		o.B = appendJSONConcat(append(o.B, `{"href":`...), l.Href, id)
		o.B = appendJSONString(append(o.B, `,"rel":`...), l.Rel)
		o.B = append(o.B, '}')
	}
	o.B = append(o.B, ']')
}

// Value writes any value the reply encoder takes.
func (o *Object) Value(k string, v any) {
	o.Key(k)
	if o.err != nil {
		return
	}
	var e jsonEncoder
	o.B, o.err = e.append(o.B, v)
}

// AppendString appends s as a JSON string, escaped as encoding/json does.
func AppendString(b []byte, s string) []byte { return appendJSONString(b, s) }

// AppendStringMap appends m as a JSON object with sorted keys, {} when
// m is nil.
func AppendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(append(appendJSONString(b, k), ':'), m[k])
	}
	return append(b, '}')
}
