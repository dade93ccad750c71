package compute

import (
	"fmt"
	"sync"
	"testing"

	js "github.com/kumocloud/kumo/internal/api/jsonschema"
)

// TestCreateSchemasAreShared: one built schema validates many requests at
// once (as concurrent creates do, run with -race) with the answers it
// gives one at a time.
func TestCreateSchemasAreShared(t *testing.T) {
	t.Parallel()
	schemas := &createSchemas{}
	f := createFeatures{description: true, networks237: true, tags: true}
	bodies := []map[string]any{
		{"server": map[string]any{"name": "ok", "flavorRef": "1", "networks": "none", "metadata": map[string]any{"k": "v"}}},
		{"server": map[string]any{"name": "bad key", "flavorRef": "1", "networks": "none", "metadata": map[string]any{"k/": "v"}}},
		{"server": map[string]any{"name": "no networks", "flavorRef": "1"}},
		{"server": map[string]any{"name": "bad tag", "flavorRef": "1", "networks": "auto", "tags": []any{"a/b"}}},
	}
	validate := func(body map[string]any) string {
		run := &js.Run{}
		if fl := schemas.get(f).Validate(run, nil, body); fl != nil {
			return fl.Err(run).Error()
		}
		return ""
	}
	want := make([]string, len(bodies))
	for i, b := range bodies {
		want[i] = validate(b)
	}
	if want[0] != "" || want[1] == "" || want[2] == "" || want[3] == "" {
		t.Fatalf("one at a time: %q", want)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(bodies)
				if got := validate(bodies[k]); got != want[k] {
					errs <- fmt.Sprintf("body %d: %q, one at a time %q", k, got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
