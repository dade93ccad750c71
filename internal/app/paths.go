package app

import (
	"net/http"
	"path"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	identityapi "github.com/kumocloud/kumo/internal/api/identity"
	imageapi "github.com/kumocloud/kumo/internal/api/image"
)

// errorStyleFor is the error format of the API that serves path: what
// kumo answers in for requests no API's handler sees.
func errorStyleFor(p string) api.ErrorStyle {
	switch {
	case underMount(p, identityapi.Mount):
		return api.KeystoneError
	case underMount(p, imageapi.Mount):
		return api.GlanceError
	}
	return api.NovaFault
}

func underMount(p, mount string) bool {
	return p == mount || strings.HasPrefix(p, mount+"/")
}

// cleanPaths serves a path with repeated slashes as the path with single
// ones: Nova's and Glance's paste urlmap normalises paths so
// (//v2.1//servers lists servers) and Keystone's werkzeug redirects to
// it. http.ServeMux would answer a plain-text 307 instead, as it would
// for dot segments (/v2.1/../identity/v3), which upstream match no route:
// those get the API's 404.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !strings.HasPrefix(p, "/") || (!strings.Contains(p, "//") && !strings.Contains(p, "/.")) {
			next.ServeHTTP(w, r)
			return
		}
		merged := mergeSlashes(p)
		clean := path.Clean(merged)
		if strings.HasSuffix(merged, "/") && clean != "/" {
			clean += "/"
		}
		if clean != merged {
			ct, body := errorStyleFor(merged)(http.StatusNotFound, "The resource could not be found.")
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(body)
			return
		}
		u := *r.URL
		u.Path, u.RawPath = merged, mergeSlashes(u.RawPath)
		r2 := r.WithContext(r.Context()) // a copy: the access log keeps the path as sent
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// mergeSlashes replaces each run of slashes in p with one.
func mergeSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
