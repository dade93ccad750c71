package jsonschema

// The services print failing values with Python's str() and repr(), and
// Python dicts keep the request's key order. Go maps do not, so the key
// order of a body is recorded beside the decoded value.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
)

// KeyOrder maps each decoded object (by map identity) to its keys in
// request order.
type KeyOrder map[uintptr][]string

// Decode decodes a body already known to be valid JSON into generic
// values (numbers as json.Number) and records the key order of every
// object.
func Decode(b []byte) (any, KeyOrder, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	order := KeyOrder{}
	v, err := decodeValue(dec, order)
	return v, order, err
}

func decodeValue(dec *json.Decoder, order KeyOrder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for dec.More() {
				item, err := decodeValue(dec, order)
				if err != nil {
					return nil, err
				}
				list = append(list, item)
			}
			_, err := dec.Token()
			return list, err
		}
		obj := map[string]any{}
		var keys []string
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := kt.(string)
			val, err := decodeValue(dec, order)
			if err != nil {
				return nil, err
			}
			if _, dup := obj[key]; !dup {
				keys = append(keys, key)
			}
			obj[key] = val
		}
		order[reflect.ValueOf(obj).Pointer()] = keys
		_, err := dec.Token()
		return obj, err
	}
	return tok, nil
}

// Repr is Python's repr() of v, dicts in request order.
func (r *Run) Repr(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := r.Keys(x)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if val, ok := x[k]; ok {
				parts = append(parts, api.PyRepr(k)+": "+r.Repr(val))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = r.Repr(item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return api.PyRepr(v)
}

// Str is Python's str(): strings bare, the rest as repr.
func (r *Run) Str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return r.Repr(v)
}

// Keys returns m's keys in request order (sorted when unknown).
func (r *Run) Keys(m map[string]any) []string {
	if keys, ok := r.Order[reflect.ValueOf(m).Pointer()]; ok {
		return keys
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TypeOf names v's JSON type as jsonschema does ("integer" for whole
// numbers).
func TypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// NumberOf converts numbers and numeric strings, as Nova's relaxed
// minimum/maximum validators do, with the value as the message shows it;
// ok is false for anything else.
func NumberOf(v any) (f float64, shown string, ok bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, "", false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(n), strconv.FormatInt(n, 10), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, "", false
	}
	if _, isNum := v.(json.Number); isNum {
		return f, s, true
	}
	return f, strconv.FormatFloat(f, 'f', -1, 64), true
}

// FormatNumber prints a schema bound as the messages show it.
func FormatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// isPrintable matches Nova's notion of a printable character: anything
// but control/format characters and line or paragraph separators.
func isPrintable(r rune) bool {
	return !unicode.In(r, unicode.C, unicode.Zl, unicode.Zp)
}

// ValidName is Nova's "name" format: printable, no leading or trailing
// whitespace.
func ValidName(s string) bool {
	rs := []rune(s)
	if !Printable(s) {
		return false
	}
	return len(rs) == 0 || !unicode.Is(unicode.Zs, rs[0]) && !unicode.Is(unicode.Zs, rs[len(rs)-1])
}

// Printable is Nova's description pattern: printable characters, spaces
// allowed anywhere.
func Printable(s string) bool {
	for _, r := range s {
		if !isPrintable(r) {
			return false
		}
	}
	return true
}

// UUIDLike is oslo's is_uuid_like: any spelling uuid.UUID accepts whose
// canonical hex equals the input's hex digits.
func UUIDLike(s string) bool {
	u, err := uuid.Parse(s)
	if err != nil {
		return false
	}
	norm := strings.ToLower(s)
	for _, p := range []string{"urn:", "uuid:"} {
		norm = strings.TrimPrefix(norm, p)
	}
	norm = strings.NewReplacer("{", "", "}", "", "-", "").Replace(norm)
	return strings.ReplaceAll(u.String(), "-", "") == norm
}

// pyBase64Valid reports whether Python's non-strict b64decode accepts s:
// characters outside the alphabet are skipped, and the data must end on
// a quantum boundary or with complete padding.
func pyBase64Valid(s string) bool {
	quad, pads := 0, 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return true
				}
			}
			continue
		}
		if !isBase64Char(ch) {
			continue
		}
		pads = 0
		quad = (quad + 1) % 4
	}
	return quad == 0
}

func isBase64Char(ch byte) bool {
	return ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/'
}
