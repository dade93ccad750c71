package compute

// Nova's validation messages print the failing value with Python's str(),
// and Python dicts keep the request's key order. Go maps do not, so the
// create body's key order is recorded beside the decoded value.

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
)

// jsKeyOrder maps each decoded object (by map identity) to its keys in
// request order.
type jsKeyOrder map[uintptr][]string

// decodeWithOrder decodes a body already known to be valid JSON into
// generic values (numbers as json.Number) and records the key order of
// every object.
func decodeWithOrder(b []byte) (any, jsKeyOrder, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	order := jsKeyOrder{}
	v, err := decodeOrderedValue(dec, order)
	return v, order, err
}

func decodeOrderedValue(dec *json.Decoder, order jsKeyOrder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for dec.More() {
				item, err := decodeOrderedValue(dec, order)
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
			val, err := decodeOrderedValue(dec, order)
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

// repr is Python's repr() of v, dicts in request order.
func (r *jsRun) repr(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := r.keysOf(x)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if val, ok := x[k]; ok {
				parts = append(parts, api.PyRepr(k)+": "+r.repr(val))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = r.repr(item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return api.PyRepr(v)
}

// str is Python's str(): strings bare, the rest as repr.
func (r *jsRun) str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return r.repr(v)
}

// keysOf returns m's keys in request order (sorted when unknown).
func (r *jsRun) keysOf(m map[string]any) []string {
	if keys, ok := r.order[reflect.ValueOf(m).Pointer()]; ok {
		return keys
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
