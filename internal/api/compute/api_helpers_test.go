package compute_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/mv"
)

// allVersions serves every microversion the compute API implements,
// whatever kumo's current ceiling is, so each can be tested already.
var allVersions = mv.Range{Min: mv.V2_1, Max: mv.V2_104}

// computeAPI mounts the compute services over deps as internal/app does,
// authenticated by auth.NoAuth and serving allVersions.
func computeAPI(t *testing.T, deps computeapi.Deps) *apitest.Client {
	t.Helper()
	return mountCompute(t, deps, auth.NoAuth{}, &allVersions)
}

// mountCompute mounts the compute services over deps as internal/app does:
// the version list at /, /v2.1 and /v2 with and without their slash.
// versions, when not nil, replaces kumo's microversion range so versions
// past the current ceiling can be tested already.
func mountCompute(t *testing.T, deps computeapi.Deps, authn auth.Authenticator, versions *mv.Range) *apitest.Client {
	t.Helper()
	v21, v2 := computeapi.NewServices(deps, api.Options{Auth: authn})
	if versions != nil {
		r := *versions
		v21.Versions = &r
	}
	mux := http.NewServeMux()
	mux.Handle("/", computeapi.VersionList(""))
	mux.Handle("/v2.1", v21)
	mux.Handle("/v2.1/", v21)
	mux.Handle("/v2", v2)
	mux.Handle("/v2/", v2)
	return apitest.New(t, mux)
}

// faultMessage is the message of a Nova fault body.
func faultMessage(t *testing.T, r *apitest.Response) string {
	t.Helper()
	for _, v := range r.JSON(t) {
		if m, ok := v.(map[string]any); ok {
			s, _ := m["message"].(string)
			return s
		}
	}
	t.Fatalf("not a fault body: %s", r.Body)
	return ""
}
