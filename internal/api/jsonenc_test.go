package api

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

type namedString string

// TestMarshalBodyMatchesEncodingJSON: the fast encoder's output is byte
// for byte encoding/json's, for every value shape views use.
func TestMarshalBodyMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	s := "x"
	cases := map[string]any{
		"nil":           nil,
		"plain":         map[string]any{"b": "two", "a": 1, "c": true, "d": nil, "e": int64(-5)},
		"escapes":       []any{"quote\"", "back\\slash", "tab\t", "<html>&", "ünï", "\u2028", "bad\xffutf8", ""},
		"nested":        map[string]any{"servers": []map[string]any{{"id": "1", "links": []any{Link{Href: "h", Rel: "self"}}}}},
		"string maps":   map[string]any{"metadata": map[string]string{"z": "1", "a": "<2>"}, "empty": map[string]string{}},
		"nil values":    map[string]any{"m": map[string]any(nil), "s": []any(nil), "ms": []map[string]any(nil), "ss": []string(nil), "sm": map[string]string(nil)},
		"fallbacks":     map[string]any{"f": 1.5, "big": 1e21, "ptr": &s, "nilptr": (*string)(nil), "named": namedString("n"), "raw": json.RawMessage(`{"k": 1}`)},
		"strings slice": []string{"a", "b<"},
		"links":         map[string]any{"l": []Link{{Href: "h", Rel: "self"}, {Href: "<x>", Rel: "describedby", Type: "text/html"}}, "one": Link{}, "none": []Link(nil)},
		"empty":         map[string]any{"a": []any{}, "b": map[string]any{}},
		// Maps of one size but other keys must not reuse a remembered order.
		"shapes": []any{map[string]any{"b": 1, "a": 2}, map[string]any{"a": 1, "c": 2}, map[string]any{"c": 1, "b": 2},
			map[string]any{"b": 1, "a": 2, "z": map[string]any{"y": 1, "x": 2}}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { compareEncodings(t, v) })
	}
}

// TestMarshalBodyOnSamples runs the comparison over every JSON sample of
// the shared reference.
func TestMarshalBodyOnSamples(t *testing.T) {
	t.Parallel()
	root := apisamples.Root(t)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return nil // templates with placeholders
		}
		n++
		compareEncodings(t, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d samples compared under %s", n, root)
	}
}

func compareEncodings(t *testing.T, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshalBody(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("marshalBody:\n%s\nencoding/json:\n%s", got, want)
	}
}

func TestMarshalBodyError(t *testing.T) {
	t.Parallel()
	if _, err := marshalBody(nil, map[string]any{"c": make(chan int)}); err == nil {
		t.Fatal("a channel encoded without error")
	}
}

// numbered writes {"n":N}, or fails when N is bad.
type numbered struct{ n, bad int }

func (v numbered) AppendJSON(b []byte) ([]byte, error) {
	if v.n == v.bad {
		return nil, fmt.Errorf("item %d failed", v.n)
	}
	w := OpenObject(b)
	w.Int("n", int64(v.n))
	return w.Close(), nil
}

// TestAppendersInParts: a long list of JSONAppenders written in parts on
// several goroutines comes out whole and in order, streamed or not, and
// an item's error anywhere in it is the list's.
func TestAppendersInParts(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, parallelItems - 1, 2 * parallelItems, 1001} {
		items := make([]JSONAppender, n)
		plain := make([]map[string]int, n)
		for i := range items {
			items[i], plain[i] = numbered{n: i, bad: -1}, map[string]int{"n": i}
		}
		want, _ := json.Marshal(map[string]any{"servers": plain})
		got, err := marshalBody(nil, map[string]any{"servers": items})
		if err != nil || string(got) != string(want) {
			t.Fatalf("%d items: %v\n%.200s", n, err, got)
		}
		var streamed []byte
		e := jsonEncoder{limit: 100, flush: func(b []byte) error { streamed = append(streamed, b...); return nil }}
		rest, err := e.append(nil, map[string]any{"servers": items})
		if streamed = append(streamed, rest...); err != nil || string(streamed) != string(want) {
			t.Fatalf("%d items streamed: %v\n%.200s", n, err, streamed)
		}
	}
	for _, bad := range []int{3, 600, 999} {
		items := make([]JSONAppender, 1000)
		for i := range items {
			items[i] = numbered{n: i, bad: bad}
		}
		if _, err := marshalBody(nil, items); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("item %d", bad)) {
			t.Errorf("item %d failing: error %v", bad, err)
		}
	}
}

// plainJSON's word-at-a-time test agrees with a byte-by-byte one for
// every byte at every position of strings of several lengths.
func TestPlainJSON(t *testing.T) {
	t.Parallel()
	bytewise := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
				return false
			}
		}
		return true
	}
	for _, n := range []int{1, 7, 8, 9, 16, 23} {
		base := []byte(strings.Repeat("a", n))
		for at := 0; at < n; at++ {
			for c := 0; c < 256; c++ {
				s := append([]byte(nil), base...)
				s[at] = byte(c)
				if got, want := plainJSON(string(s)), bytewise(string(s)); got != want {
					t.Fatalf("plainJSON(%q) = %v, want %v", s, got, want)
				}
			}
		}
	}
}
