// Package apisamples compares kumo's responses with the reference JSON
// samples in ../shared/reference (Nova's api_samples, Keystone's and
// Glance's samples): same keys, same JSON types, recursively. Values are
// not compared; ids and dates differ by nature.
package apisamples

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Root returns the shared reference directory: $KUMO_SHARED/reference, or
// ../shared/reference beside the repository root.
func Root(t testing.TB) string {
	t.Helper()
	if s := os.Getenv("KUMO_SHARED"); s != "" {
		return filepath.Join(s, "reference")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "reference")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
}

// Load reads a sample, e.g. Load(t, "nova/api_samples/flavors/flavor-get-resp.json").
func Load(t testing.TB, rel string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), rel))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse sample %s: %v", rel, err)
	}
	return v
}

// Options relax a comparison.
type Options struct {
	// Optional keys (as "a.b.c" paths, with [] for array elements) may be
	// absent from the response.
	Optional []string
	// Extra keys may appear in the response though the sample lacks them.
	Extra []string
}

// Compare reports every difference in keys and types between sample and
// got (a decoded JSON value or raw JSON bytes).
func Compare(sample, got any, o Options) []string {
	if b, ok := got.([]byte); ok {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return []string{fmt.Sprintf("response is not JSON: %v", err)}
		}
		got = v
	}
	var diffs []string
	compare("", sample, got, &o, &diffs)
	sort.Strings(diffs)
	return diffs
}

// Assert fails the test with every difference between the sample file and
// the response body.
func Assert(t testing.TB, sampleRel string, body []byte, o Options) {
	t.Helper()
	if diffs := Compare(Load(t, sampleRel), body, o); len(diffs) > 0 {
		t.Errorf("response differs from %s:\n  %s\nbody: %s", sampleRel, strings.Join(diffs, "\n  "), body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func compare(path string, want, got any, o *Options, diffs *[]string) {
	wt, gt := typeName(want), typeName(got)
	// A null in the sample stands for "no value here"; a string or null
	// in the response satisfies it, and vice versa.
	if wt == "null" || gt == "null" {
		if wt == gt || wt == "string" || gt == "string" {
			return
		}
		*diffs = append(*diffs, fmt.Sprintf("%s: type %s, sample has %s", orRoot(path), gt, wt))
		return
	}
	if wt != gt {
		*diffs = append(*diffs, fmt.Sprintf("%s: type %s, sample has %s", orRoot(path), gt, wt))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			p := join(path, k)
			gv, ok := g[k]
			if !ok {
				if !contains(o.Optional, p) {
					*diffs = append(*diffs, fmt.Sprintf("%s: missing", p))
				}
				continue
			}
			compare(p, wv, gv, o, diffs)
		}
		for k := range g {
			p := join(path, k)
			if _, ok := w[k]; !ok && !contains(o.Extra, p) {
				*diffs = append(*diffs, fmt.Sprintf("%s: not in sample", p))
			}
		}
	case []any:
		g := got.([]any)
		if len(w) == 0 {
			return
		}
		for i, gv := range g {
			// Compare each element with the sample element of the same
			// index, or the last one when the response is longer.
			wv := w[len(w)-1]
			if i < len(w) {
				wv = w[i]
			}
			compare(path+"[]", wv, gv, o, diffs)
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}
