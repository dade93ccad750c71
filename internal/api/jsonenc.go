package api

import (
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"unicode/utf8"
)

// marshalBody appends the JSON of a reply body to b, exactly as
// encoding/json encodes it, but walks the generic view trees the handlers
// build (maps, slices, strings, integers, booleans) without reflection:
// encoding/json spends most of a large listing sorting map keys through
// reflect.Value. A JSONAppender writes itself; any other type is handed
// to encoding/json, so the output never differs.
func marshalBody(b []byte, v any) ([]byte, error) {
	var e jsonEncoder
	return e.append(b, v)
}

// jsonEncoder remembers the sorted key lists of the maps it has written:
// a listing repeats the same few shapes (a server, its flavor, its image)
// a thousand times, and checking a known order is cheaper than sorting.
// With flush set, the output so far is handed to flush and dropped
// whenever it reaches limit bytes between two elements of a list.
type jsonEncoder struct {
	orders [][]string
	flush  func([]byte) error
	limit  int
}

// maxKeyOrders bounds the remembered shapes of one encoding.
const maxKeyOrders = 32

func (e *jsonEncoder) append(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		for i, k := range e.keysOf(x) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			if b, err = e.append(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case map[string]string:
		if x == nil {
			return append(b, "null"...), nil
		}
		return AppendStringMap(b, x), nil
	case []any:
		return appendJSONSlice(e, b, x)
	case []map[string]any:
		return appendJSONSlice(e, b, x)
	case []string:
		return appendJSONSlice(e, b, x)
	case Link:
		return appendLink(b, x), nil
	case []Link:
		return appendJSONSlice(e, b, x)
	case JSONAppender:
		return x.AppendJSON(b)
	case []JSONAppender:
		return appendAppenders(e, b, x)
	default:
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, enc...), nil
	}
}

// keysOf returns m's keys in order, reusing a remembered order when m
// has exactly its keys.
func (e *jsonEncoder) keysOf(m map[string]any) []string {
	for _, order := range e.orders {
		if len(order) == len(m) && hasAll(m, order) {
			return order
		}
	}
	keys := sortedKeys(m)
	if len(keys) > 1 && len(e.orders) < maxKeyOrders {
		e.orders = append(e.orders, keys)
	}
	return keys
}

func hasAll(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// parallelItems is the fewest items of a list of JSONAppenders written
// on more than one core.
const parallelItems = 256

// appendAppenders writes a list of JSONAppenders. A long one is cut in
// parts, one per core: the parts after the first are written into
// buffers of their own by goroutines while the first is written (and
// streamed), so a listing of 1000 servers does not wait on one core.
// A JSONAppender must therefore be safe to call alongside the others of
// its list.
func appendAppenders(e *jsonEncoder, b []byte, items []JSONAppender) ([]byte, error) {
	parts := min(runtime.GOMAXPROCS(0), len(items)/parallelItems)
	if parts < 2 {
		return appendJSONSlice(e, b, items)
	}
	size := (len(items) + parts - 1) / parts
	type written struct {
		b   []byte
		err error
	}
	var rest []chan written
	for lo := size; lo < len(items); lo += size {
		done := make(chan written, 1)
		rest = append(rest, done)
		go func(part []JSONAppender) {
			var buf []byte
			var err error
			for i, it := range part {
				buf = append(buf, ',')
				if buf, err = it.AppendJSON(buf); err != nil {
					break
				}
				if i == 0 {
					// Items of one list are alike: room for all of them
					// at once, instead of copying as the buffer doubles.
					buf = slices.Grow(buf, len(buf)*len(part)*9/8)
				}
			}
			done <- written{buf, err}
		}(items[lo:min(lo+size, len(items))])
	}
	b, err := appendJSONSlice(e, b, items[:size])
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // the list goes on
	for _, done := range rest {
		w := <-done
		if w.err != nil {
			return nil, w.err
		}
		b = append(b, w.b...)
		if e.flush != nil && len(b) >= e.limit {
			if err := e.flush(b); err != nil {
				return nil, err
			}
			b = b[:0]
		}
	}
	return append(b, ']'), nil
}

// appendLink writes a Link as encoding/json does: fields in declaration
// order, type omitted when empty.
func appendLink(b []byte, l Link) []byte {
	b = appendJSONString(append(b, `{"href":`...), l.Href)
	b = appendJSONString(append(b, `,"rel":`...), l.Rel)
	if l.Type != "" {
		b = appendJSONString(append(b, `,"type":`...), l.Type)
	}
	return append(b, '}')
}

func appendJSONSlice[E any](e *jsonEncoder, b []byte, s []E) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	var err error
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.append(b, v); err != nil {
			return nil, err
		}
		if e.flush != nil && len(b) >= e.limit {
			if err := e.flush(b); err != nil {
				return nil, err
			}
			b = b[:0]
		}
	}
	return append(b, ']'), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONConcat appends a+z as one JSON string.
func appendJSONConcat(b []byte, a, z string) []byte {
	if !plainJSON(a) || !plainJSON(z) {
		return appendJSONString(b, a+z)
	}
	b = append(b, '"')
	b = append(b, a...)
	b = append(b, z...)
	return append(b, '"')
}

// plainJSON reports whether s goes into a JSON string as it is: printable
// ASCII other than the characters encoding/json escapes. It looks at
// eight bytes at a time (the bit tricks of "Bit Twiddling Hacks": a word
// has a byte below n, or equal to c, exactly when the expressions below
// are not zero); a listing's strings are most of its output.
func plainJSON(s string) bool {
	const highs = 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (x|hasBelow(x, 0x20)|hasByte(x, '"')|hasByte(x, '\\')|hasByte(x, '<')|hasByte(x, '>')|hasByte(x, '&'))&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasBelow has the high bit of some byte set when a byte of x is below n
// (at most 0x80), and hasByte when a byte of x is c.
func hasBelow(x uint64, n byte) uint64 { return (x - 0x0101010101010101*uint64(n)) &^ x }
func hasByte(x uint64, c byte) uint64  { return hasBelow(x^(0x0101010101010101*uint64(c)), 1) }

// appendJSONString writes s quoted. Plain printable ASCII, what nearly
// every field holds, is copied as is; anything encoding/json escapes
// (quotes, backslashes, control characters, <, > and &, U+2028/9,
// invalid UTF-8) goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	if !plainJSON(s) {
		enc, _ := json.Marshal(s) // a string always encodes
		return append(b, enc...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
