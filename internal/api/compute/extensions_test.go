package compute_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

// TestExtensions: GET /extensions and /extensions/{alias} answer exactly
// what Nova's samples show (the /v2 list with its one extra entry), need
// only a token, and 404 an alias the endpoint does not list.
func TestExtensions(t *testing.T) {
	t.Parallel()
	const dir = "nova/api_samples/extension-info/"
	tests := []struct {
		name, token, version, path string
		status                     int
		sample                     string // exact body, when set
		alias                      string // the shown extension, when set
		message                    string // fault message, when set
	}{
		{name: "v2.1 list", token: "u1:p1", version: "2.1", path: "/v2.1/extensions", status: http.StatusOK, sample: "extensions-list-resp.json"},
		{name: "v2.1 list at the newest version", token: "u1:p1", version: "2.104", path: "/v2.1/extensions", status: http.StatusOK, sample: "extensions-list-resp.json"},
		{name: "v2.1 list with the project in the path", token: "u1:p1", path: "/v2.1/p1/extensions", status: http.StatusOK, sample: "extensions-list-resp.json"},
		{name: "legacy v2 list", token: "u1:p1", path: "/v2/extensions", status: http.StatusOK, sample: "extensions-list-resp-v21-compatible.json"},
		{name: "admin list", token: "admin:admin", path: "/v2.1/extensions", status: http.StatusOK, sample: "extensions-list-resp.json"},
		{name: "show os-agents", token: "u1:p1", path: "/v2.1/extensions/os-agents", status: http.StatusOK, sample: "extensions-get-resp.json"},
		{name: "show os-consoles", token: "u1:p1", path: "/v2.1/extensions/os-consoles", status: http.StatusOK, alias: "os-consoles"},
		{name: "legacy v2 shows its extra entry", token: "u1:p1", path: "/v2/extensions/OS-EXT-VIF-NET", status: http.StatusOK, alias: "OS-EXT-VIF-NET"},
		{name: "v2.1 does not list it", token: "u1:p1", path: "/v2.1/extensions/OS-EXT-VIF-NET", status: http.StatusNotFound, message: "The resource could not be found."},
		{name: "unknown alias", token: "u1:p1", path: "/v2.1/extensions/os-nope", status: http.StatusNotFound, message: "The resource could not be found."},
		{name: "aliases are case-sensitive", token: "u1:p1", path: "/v2.1/extensions/OS-AGENTS", status: http.StatusNotFound, message: "The resource could not be found."},
		{name: "unknown query parameters pass before 2.102", token: "u1:p1", version: "2.101", path: "/v2.1/extensions?foo=1", status: http.StatusOK, sample: "extensions-list-resp.json"},
		{name: "and fail from 2.102", token: "u1:p1", version: "2.102", path: "/v2.1/extensions?foo=1", status: http.StatusBadRequest,
			message: "Additional properties are not allowed ('foo' was unexpected)"},
		{name: "show fails on them from 2.102", token: "u1:p1", version: "2.102", path: "/v2.1/extensions/os-agents?foo=1", status: http.StatusBadRequest,
			message: "Additional properties are not allowed ('foo' was unexpected)"},
		{name: "no token", path: "/v2.1/extensions", status: http.StatusUnauthorized},
	}
	client := versionAPI(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := client.As(tc.token, tc.version).Do("GET", tc.path, nil).Expect(t, tc.status)
			if tc.sample != "" {
				var got any
				if err := json.Unmarshal(r.Body, &got); err != nil {
					t.Fatal(err)
				}
				if want := apisamples.Load(t, dir+tc.sample); !reflect.DeepEqual(got, want) {
					t.Errorf("GET %s differs from %s:\n%s", tc.path, tc.sample, r.Body)
				}
			}
			if tc.alias != "" {
				ext := r.JSON(t)["extension"].(map[string]any)
				if ext["alias"] != tc.alias || len(ext) != 6 {
					t.Errorf("GET %s: %v", tc.path, ext)
				}
			}
			if tc.message != "" {
				if got := faultMessage(t, r); got != tc.message {
					t.Errorf("GET %s: message %q, want %q", tc.path, got, tc.message)
				}
			}
		})
	}
}
