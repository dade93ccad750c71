package apisamples

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	sample := map[string]any{"flavor": map[string]any{"id": "1", "ram": 512.0, "links": []any{map[string]any{"href": "x", "rel": "self"}}, "description": nil}}
	cases := []struct {
		name string
		got  string
		opts Options
		want []string
	}{
		{"same shape", `{"flavor": {"id": "7", "ram": 1, "links": [{"href": "y", "rel": "bookmark"}], "description": "d"}}`, Options{}, nil},
		{"wrong type", `{"flavor": {"id": 7, "ram": 1, "links": [], "description": null}}`, Options{}, []string{"flavor.id: type number, sample has string"}},
		{"missing key", `{"flavor": {"id": "7", "links": [], "description": null}}`, Options{}, []string{"flavor.ram: missing"}},
		{"optional key", `{"flavor": {"id": "7", "links": [], "description": null}}`, Options{Optional: []string{"flavor.ram"}}, nil},
		{"extra key", `{"flavor": {"id": "7", "ram": 1, "links": [], "description": null, "swap": 0}}`, Options{}, []string{"flavor.swap: not in sample"}},
		{"array element", `{"flavor": {"id": "7", "ram": 1, "links": [{"href": 1, "rel": "self"}], "description": null}}`, Options{}, []string{"flavor.links[].href: type number, sample has string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			if err := json.Unmarshal([]byte(tc.got), &got); err != nil {
				t.Fatal(err)
			}
			diffs := Compare(sample, got, tc.opts)
			if strings.Join(diffs, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("diffs = %q, want %q", diffs, tc.want)
			}
		})
	}
}
