package api

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
)

// serviceTypes are the catalog types a service answers to, by its Name:
// an access rule names a service by its type.
var serviceTypes = map[string][]string{
	"compute":  {"compute"},
	"identity": {"identity"},
	"image":    {"image"},
	"network":  {"network"},
	"volume":   {"block-storage", "volumev3", "volume"},
}

// checkAccessRules is keystonemiddleware's validate_allowed_request for a
// token issued from an application credential with access rules: the
// call must match one of them (method, service type and path), or the
// token is refused with the middleware's 401. Validating a token is
// always allowed. A rule's path may be written as the catalog shows the
// call (/image/v2/images) or below the service's root (/v2/images).
func (s *Service) checkAccessRules(r *http.Request, p *auth.Principal) error {
	if p == nil || p.AppCred == nil || len(p.AppCred.AccessRules) == 0 {
		return nil
	}
	path := r.URL.Path
	if s.Name == "identity" && r.Method == http.MethodGet && strings.HasSuffix(path, "/v3/auth/tokens") {
		return nil
	}
	paths := []string{path}
	if root := serviceRoot(s.Mount); root != "" && strings.HasPrefix(path, root+"/") {
		paths = append(paths, strings.TrimPrefix(path, root))
	}
	if !p.Allows(serviceTypes[s.Name], r.Method, paths...) {
		return errs.Unauthorized("The request you have made requires authentication.")
	}
	return nil
}

// serviceRoot is the first segment of mount when it is not a version
// (/volume of /volume/v3; none for /v2.1).
func serviceRoot(mount string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(mount, "/"), "/")
	if first == "" || (first[0] == 'v' && len(first) > 1 && unicode.IsDigit(rune(first[1]))) {
		return ""
	}
	return "/" + first
}
