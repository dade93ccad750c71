package apifuzz

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

// Sample is a request body of the reference API samples.
type Sample struct {
	Path  string // relative to the reference root
	Minor int    // from a v2.N folder; 1 otherwise
	Body  []byte
}

var versionDir = regexp.MustCompile(`^v2\.(\d+)$`)

// Nova's samples boot their fake images; seeds boot kumo-tiny instead.
var novaSampleImages = []string{"70a599e0-31e7-49b7-b260-868f441e862b", "155d900f-4e14-4e4c-a73d-069cbf4541e6"}

// Samples returns the request samples (files not named *-resp*.json)
// matching the glob patterns under the reference root, in path order,
// with Nova's sample image ids replaced by $IMAGE. Without the reference
// directory there are none: the checked-in corpus still seeds the target.
func Samples(tb testing.TB, patterns ...string) []Sample {
	tb.Helper()
	root := apisamples.Root(tb)
	var out []Sample
	seen := map[string]bool{}
	for _, p := range patterns {
		paths, err := filepath.Glob(filepath.Join(root, p))
		if err != nil {
			tb.Fatalf("sample pattern %q: %v", p, err)
		}
		sort.Strings(paths)
		for _, path := range paths {
			rel, _ := filepath.Rel(root, path)
			if seen[rel] || strings.Contains(filepath.Base(rel), "-resp") {
				continue
			}
			seen[rel] = true
			b, err := os.ReadFile(path)
			if err != nil {
				tb.Fatalf("read sample: %v", err)
			}
			for _, id := range novaSampleImages {
				b = bytes.ReplaceAll(b, []byte(id), []byte("$IMAGE"))
			}
			s := Sample{Path: rel, Minor: 1, Body: b}
			if m := versionDir.FindStringSubmatch(filepath.Base(filepath.Dir(path))); m != nil {
				s.Minor, _ = strconv.Atoi(m[1])
			}
			out = append(out, s)
		}
	}
	return out
}
