package networking_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// neutronError is Neutron's error body.
type neutronError struct {
	NeutronError struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	} `json:"NeutronError"`
}

// wantError checks a Neutron error answer: status, type and message
// ("" message: any).
func wantError(t *testing.T, r *apitest.Response, status int, typ, message string) {
	t.Helper()
	var e neutronError
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.Body)
	}
	if r.Status != status || e.NeutronError.Type != typ || (message != "" && e.NeutronError.Message != message) {
		t.Errorf("got %d %s %q, want %d %s %q", r.Status, e.NeutronError.Type, e.NeutronError.Message, status, typ, message)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	anon := apitest.Over(t, c.App.Handler)

	r := anon.Do("GET", "/networking/", nil).Expect(t, http.StatusOK)
	v := r.JSON(t)["versions"].([]any)
	if len(v) != 1 || v[0].(map[string]any)["id"] != "v2.0" || v[0].(map[string]any)["status"] != "CURRENT" {
		t.Errorf("versions %v", v)
	}
	if href := v[0].(map[string]any)["links"].([]any)[0].(map[string]any)["href"]; href != "http://example.com/networking/v2.0/" {
		t.Errorf("version link %v", href)
	}

	r = anon.Do("GET", "/networking/v2.0/extensions", nil)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("extensions without a token: %d", r.Status)
	}
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}

	r = c.Member.Do("GET", "/networking/v2.0/extensions", nil).Expect(t, http.StatusOK)
	var exts struct {
		Extensions []map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(r.Body, &exts); err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for _, e := range exts.Extensions {
		for _, k := range []string{"name", "alias", "description", "updated", "links"} {
			if _, ok := e[k]; !ok {
				t.Errorf("extension %v lacks %s", e, k)
			}
		}
		aliases = append(aliases, e["alias"].(string))
	}
	for _, want := range []string{"project-id", "standard-attr-description", "standard-attr-revisions", "standard-attr-timestamp", "pagination", "sorting",
		"binding", "ip-substring-filtering"} {
		if !slices.Contains(aliases, want) {
			t.Errorf("extensions %v lack %s", aliases, want)
		}
	}
	if !slices.IsSorted(aliases) {
		t.Errorf("extensions not in alias order: %v", aliases)
	}
	r = c.Member.Do("GET", "/networking/v2.0/extensions/project-id", nil).Expect(t, http.StatusOK)
	if got := r.JSON(t)["extension"].(map[string]any)["name"]; got != "project_id field enabled" {
		t.Errorf("project-id extension %v", got)
	}
	wantError(t, c.Member.Do("GET", "/networking/v2.0/extensions/os-keypairs", nil), http.StatusNotFound,
		"HTTPNotFound", "Extension with alias os-keypairs does not exist")
	wantError(t, c.Member.Do("GET", "/networking/v2.0/no-such-things", nil), http.StatusNotFound,
		"HTTPNotFound", "The resource could not be found.")
	wantError(t, c.Member.Do("DELETE", "/networking/v2.0/extensions", nil), http.StatusMethodNotAllowed,
		"HTTPMethodNotAllowed", "")

	r = c.Member.Do("GET", "/networking/v2.0/", nil).Expect(t, http.StatusOK)
	if _, ok := r.JSON(t)["resources"].([]any); !ok {
		t.Errorf("v2.0 root %s", r.Body)
	}
}
