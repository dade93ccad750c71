package blockstorage_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestVersionsAndMicroversions(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	anon := c.Member.As("", "")
	r := anon.Do("GET", "/volume/", nil).Expect(t, 300)
	v := list(t, r, "versions")[0]
	if v["id"] != "v3.0" || v["version"] != "3.71" || v["min_version"] != "3.0" || v["status"] != "CURRENT" {
		t.Errorf("version %v", v)
	}
	if got := r.Header.Get("OpenStack-API-Version"); got != "volume 3.0" {
		t.Errorf("version header %q", got)
	}
	links := v["links"].([]any)
	if self := links[1].(map[string]any); self["rel"] != "self" || self["href"] != "http://example.com/volume/v3/" {
		t.Errorf("links %v", links)
	}
	anon.Do("GET", "/volume/v3/", nil).Expect(t, 200)
	anon.Do("GET", "/volume/v3", nil).Expect(t, 200)

	for _, tc := range []struct {
		header         string
		status         int
		name, message  string
		responseHeader string
	}{
		{"volume 3.27", 200, "", "", "volume 3.27"},
		{"volume latest", 200, "", "", "volume 3.71"},
		{"compute 2.1, volume 3.50", 200, "", "", "volume 3.50"},
		{"volume 3.72", 406, "computeFault", "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71.", "volume 3.0"},
		{"volume 2.0", 406, "computeFault", "Version 2.0 is not supported by the API. Minimum is 3.0 and maximum is 3.71.", "volume 3.0"},
		{"volume 3.x", 400, "badRequest", "API Version String 3.x is of invalid format. Must be of format MajorNum.MinorNum.", "volume 3.0"},
		{"compute 2.1", 400, "badRequest", "The server could not comply with the request since it is either malformed or otherwise incapable of performing the requested operation.", "volume 3.0"},
	} {
		r := c.member.c.Do("GET", "/volume/v3/"+c.member.project+"/volumes", nil, "OpenStack-API-Version", tc.header)
		if tc.status != 200 {
			fault(t, r, tc.status, tc.name, tc.message)
		} else {
			r.Expect(t, 200)
		}
		if got := r.Header.Get("OpenStack-API-Version"); got != tc.responseHeader {
			t.Errorf("%s: response header %q, want %q", tc.header, got, tc.responseHeader)
		}
		if r.Header.Get("Vary") != "OpenStack-API-Version" {
			t.Errorf("%s: Vary %q", tc.header, r.Header.Get("Vary"))
		}
	}
}

func TestProjectInPath(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		// Another project's id in the path is Cinder's 400.
		wrong := *c.member
		wrong.project = "0123456789abcdef0123456789abcdef"
		fault(t, wrong.do("GET", "/volumes", nil), 400, "badRequest", "Malformed request url")
		// Without the project id (3.67 documents it; Cinder routes both).
		bare := *c.member
		bare.bare = true
		bare.do("GET", "/volumes", nil).Expect(t, 200)
		fault(t, c.member.do("GET", "/nothing-here", nil), 404, "itemNotFound", "The resource could not be found.")
		c.member.c.As("", "").Do("GET", "/volume/v3/"+c.member.project+"/volumes", nil).Expect(t, 401)
	})
}
