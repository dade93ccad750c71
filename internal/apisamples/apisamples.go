// Package apisamples compares kumo's responses with the reference JSON
// samples in ../shared/reference (Nova's api_samples, Keystone's and
// Glance's samples): same keys, same JSON types, recursively, and the same
// values where a value does not depend on the instance.
//
// The rule for values: what an instance is (its ids, names, times,
// addresses, flags such as is_domain or config_drive, sizes and counts) and
// where it is in its life (ACTIVE or REBUILD, a migration "running" or
// "confirmed") is the test's and the cloud's; the samples show one moment
// of Nova's fake cloud. How the API spells things is the API's. So
//
//   - link relations (rel) and fault and event codes (code) must be one
//     of the sample's values: "self" and "bookmark" are the same for every
//     server;
//   - values of enumeration keys (enumKey: status, state, vm_state,
//     task_state, host_status, type, interface, visibility, policy, ...)
//     must be spelled the way the sample spells its value (spelling): the
//     same letter case, and the same word separator when both have one,
//     so "active" where the sample has "ACTIVE" fails and "SHUTOFF" passes,
//     "in_use" where it has "in-use" fails;
//   - everything else, booleans and numbers included, is compared by type
//     only: every boolean in the samples is a flag of one instance.
//
// Inside arrays, which elements a list holds and in which order is up to
// the cloud, so an element's value is checked against every value the
// sample's array shows at the same place. A null on either side means "no
// value here" and is never a value difference.
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

// Compare reports every difference in keys, types and enumeration values
// (see the package doc) between sample and got (a decoded JSON value or raw JSON bytes).
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
	fixed := map[string][]any{}
	collectFixed("", sample, fixed)
	checkFixed("", got, fixed, &diffs)
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

// collectFixed records, by path, every value in the sample that the API
// fixes (see the package doc). Array elements share one path ("a[].b"), so
// a list sample yields the set of values its elements show.
func collectFixed(path string, v any, into map[string][]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			collectFixed(join(path, k), e, into)
		}
	case []any:
		for _, e := range x {
			collectFixed(path+"[]", e, into)
		}
	case nil:
	default:
		if fixedValue(path, x) {
			into[path] = append(into[path], x)
		}
	}
}

// checkFixed reports every value in got that the sample fixes at the same
// path but with other values. A type difference is compare's to report.
func checkFixed(path string, v any, fixed map[string][]any, diffs *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			checkFixed(join(path, k), e, fixed, diffs)
		}
	case []any:
		for _, e := range x {
			checkFixed(path+"[]", e, fixed, diffs)
		}
	default:
		want := fixed[path]
		if len(want) == 0 || typeName(want[0]) != typeName(x) {
			return
		}
		exact := exactKey(lastKey(path))
		for _, w := range want {
			if exact && sameValue(w, x) || !exact && sameSpelling(w.(string), x.(string)) {
				return
			}
		}
		what := "value"
		if !exact {
			what = "spelling of"
		}
		*diffs = append(*diffs, fmt.Sprintf("%s: %s %s, sample has %s", orRoot(path), what, show(x), showAll(want)))
	}
}

// fixedValue says whether the sample's scalar at path is one whose value
// (exactKey) or spelling (enumKey) the API fixes; see the package doc.
func fixedValue(path string, v any) bool {
	key := lastKey(path)
	if exactKey(key) {
		return true
	}
	_, isString := v.(string)
	return isString && enumKey(key)
}

// exactKey reports whether a key's value is the same for every instance.
func exactKey(key string) bool {
	return key == "rel" || key == "code"
}

// enumKey reports whether a key's values come from a set the API defines
// (and spells), though which member an instance shows is its own.
func enumKey(key string) bool {
	switch key {
	case "status", "state", "vm_state", "task_state", "host_status",
		"OS-EXT-STS:vm_state", "OS-EXT-STS:task_state", "OS-DCF:diskConfig", "OS-EXT-IPS:type",
		"type", "migration_type", "interface", "visibility", "policy", "binary", "action":
		return true
	}
	return false
}

// sameSpelling reports whether two members of one enumeration are spelled
// alike: the same letter case, and the same word separator when both
// have one ("SHELVED_OFFLOADED" and "ACTIVE" are; "active" and "ACTIVE",
// "in_use" and "in-use" are not).
func sameSpelling(a, b string) bool {
	if letterCase(a) != letterCase(b) {
		return false
	}
	sa, sb := separator(a), separator(b)
	return sa == "" || sb == "" || sa == sb
}

func letterCase(s string) string {
	upper, lower := strings.ToUpper(s) == s, strings.ToLower(s) == s
	switch {
	case upper && lower:
		return "none"
	case upper:
		return "upper"
	case lower:
		return "lower"
	}
	return "mixed"
}

func separator(s string) string {
	if i := strings.IndexAny(s, "-_ "); i >= 0 {
		return s[i : i+1]
	}
	return ""
}

// lastKey is the object key a path ends in, without array markers.
func lastKey(path string) string {
	path = strings.TrimRight(path, "[]")
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[i+1:]
	}
	return path
}

// sameValue compares two scalars of the same JSON type; numbers compare
// by value whether decoded as float64 or json.Number.
func sameValue(want, got any) bool {
	if w, g := asNumber(want), asNumber(got); w != nil && g != nil {
		return *w == *g
	}
	return want == got
}

func asNumber(v any) *float64 {
	switch n := v.(type) {
	case float64:
		return &n
	case json.Number:
		if f, err := n.Float64(); err == nil {
			return &f
		}
	}
	return nil
}

// showAll lists the distinct sample values, for a difference message.
func showAll(vs []any) string {
	var out []string
	for _, v := range vs {
		if s := show(v); !contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " or ")
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}
