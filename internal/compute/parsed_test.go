package compute

import (
	"errors"
	"fmt"
	"testing"
)

func TestCachedParse(t *testing.T) {
	t.Parallel()
	p := newParsedTexts()
	lists := map[string][]string{} // a cache of p's kind, guarded by p
	parses := 0
	parse := func(raw string) func(*[]string) error {
		return func(l *[]string) error {
			parses++
			if raw == "bad" {
				return errors.New("does not parse")
			}
			*l = []string{raw}
			return nil
		}
	}
	for _, c := range []struct {
		raw        string
		wantParses int
		wantErr    bool
	}{
		{"a", 1, false},
		{"a", 1, false}, // remembered
		{"b", 2, false},
		{"bad", 3, true},
		{"bad", 4, true}, // failures are not remembered
	} {
		got, err := cachedParse(p, lists, c.raw, parse(c.raw))
		if (err != nil) != c.wantErr || parses != c.wantParses {
			t.Fatalf("%q: err %v after %d parses, want error %t after %d", c.raw, err, parses, c.wantErr, c.wantParses)
		}
		if err == nil && (len(got) != 1 || got[0] != c.raw) {
			t.Fatalf("%q parsed to %v", c.raw, got)
		}
	}
	for i := range 2 * maxParsedTexts {
		if _, err := cachedParse(p, lists, fmt.Sprint(i), parse(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if len(lists) > maxParsedTexts {
			t.Fatalf("cache holds %d texts, bound %d", len(lists), maxParsedTexts)
		}
	}
}
