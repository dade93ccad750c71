package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestHealth: /healthz is public on the API listener (metrics are not:
// see TestMetricsListener).
func TestHealth(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	for _, tc := range []struct {
		path, want string
	}{
		{"/healthz", "ok"},
	} {
		resp, err := http.Get(c.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s: %d %q, want 200 containing %q", tc.path, resp.StatusCode, body, tc.want)
		}
		if !strings.HasPrefix(resp.Header.Get("X-Openstack-Request-Id"), "req-") {
			t.Errorf("GET %s: no request id header", tc.path)
		}
	}
}
