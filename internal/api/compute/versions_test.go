package compute_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/mv"
)

// versionAPI is the handler of a new cloud: its version list and kumo's
// real microversion range.
func versionAPI(t *testing.T) *apitest.Client {
	t.Helper()
	c := apptest.New(t, apptest.Options{NoAuth: true})
	return apitest.Over(t, c.App.Handler)
}

func TestVersionList(t *testing.T) {
	t.Parallel()
	c := versionAPI(t)
	r := c.Do("GET", "/", nil).Expect(t, 200)
	apisamples.Assert(t, "nova/api_samples/versions/versions-get-resp.json", r.Body, apisamples.Options{})
	versions := r.JSON(t)["versions"].([]any)
	want := map[string]struct{ status, href, version, min string }{
		"v2.0": {"DEPRECATED", "http://example.com/v2/", "", ""},
		"v2.1": {"CURRENT", "http://example.com/v2.1/", mv.Supported().Max.String(), "2.1"},
	}
	for _, v := range versions {
		doc := v.(map[string]any)
		w, ok := want[doc["id"].(string)]
		href := doc["links"].([]any)[0].(map[string]any)["href"]
		if !ok || doc["status"] != w.status || href != w.href || doc["version"] != w.version || doc["min_version"] != w.min {
			t.Errorf("version entry %v", doc)
		}
	}
	if len(versions) != 2 {
		t.Errorf("%d versions", len(versions))
	}
	pub := apitest.New(t, compute.VersionList("https://cloud.example/compute/"))
	links := pub.Do("GET", "/", nil).Expect(t, 200).JSON(t)["versions"].([]any)[1].(map[string]any)["links"].([]any)
	if href := links[0].(map[string]any)["href"]; href != "https://cloud.example/compute/v2.1/" {
		t.Errorf("public URL not used: %v", href)
	}
}

func TestVersionDocuments(t *testing.T) {
	t.Parallel()
	c := versionAPI(t)
	for _, tc := range []struct{ path, sample, self string }{
		{"/v2.1/", "v21-version-get-resp.json", "http://example.com/v2.1/"},
		{"/v2.1", "v21-version-get-resp.json", "http://example.com/v2.1/"},
		{"/v2/", "v2-version-get-resp.json", "http://example.com/v2/"},
	} {
		r := c.Do("GET", tc.path, nil).Expect(t, 200)
		apisamples.Assert(t, "nova/api_samples/versions/"+tc.sample, r.Body, apisamples.Options{})
		doc := r.JSON(t)["version"].(map[string]any)
		if href := doc["links"].([]any)[0].(map[string]any)["href"]; href != tc.self {
			t.Errorf("%s: self link %v", tc.path, href)
		}
	}
	// The microversioned endpoint reports its version; the legacy one
	// carries no version headers.
	if h := c.Do("GET", "/v2.1/", nil).Header.Get("OpenStack-API-Version"); h != "compute 2.1" {
		t.Errorf("/v2.1/ version header %q", h)
	}
	if h := c.Do("GET", "/v2/", nil).Header.Get("OpenStack-API-Version"); h != "" {
		t.Errorf("/v2/ carries a version header %q", h)
	}
	if h := c.Do("GET", "/v2/", nil, "OpenStack-API-Version", "compute 9.9").Expect(t, 200).Header; h.Get("X-OpenStack-Nova-API-Version") != "" {
		t.Errorf("/v2/ negotiated a version: %v", h)
	}
}
