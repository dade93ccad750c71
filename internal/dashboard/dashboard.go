// Package dashboard is kumo's web dashboard at /dashboard/: pages
// rendered server-side from calls the dashboard makes to kumo's own API
// handler, in process, exactly as a client makes them (public paths, the
// user's token, the microversion header), so the APIs' routing,
// validation and policy decide everything; the dashboard decides nothing
// itself. The user's Keystone token lives in an HttpOnly, SameSite=Strict
// cookie; state-changing forms carry a CSRF token derived from it.
package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Prefix is where the dashboard is mounted on kumo's listener.
const Prefix = "/dashboard/"

// Cookie names; their path is the dashboard's.
const (
	tokenCookie = "kumo_dashboard_token"
	flashCookie = "kumo_dashboard_flash"
	loginCookie = "kumo_dashboard_login" // the login form's CSRF pair
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Dashboard serves /dashboard/.
type Dashboard struct {
	api   http.Handler
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New builds the dashboard over api, kumo's root API handler.
func New(api http.Handler, log *slog.Logger) (*Dashboard, error) {
	d := &Dashboard{api: api, log: log, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", n, err)
		}
		d.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard static files: %w", err)
	}
	d.mux.Handle("GET /dashboard/static/", http.StripPrefix("/dashboard/static/", http.FileServerFS(static)))
	d.routes()
	return d, nil
}

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentPolicy(""))
	if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		h.Set("Cache-Control", "no-store") // pages show a user's cloud
	}
	if r.URL.Path == "/dashboard" {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	d.mux.ServeHTTP(w, r)
}

// contentPolicy is the pages' Content-Security-Policy: scripts, styles,
// frames and connections of the dashboard's own origin only, plus the
// origin of a console the API handed out (its noVNC page or websocket may
// be served elsewhere).
func contentPolicy(console string) string {
	extra := ""
	if u, err := url.Parse(console); err == nil && u.Host != "" {
		extra = " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; " +
		"frame-ancestors 'self'; frame-src 'self'" + extra + "; connect-src 'self'" + extra
}

// session is one authenticated request: the user's token and what
// Keystone says of it.
type session struct {
	d     *Dashboard
	ctx   context.Context
	req   *http.Request
	w     http.ResponseWriter
	token string

	UserID, UserName, UserDomain string
	ProjectID, ProjectName       string
	Roles                        []string
	ExpiresAt                    string
	// Services are the catalog's service types (compute, image, ...).
	Services map[string]bool
	CSRF     string
}

// Admin reports whether the token holds the admin role: only to decide
// which links to show; the APIs decide what the user may do.
func (s *session) Admin() bool {
	for _, r := range s.Roles {
		if r == "admin" {
			return true
		}
	}
	return false
}

// handler is a page or action that needs a logged-in user.
type handler func(s *session) error

// authed wraps h: it validates the cookie's token with Keystone
// (GET /identity/v3/auth/tokens), sends the browser to the login page
// when it is gone, and refuses state-changing requests without the CSRF
// token. needProject sends an unscoped session to the project picker.
func (d *Dashboard) authed(needProject bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(tokenCookie)
		if err != nil || c.Value == "" {
			d.toLogin(w, r)
			return
		}
		s, err := d.validate(r, w, c.Value)
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusNotFound) {
				d.clearCookie(w, r, tokenCookie)
				d.setFlash(w, r, "Your session has ended: "+ae.Message)
				d.toLogin(w, r)
				return
			}
			d.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.csrfOK() {
			http.Error(w, "Forbidden: the form's CSRF token is missing or wrong; reload the page.", http.StatusForbidden)
			return
		}
		if needProject && s.ProjectID == "" {
			http.Redirect(w, r, Prefix+"projects", http.StatusSeeOther)
			return
		}
		if err := h(s); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				// The API refused: say so as it worded it, with its status.
				w.WriteHeader(ae.Status)
				err = d.renderPage(w, r, "error", page{Title: "Error", Session: s, Error: ae.Message})
			}
			if err != nil {
				d.fail(w, r, err)
			}
		}
	}
}

func (d *Dashboard) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" || r.Method != http.MethodGet {
		http.Error(w, "Unauthorized: log in again.", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// fail answers an error no page could show.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	d.log.ErrorContext(r.Context(), "dashboard", "path", r.URL.Path, "error", err)
	http.Error(w, "Internal error: "+err.Error(), http.StatusInternalServerError)
}

// validate asks Keystone about token.
func (d *Dashboard) validate(r *http.Request, w http.ResponseWriter, token string) (*session, error) {
	rep, err := d.do(r.Context(), r, call{method: http.MethodGet, path: "/identity/v3/auth/tokens", token: token,
		header: http.Header{"X-Subject-Token": {token}}})
	if err != nil {
		return nil, err
	}
	if err := rep.err(); err != nil {
		return nil, err
	}
	var body tokenBody
	if err := rep.decode(&body); err != nil {
		return nil, err
	}
	s := &session{d: d, ctx: r.Context(), req: r, w: w, token: token, CSRF: csrfFor(token)}
	s.fill(body)
	return s, nil
}

// tokenBody is the part of a Keystone token the dashboard shows.
type tokenBody struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		User      struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain struct {
				Name string `json:"name"`
			} `json:"domain"`
		} `json:"user"`
		Project *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"project"`
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
		Catalog []struct {
			Type string `json:"type"`
		} `json:"catalog"`
	} `json:"token"`
}

func (s *session) fill(b tokenBody) {
	t := b.Token
	s.UserID, s.UserName, s.UserDomain, s.ExpiresAt = t.User.ID, t.User.Name, t.User.Domain.Name, t.ExpiresAt
	if t.Project != nil {
		s.ProjectID, s.ProjectName = t.Project.ID, t.Project.Name
	}
	for _, r := range t.Roles {
		s.Roles = append(s.Roles, r.Name)
	}
	s.Services = map[string]bool{}
	for _, c := range t.Catalog {
		s.Services[c.Type] = true
	}
}

// csrfFor is the CSRF token of a session: a hash of its Keystone token,
// which another site cannot read (the cookie is HttpOnly) and so cannot
// forge; one per login, nothing kept on the server.
func csrfFor(token string) string {
	sum := sha256.Sum256([]byte("kumo dashboard csrf\x00" + token))
	return hex.EncodeToString(sum[:])
}

// csrfOK checks the form field (or, for scripts, the X-CSRF-Token header)
// without reading a streamed body.
func (s *session) csrfOK() bool {
	got := s.req.Header.Get("X-CSRF-Token")
	if got == "" && strings.HasPrefix(s.req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.req.Body = http.MaxBytesReader(s.w, s.req.Body, maxFormBytes)
		got = s.req.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// maxFlash bounds a flash message, in bytes.
const maxFlash = 2000

// maxFormBytes bounds a form's body (key pairs are the biggest).
const maxFormBytes = 1 << 20

// overTLS reports whether the browser came over TLS, to kumo or to the
// proxy in front of it (X-Forwarded-Proto, which the APIs trust too).
func overTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// setCookie sets a dashboard cookie: HttpOnly, SameSite=Strict, Secure
// when the browser came over TLS.
func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r)})
}

func (d *Dashboard) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	d.setCookie(w, r, name, "", -1)
}

// setFlash leaves a message for the next page (after a redirect).
func (d *Dashboard) setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	// A cookie holds about 4 KB; an API's message is far shorter.
	if len(msg) > maxFlash {
		msg = strings.ToValidUTF8(msg[:maxFlash], "") + "…"
	}
	d.setCookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), 60)
}

// takeFlash reads and clears the flash message.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	d.clearCookie(w, r, flashCookie)
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(b)
}

// page is what every template gets.
type page struct {
	Title   string
	Session *session
	Flash   string
	Error   string
	Data    any
}

// render writes template name with data.
func (s *session) render(name, title string, data any) error {
	return s.d.renderPage(s.w, s.req, name, page{Title: title, Session: s, Flash: s.d.takeFlash(s.w, s.req), Data: data})
}

func (d *Dashboard) renderPage(w http.ResponseWriter, r *http.Request, name string, p page) error {
	t, ok := d.pages[name]
	if !ok {
		return fmt.Errorf("no dashboard template %q", name)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}

// done ends a state-changing form: back to where to, with the API's
// error (as worded) or the success message in the flash.
func (s *session) done(to string, err error, ok string) error {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		s.d.setFlash(s.w, s.req, "Error: "+ae.Message)
	case err != nil:
		return err
	case ok != "":
		s.d.setFlash(s.w, s.req, ok)
	}
	http.Redirect(s.w, s.req, to, http.StatusSeeOther)
	return nil
}

// randomToken is a fresh random value for the login form's CSRF pair.
func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// path builds an API path from segments, escaping each.
func path(prefix string, segs ...string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, s := range segs {
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
