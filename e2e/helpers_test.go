package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/kumocloud/kumo/internal/mv"
)

// obj is one JSON object the CLI printed.
type obj map[string]any

// str returns a string field, failing the test when it is missing.
func (o obj) str(t *testing.T, key string) string {
	t.Helper()
	v, ok := o[key].(string)
	if !ok {
		t.Fatalf("field %q is %T (%v), want a string; object: %v", key, o[key], o[key], o)
	}
	return v
}

// num returns a numeric field, failing the test when it is missing.
func (o obj) num(t *testing.T, key string) float64 {
	t.Helper()
	v, ok := o[key].(float64)
	if !ok {
		t.Fatalf("field %q is %T (%v), want a number; object: %v", key, o[key], o[key], o)
	}
	return v
}

// property returns key from a "properties" column, which the CLI prints
// either as an object or as a "k='v', ..." string depending on version.
func (o obj) property(t *testing.T, key string) string {
	t.Helper()
	switch p := o["properties"].(type) {
	case map[string]any:
		return fmt.Sprint(p[key])
	case string:
		m := regexp.MustCompile(regexp.QuoteMeta(key) + `='([^']*)'`).FindStringSubmatch(p)
		if m != nil {
			return m[1]
		}
		return ""
	default:
		t.Fatalf("properties is %T (%v); object: %v", o["properties"], o["properties"], o)
		return ""
	}
}

// findBy returns the row whose field key equals value, or nil.
func findBy(rows []obj, key, value string) obj {
	for _, r := range rows {
		if fmt.Sprint(r[key]) == value {
			return r
		}
	}
	return nil
}

// writeClouds writes a clouds.yaml with one cloud named "kumo" for a
// user and project of the Default domain, as a user would by hand.
func writeClouds(t *testing.T, authURL, user, password, project string) string {
	t.Helper()
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // JSON strings are YAML
	body := fmt.Sprintf(`clouds:
  kumo:
    auth:
      auth_url: %s
      username: %s
      password: %s
      project_name: %s
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
`, q(authURL), q(user), q(password), q(project))
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// advertisedMax is the newest compute microversion `kumo version` reports.
func advertisedMax(t *testing.T) mv.Version {
	t.Helper()
	out := RunKumo(t, kumoBin, "version")
	m := regexp.MustCompile(`compute API (\d+\.\d+)-(\d+\.\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("kumo version printed no microversion range: %q", out)
	}
	v, err := mv.Parse(m[2])
	if err != nil {
		t.Fatalf("kumo version: %v", err)
	}
	return v
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// globData lists the files in dir matching pattern.
func globData(t *testing.T, dir, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return files
}
