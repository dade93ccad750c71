package api

import (
	"encoding/json"
	"testing"
	"time"
)

// TestObjectMatchesEncodingJSON: every Object field writer gives what
// encoding/json gives for the same value, escapes included.
func TestObjectMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 12, 5, 8, 1, 2, 0, time.FixedZone("x", 3600))
	reason := "because <x>"
	for _, c := range []struct {
		name  string
		write func(w *Object)
		want  any
	}{
		{"string", func(w *Object) { w.String("a", "ünï\"<&>") }, map[string]any{"a": "ünï\"<&>"}},
		{"string or null", func(w *Object) { w.StringOrNull("a", ""); w.StringOrNull("b", "x") }, map[string]any{"a": nil, "b": "x"}},
		{"optional string", func(w *Object) { w.OptString("a", nil); w.OptString("b", &reason) }, map[string]any{"a": nil, "b": reason}},
		{"numbers and bools", func(w *Object) { w.Int("a", -7); w.Bool("b", true); w.Null("c") }, map[string]any{"a": -7, "b": true, "c": nil}},
		{"time", func(w *Object) { w.Time("a", &when, time.RFC3339); w.Time("b", nil, time.RFC3339) },
			map[string]any{"a": "2026-12-05T07:01:02Z", "b": nil}},
		{"maps and lists", func(w *Object) {
			w.StringMap("a", map[string]string{"z": "1", "a": "\t"})
			w.StringMap("b", nil)
			w.Strings("c", []string{"x", "\u2028"})
			w.Strings("d", nil)
		}, map[string]any{"a": map[string]string{"z": "1", "a": "\t"}, "b": map[string]string{}, "c": []string{"x", "\u2028"}, "d": []string{}}},
		{"links", func(w *Object) {
			w.Links("a", Link{Href: "http://h/x", Rel: "self"}, Link{Href: "<h>", Rel: "describedby", Type: "text/html"})
		}, map[string]any{"a": []Link{{Href: "http://h/x", Rel: "self"}, {Href: "<h>", Rel: "describedby", Type: "text/html"}}}},
		{"links to an id", func(w *Object) {
			w.LinksTo("a", "id-1", Link{Href: "http://h/servers/", Rel: "self"}, Link{Href: "http://h/p&q/", Rel: "bookmark"})
			w.LinksTo("b", "ü\"", Link{Href: "http://h/", Rel: "self"})
		}, map[string]any{
			"a": []Link{{Href: "http://h/servers/id-1", Rel: "self"}, {Href: "http://h/p&q/id-1", Rel: "bookmark"}},
			"b": []Link{{Href: "http://h/ü\"", Rel: "self"}},
		}},
		{"any value", func(w *Object) { w.Value("a", map[string]any{"y": []any{1, "two"}}) }, map[string]any{"a": map[string]any{"y": []any{1, "two"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := OpenObject([]byte("prefix:"))
			c.write(&w)
			got := w.Close()
			if err := w.Err(); err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(c.want)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix:"+string(want) {
				t.Errorf("Object wrote\n%s\nencoding/json gives\n%s", got, want)
			}
		})
	}
}

func TestObjectValueError(t *testing.T) {
	t.Parallel()
	w := OpenObject(nil)
	w.Value("a", make(chan int))
	w.String("b", "after")
	if w.Close(); w.Err() == nil {
		t.Fatal("a channel value left no error")
	}
}
