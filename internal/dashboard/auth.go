package dashboard

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

func (d *Dashboard) routes() {
	m := d.mux
	m.HandleFunc("GET /dashboard/{$}", d.authed(true, func(s *session) error {
		http.Redirect(s.w, s.req, Prefix+"servers", http.StatusSeeOther)
		return nil
	}))
	m.HandleFunc("GET /dashboard/login", d.loginPage)
	m.HandleFunc("POST /dashboard/login", d.login)
	m.HandleFunc("POST /dashboard/logout", d.authed(false, d.logout))
	m.HandleFunc("GET /dashboard/projects", d.authed(false, d.projects))
	m.HandleFunc("POST /dashboard/projects", d.authed(false, d.pickProject))

	m.HandleFunc("GET /dashboard/servers", d.authed(true, d.servers))
	m.HandleFunc("GET /dashboard/servers/status", d.authed(true, d.serversStatus))
	m.HandleFunc("GET /dashboard/servers/new", d.authed(true, d.newServer))
	m.HandleFunc("POST /dashboard/servers", d.authed(true, d.createServer))
	m.HandleFunc("GET /dashboard/servers/{id}", d.authed(true, d.server))
	m.HandleFunc("GET /dashboard/servers/{id}/status", d.authed(true, d.serverStatus))
	m.HandleFunc("POST /dashboard/servers/{id}/action", d.authed(true, d.serverAction))
	m.HandleFunc("POST /dashboard/servers/{id}/delete", d.authed(true, d.deleteServer))
	m.HandleFunc("GET /dashboard/servers/{id}/log", d.authed(true, d.consoleLog))
	m.HandleFunc("POST /dashboard/servers/{id}/console", d.authed(true, d.remoteConsole))
	m.HandleFunc("GET /dashboard/servers/{id}/actions/{request_id}", d.authed(true, d.instanceAction))

	m.HandleFunc("GET /dashboard/images", d.authed(true, d.images))
	m.HandleFunc("POST /dashboard/images", d.authed(true, d.createImage))
	m.HandleFunc("PUT /dashboard/images/{id}/file", d.authed(true, d.uploadImage))
	m.HandleFunc("POST /dashboard/images/{id}/delete", d.authed(true, d.deleteImage))

	m.HandleFunc("GET /dashboard/flavors", d.authed(true, d.flavors))
	m.HandleFunc("GET /dashboard/keypairs", d.authed(true, d.keypairs))
	m.HandleFunc("POST /dashboard/keypairs", d.authed(true, d.createKeypair))
	m.HandleFunc("POST /dashboard/keypairs/{name}/delete", d.authed(true, d.deleteKeypair))
	m.HandleFunc("GET /dashboard/networks", d.authed(true, d.networks))
	m.HandleFunc("POST /dashboard/networks", d.authed(true, d.createNetwork))
	m.HandleFunc("POST /dashboard/networks/{id}/delete", d.authed(true, d.deleteNetwork))
	m.HandleFunc("GET /dashboard/volumes", d.authed(true, d.volumes))
	m.HandleFunc("POST /dashboard/volumes", d.authed(true, d.createVolume))
	m.HandleFunc("POST /dashboard/volumes/{id}/delete", d.authed(true, d.deleteVolume))
	m.HandleFunc("GET /dashboard/quotas", d.authed(true, d.quotas))

	m.HandleFunc("GET /dashboard/admin/hypervisors", d.authed(true, d.hypervisors))
	m.HandleFunc("GET /dashboard/admin/services", d.authed(true, d.services))
	m.HandleFunc("GET /dashboard/admin/faults", d.authed(true, d.faults))
	m.HandleFunc("POST /dashboard/admin/faults/{id}/delete", d.authed(true, d.deleteFault))
	m.HandleFunc("GET /dashboard/admin/requests", d.authed(true, d.requests))
}

// loginForm is the login page's data.
type loginForm struct {
	CSRF, User, Domain, CredentialID string
	AppCred                          bool
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	d.showLogin(w, r, loginForm{Domain: "Default"}, "")
}

// showLogin renders the login form with a fresh CSRF pair (cookie and
// field must match on POST: no other site can read or set the cookie).
func (d *Dashboard) showLogin(w http.ResponseWriter, r *http.Request, f loginForm, errMsg string) {
	tok, err := randomToken()
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.setCookie(w, r, loginCookie, tok, 3600)
	f.CSRF = tok
	if errMsg != "" {
		w.WriteHeader(http.StatusUnauthorized)
	}
	if err := d.renderPage(w, r, "login", page{Title: "Log in", Flash: d.takeFlash(w, r), Error: errMsg, Data: f}); err != nil {
		d.fail(w, r, err)
	}
}

// login issues a token with the user's password (unscoped, then the
// project picker) or an application credential (scoped by it).
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		http.Error(w, "Forbidden: the form's CSRF token is missing or wrong; reload the page.", http.StatusForbidden)
		return
	}
	f := loginForm{User: r.PostFormValue("user"), Domain: r.PostFormValue("domain"),
		CredentialID: r.PostFormValue("credential_id"), AppCred: r.PostFormValue("method") == "application_credential"}
	var ident map[string]any
	if f.AppCred {
		ident = map[string]any{"methods": []string{"application_credential"},
			"application_credential": map[string]any{"id": f.CredentialID, "secret": r.PostFormValue("secret")}}
	} else {
		user := map[string]any{"name": f.User, "password": r.PostFormValue("password")}
		if f.Domain != "" {
			user["domain"] = map[string]any{"name": f.Domain}
		}
		ident = map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": user}}
	}
	rep, err := d.do(r.Context(), r, call{method: http.MethodPost, path: "/identity/v3/auth/tokens",
		json: map[string]any{"auth": map[string]any{"identity": ident}}})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if err := rep.err(); err != nil {
		d.showLogin(w, r, f, err.Error())
		return
	}
	d.clearCookie(w, r, loginCookie)
	d.setCookie(w, r, tokenCookie, rep.Header.Get("X-Subject-Token"), 0)
	var body tokenBody
	if err := rep.decode(&body); err == nil && body.Token.Project != nil {
		http.Redirect(w, r, Prefix+"servers", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"projects", http.StatusSeeOther)
}

// logout revokes the token (DELETE /identity/v3/auth/tokens) and drops
// the cookie.
func (d *Dashboard) logout(s *session) error {
	rep, err := d.do(s.ctx, s.req, call{method: http.MethodDelete, path: "/identity/v3/auth/tokens", token: s.token,
		header: http.Header{"X-Subject-Token": {s.token}}})
	if err != nil {
		return err
	}
	d.clearCookie(s.w, s.req, tokenCookie)
	if err := rep.err(); err != nil {
		d.setFlash(s.w, s.req, "Logged out; revoking the token failed: "+err.Error())
	} else {
		d.setFlash(s.w, s.req, "Logged out.")
	}
	http.Redirect(s.w, s.req, Prefix+"login", http.StatusSeeOther)
	return nil
}

type projectRow struct{ ID, Name, DomainID string }

// projects lists the projects the user may scope to (GET /v3/auth/projects).
func (d *Dashboard) projects(s *session) error {
	var body struct {
		Projects []struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			DomainID string `json:"domain_id"`
		} `json:"projects"`
	}
	if err := s.get("/identity/v3/auth/projects", &body); err != nil {
		return err
	}
	rows := make([]projectRow, 0, len(body.Projects))
	for _, p := range body.Projects {
		rows = append(rows, projectRow{ID: p.ID, Name: p.Name, DomainID: p.DomainID})
	}
	return s.render("projects", "Projects", rows)
}

// pickProject exchanges the session's token for one scoped to the chosen
// project (the token method), as a client re-scoping does.
func (d *Dashboard) pickProject(s *session) error {
	id := strings.TrimSpace(s.req.PostFormValue("project_id"))
	rep, err := d.do(s.ctx, s.req, call{method: http.MethodPost, path: "/identity/v3/auth/tokens",
		json: map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": s.token}},
			"scope":    map[string]any{"project": map[string]any{"id": id}},
		}}})
	if err != nil {
		return err
	}
	if err := rep.err(); err != nil {
		return s.done(Prefix+"projects", err, "")
	}
	d.setCookie(s.w, s.req, tokenCookie, rep.Header.Get("X-Subject-Token"), 0)
	http.Redirect(s.w, s.req, Prefix+"servers", http.StatusSeeOther)
	return nil
}
