package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/identity"
)

// browser is a cookie-keeping HTTP client of the dashboard.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string // the last page's CSRF field
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do makes a request and returns the final status and body (redirects
// followed), remembering the page's CSRF token.
func (b *browser) do(method, p string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+p, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, p, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(out); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(out)
}

func (b *browser) get(p string) (int, string) { return b.do(http.MethodGet, p, nil) }

// post submits a form with the CSRF token of the last page.
func (b *browser) post(p string, form url.Values) (int, string) {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	return b.do(http.MethodPost, p, form)
}

// user makes a user with a known password and a role on project.
func user(t *testing.T, c *apptest.Cloud, name, project, role string) string {
	t.Helper()
	ctx, ids := context.Background(), c.App.Identity
	pw := "secret-" + name
	u, err := ids.CreateUser(ctx, identity.User{Name: name, DomainID: "default", Enabled: true}, &pw)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ids.ListRoles(ctx, role, "")
	if err != nil || len(rs) != 1 {
		t.Fatalf("role %s: %v %v", role, rs, err)
	}
	if err := ids.Grant(ctx, identity.Target{Project: project}, u.ID, rs[0].ID); err != nil {
		t.Fatal(err)
	}
	return pw
}

// member builds a cloud and a browser logged in as a new member of its
// member project.
func member(t *testing.T, name string) (*apptest.Cloud, *browser) {
	c := apptest.New(t, apptest.Options{})
	pw := user(t, c, name, c.MemberProject, "member")
	b := newBrowser(t, c.URL())
	b.login(name, pw, c.MemberProject)
	return c, b
}

// login logs b in with a password and picks project.
func (b *browser) login(name, pw, project string) {
	b.t.Helper()
	b.get("/dashboard/login")
	st, page := b.post("/dashboard/login", url.Values{"method": {"password"}, "user": {name}, "password": {pw}, "domain": {"Default"}})
	if st != http.StatusOK || !strings.Contains(page, "Projects") {
		b.t.Fatalf("login: %d\n%s", st, page)
	}
	st, page = b.post("/dashboard/projects", url.Values{"project_id": {project}})
	if st != http.StatusOK || !strings.Contains(page, `id="servers"`) {
		b.t.Fatalf("pick project: %d\n%s", st, page)
	}
}

func adminProject(t *testing.T, c *apptest.Cloud) string {
	ps, err := c.App.Identity.ListProjects(context.Background(), identity.ProjectFilter{Name: "admin", DomainID: "default"})
	if err != nil || len(ps) != 1 {
		t.Fatalf("admin project: %v %v", ps, err)
	}
	return ps[0].ID
}

func TestLoginRequired(t *testing.T) {
	c := apptest.New(t, apptest.Options{})
	b := newBrowser(t, c.URL())
	for _, p := range []string{"/dashboard/", "/dashboard/servers", "/dashboard/admin/faults"} {
		st, page := b.get(p)
		if st != http.StatusOK || !strings.Contains(page, `id="login-password"`) {
			t.Errorf("GET %s without a session: %d, not the login page", p, st)
		}
	}
	// A wrong password shows Keystone's refusal as worded.
	b.get("/dashboard/login")
	st, page := b.post("/dashboard/login", url.Values{"method": {"password"}, "user": {"nobody"}, "password": {"x"}, "domain": {"Default"}})
	if st != http.StatusUnauthorized || !strings.Contains(page, "The request you have made requires authentication.") {
		t.Errorf("bad login: %d\n%s", st, page)
	}
}

func TestServerLifecycle(t *testing.T) {
	c, b := member(t, "alice")

	st, page := b.get("/dashboard/servers/new")
	if st != http.StatusOK || !strings.Contains(page, c.ImageID) {
		t.Fatalf("new server form: %d\n%s", st, page)
	}
	st, page = b.post("/dashboard/servers", url.Values{"name": {"web-1"}, "image": {c.ImageID}, "flavor": {"1"}})
	if st != http.StatusOK || !strings.Contains(page, "Server web-1 is being built.") {
		t.Fatalf("create: %d\n%s", st, page)
	}
	id := regexp.MustCompile(`id="server" data-id="([^"]+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("no server id on the page:\n%s", page)
	}
	c.Step()
	var status struct {
		Status  string            `json:"status"`
		Actions map[string]string `json:"actions"`
	}
	st, js := b.get("/dashboard/servers/" + id[1] + "/status")
	if err := json.Unmarshal([]byte(js), &status); err != nil || st != http.StatusOK {
		t.Fatalf("status: %d %s %v", st, js, err)
	}
	if status.Status != "ACTIVE" || status.Actions["reboot-soft"] != "" || status.Actions["os-start"] == "" {
		t.Fatalf("status of an active server: %+v", status)
	}
	// The state model's refusal is Nova's 409 text.
	if want := "Cannot 'start' instance " + id[1] + " while it is in vm_state active"; status.Actions["os-start"] != want {
		t.Errorf("start refusal %q, want %q", status.Actions["os-start"], want)
	}
	b.get("/dashboard/servers/" + id[1])
	st, page = b.post("/dashboard/servers/"+id[1]+"/action", url.Values{"action": {"reboot-soft"}})
	if st != http.StatusOK || !strings.Contains(page, "Soft reboot: accepted.") {
		t.Fatalf("reboot: %d\n%s", st, page)
	}
	// Nova refuses a second reboot while the first runs: its words shown.
	st, page = b.post("/dashboard/servers/"+id[1]+"/action", url.Values{"action": {"os-start"}})
	if st != http.StatusOK || !strings.Contains(page, "Error: Cannot &#39;start&#39; instance") {
		t.Fatalf("refused start: %d\n%s", st, page)
	}
	c.Step()
	st, page = b.get("/dashboard/servers/" + id[1])
	if !strings.Contains(page, "reboot") || !strings.Contains(page, `id="history"`) {
		t.Errorf("server page lacks the reboot in its history: %d", st)
	}
	// The console log is a call the host answers: step its agent meanwhile.
	type answer struct {
		st   int
		page string
	}
	logged := make(chan answer, 1)
	go func() {
		st, page := b.get("/dashboard/servers/" + id[1] + "/log")
		logged <- answer{st, page}
	}()
	var got answer
	for waiting := true; waiting; {
		select {
		case got = <-logged:
			waiting = false
		case <-time.After(20 * time.Millisecond):
			c.Step()
		}
	}
	if got.st != http.StatusOK || !strings.Contains(got.page, `id="log"`) {
		t.Errorf("console log: %d\n%s", got.st, got.page)
	}
	// Until remote consoles exist the API's refusal is shown.
	if st, page = b.post("/dashboard/servers/"+id[1]+"/console", url.Values{"type": {"serial"}}); st != http.StatusOK ||
		!(strings.Contains(page, `id="console-error"`) || strings.Contains(page, `id="terminal"`)) {
		t.Errorf("serial console: %d\n%s", st, page)
	}
	b.get("/dashboard/servers/" + id[1])
	if st, page = b.post("/dashboard/servers/"+id[1]+"/delete", nil); st != http.StatusOK || !strings.Contains(page, "Server deletion accepted.") {
		t.Fatalf("delete: %d\n%s", st, page)
	}
}

func TestCSRFRequired(t *testing.T) {
	c, b := member(t, "bob")
	id := c.CreateServer(c.Member, "victim", nil)
	c.Step()
	for _, csrf := range []string{"", "0000"} {
		st, _ := b.do(http.MethodPost, "/dashboard/servers/"+id+"/delete", url.Values{"csrf": {csrf}})
		if st != http.StatusForbidden {
			t.Errorf("delete with CSRF %q: %d, want 403", csrf, st)
		}
	}
	if s := c.Server(id); s == nil || s.Status != "ACTIVE" {
		t.Errorf("the server after refused deletes: %+v", s)
	}
	// The login form has its own pair.
	st, _ := b.do(http.MethodPost, "/dashboard/login", url.Values{"user": {"bob"}, "password": {"secret-bob"}})
	if st != http.StatusForbidden {
		t.Errorf("login without CSRF: %d, want 403", st)
	}
}

func TestMemberSeesAPIRefusalOnAdminPages(t *testing.T) {
	c, b := member(t, "carol")
	_, page := b.get("/dashboard/servers")
	if strings.Contains(page, "/dashboard/admin/") {
		t.Errorf("a member's pages link the admin pages")
	}
	for _, p := range []string{"/dashboard/admin/hypervisors", "/dashboard/admin/services"} {
		st, page := b.get(p)
		if st != http.StatusForbidden || !strings.Contains(page, "Policy doesn&#39;t allow os_compute_api:") {
			t.Errorf("member GET %s: %d\n%s", p, st, page)
		}
	}
	// An admin sees them.
	apw := user(t, c, "root", adminProject(t, c), "admin")
	a := newBrowser(t, c.URL())
	a.login("root", apw, adminProject(t, c))
	if st, page := a.get("/dashboard/admin/hypervisors"); st != http.StatusOK || !strings.Contains(page, "apptest-host") {
		t.Errorf("admin hypervisors: %d\n%s", st, page)
	}
	if st, page := a.get("/dashboard/admin/services"); st != http.StatusOK || !strings.Contains(page, "nova-compute") {
		t.Errorf("admin services: %d\n%s", st, page)
	}
	if st, page := a.get("/dashboard/admin/faults"); st != http.StatusOK {
		t.Errorf("admin faults: %d\n%s", st, page)
	}
}

func TestEscaping(t *testing.T) {
	c, b := member(t, "dave")
	evil := `<script>alert("x")</script>`
	c.CreateServer(c.Member, evil, nil)
	st, page := b.get("/dashboard/servers")
	if st != http.StatusOK || strings.Contains(page, evil) || !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("server name not escaped: %d\n%s", st, page)
	}
	b.post("/dashboard/keypairs", url.Values{"name": {evil}})
	if _, page := b.get("/dashboard/keypairs"); strings.Contains(page, evil) {
		t.Errorf("key pair page shows raw HTML")
	}
}

func TestKeypairPrivateKeyShownOnce(t *testing.T) {
	_, b := member(t, "erin")
	b.get("/dashboard/keypairs")
	st, page := b.post("/dashboard/keypairs", url.Values{"name": {"k1"}, "type": {"ssh"}})
	if st != http.StatusOK || !strings.Contains(page, "PRIVATE KEY") {
		t.Fatalf("create key pair: %d\n%s", st, page)
	}
	if _, page = b.get("/dashboard/keypairs"); strings.Contains(page, "PRIVATE KEY") || !strings.Contains(page, `action="/dashboard/keypairs/k1/delete"`) {
		t.Errorf("the private key shows again, or the key pair is missing")
	}
	b.post("/dashboard/keypairs/k1/delete", nil)
	if _, page = b.get("/dashboard/keypairs"); strings.Contains(page, "<td>k1</td>") {
		t.Errorf("key pair not deleted")
	}
}

func TestPagesRender(t *testing.T) {
	_, b := member(t, "frank")
	for _, p := range []string{"/dashboard/images", "/dashboard/flavors", "/dashboard/networks", "/dashboard/volumes", "/dashboard/quotas"} {
		if st, page := b.get(p); st != http.StatusOK || strings.Contains(page, `class="error"`) {
			t.Errorf("GET %s: %d\n%s", p, st, page)
		}
	}
	b.get("/dashboard/volumes")
	if st, page := b.post("/dashboard/volumes", url.Values{"name": {"v1"}, "size": {"1"}}); st != http.StatusOK || !strings.Contains(page, "Volume creation accepted.") {
		t.Errorf("create volume: %d\n%s", st, page)
	}
	b.get("/dashboard/networks")
	if st, page := b.post("/dashboard/networks", url.Values{"name": {"n1"}, "cidr": {"10.77.0.0/24"}}); st != http.StatusOK || !strings.Contains(page, "10.77.0.0/24") {
		t.Errorf("create network: %d\n%s", st, page)
	}
	if _, page := b.get("/dashboard/quotas"); !strings.Contains(page, "Instances") || !strings.Contains(page, "network") || !strings.Contains(page, "volumes") {
		t.Errorf("quotas page lacks a group:\n%s", page)
	}
}

func TestLogoutRevokesToken(t *testing.T) {
	c, b := member(t, "gina")
	u, _ := url.Parse(c.URL() + "/dashboard/")
	var token string
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "kumo_dashboard_token" {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("no token cookie")
	}
	st, page := b.post("/dashboard/logout", nil)
	if st != http.StatusOK || !strings.Contains(page, "Logged out.") {
		t.Fatalf("logout: %d\n%s", st, page)
	}
	req, _ := http.NewRequest(http.MethodGet, c.URL()+"/v2.1/servers", nil)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the logged-out token still works: %d", resp.StatusCode)
	}
}

// xhr makes a script's request: the CSRF token in its header.
func (b *browser) xhr(method, p, contentType string, body io.Reader) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+p, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestImageUpload(t *testing.T) {
	c, b := member(t, "hana")
	b.get("/dashboard/images")
	meta := url.Values{"name": {"up-1"}, "disk_format": {"raw"}, "container_format": {"bare"}, "visibility": {"private"}}
	st, js := b.xhr(http.MethodPost, "/dashboard/images", "application/x-www-form-urlencoded", strings.NewReader(meta.Encode()))
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(js), &created); err != nil || st != http.StatusCreated || created.ID == "" {
		t.Fatalf("create image: %d %s", st, js)
	}
	data := strings.Repeat("kumo", 64<<10)
	// Without the CSRF header the upload is refused before Glance sees it.
	csrf := b.csrf
	b.csrf = ""
	if st, _ := b.xhr(http.MethodPut, "/dashboard/images/"+created.ID+"/file", "application/octet-stream", strings.NewReader(data)); st != http.StatusForbidden {
		t.Errorf("upload without CSRF: %d, want 403", st)
	}
	b.csrf = csrf
	if st, js := b.xhr(http.MethodPut, "/dashboard/images/"+created.ID+"/file", "application/octet-stream", strings.NewReader(data)); st != http.StatusOK {
		t.Fatalf("upload: %d %s", st, js)
	}
	var img struct {
		Status string `json:"status"`
		Size   int    `json:"size"`
	}
	r := c.Member.Do(http.MethodGet, "/image/v2/images/"+created.ID, nil).Expect(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &img); err != nil || img.Status != "active" || img.Size != len(data) {
		t.Errorf("image after upload: %+v %v", img, err)
	}
	// A second upload is Glance's 409, as Glance words it.
	if st, js := b.xhr(http.MethodPut, "/dashboard/images/"+created.ID+"/file", "application/octet-stream", strings.NewReader("x")); st != http.StatusConflict || !strings.Contains(js, "error") {
		t.Errorf("second upload: %d %s", st, js)
	}
	if st, page := b.post("/dashboard/images/"+created.ID+"/delete", nil); st != http.StatusOK || !strings.Contains(page, "Image deleted.") {
		t.Errorf("delete image: %d\n%s", st, page)
	}
}

func TestApplicationCredentialLogin(t *testing.T) {
	c := apptest.New(t, apptest.Options{})
	pw := user(t, c, "ivan", c.MemberProject, "member")
	// Make the credential as a client does.
	tok := apiToken(t, c, "ivan", pw, c.MemberProject)
	var uid struct {
		Token struct {
			User struct{ ID string } `json:"user"`
		} `json:"token"`
	}
	r := c.Member.As(tok, "").Do(http.MethodGet, "/identity/v3/auth/tokens", nil, "X-Subject-Token", tok)
	if err := json.Unmarshal(r.Body, &uid); err != nil || uid.Token.User.ID == "" {
		t.Fatalf("validate token: %d %s", r.Status, r.Body)
	}
	var cred struct {
		AC struct{ ID, Secret string } `json:"application_credential"`
	}
	r = c.Member.As(tok, "").Do(http.MethodPost, "/identity/v3/users/"+uid.Token.User.ID+"/application_credentials",
		map[string]any{"application_credential": map[string]any{"name": "dash"}}).Expect(t, http.StatusCreated)
	if err := json.Unmarshal(r.Body, &cred); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, c.URL())
	b.get("/dashboard/login")
	st, page := b.post("/dashboard/login", url.Values{"method": {"application_credential"}, "credential_id": {cred.AC.ID}, "secret": {cred.AC.Secret}})
	if st != http.StatusOK || !strings.Contains(page, `id="servers"`) || !strings.Contains(page, "member-apptest-host") {
		t.Fatalf("application credential login: %d\n%s", st, page)
	}
}

// apiToken logs in over the identity API and returns a project token.
func apiToken(t *testing.T, c *apptest.Cloud, name, pw, project string) string {
	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "` + name +
		`", "domain": {"id": "default"}, "password": "` + pw + `"}}}, "scope": {"project": {"id": "` + project + `"}}}}`
	resp, err := http.Post(c.URL()+"/identity/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	return resp.Header.Get("X-Subject-Token")
}

// TestLaunchWithVolume launches from the form with a volume to attach:
// the form's block device mappings are ones Nova (and kumo) accept.
func TestLaunchWithVolume(t *testing.T) {
	c, b := member(t, "jo")
	b.get("/dashboard/volumes")
	b.post("/dashboard/volumes", url.Values{"name": {"data"}, "size": {"1"}})
	if _, err := c.App.VolumeWorker.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, page := b.get("/dashboard/servers/new")
	vol := regexp.MustCompile(`<option value="([^"]+)">data \(1 GiB\)</option>`).FindStringSubmatch(page)
	if vol == nil {
		t.Fatalf("the form offers no available volume:\n%s", page)
	}
	st, page := b.post("/dashboard/servers", url.Values{"name": {"with-vol"}, "image": {c.ImageID}, "flavor": {"1"}, "volume": {vol[1]}})
	if st != http.StatusOK || !strings.Contains(page, "Server with-vol is being built.") {
		t.Fatalf("create with a volume: %d\n%s", st, page)
	}
	c.Step()
	if _, err := c.App.VolumeWorker.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Step()
	if _, page = b.get("/dashboard/volumes"); !strings.Contains(page, "in-use") {
		t.Errorf("the volume is not in use after the launch:\n%s", page)
	}
}

// TestFaultsPage: the admin page lists kumo's fault injection rules and
// their events and deletes a rule; a fault fires on the dashboard's own
// calls as on any client's, and shows as the API worded it.
func TestFaultsPage(t *testing.T) {
	c := apptest.New(t, apptest.Options{})
	r := c.Admin.Do(http.MethodPost, "/kumo/v1/faults", map[string]any{"fault": map[string]any{"name": "flaky-flavors",
		"service": "compute", "method": "GET", "path": "/flavors/detail",
		"action": map[string]any{"type": "status", "status": 503, "message": "injected by the test"}}}).Expect(t, http.StatusCreated)
	var created struct {
		Fault struct{ ID string } `json:"fault"`
	}
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	pw := user(t, c, "root", adminProject(t, c), "admin")
	b := newBrowser(t, c.URL())
	b.login("root", pw, adminProject(t, c))
	if st, page := b.get("/dashboard/flavors"); st != http.StatusServiceUnavailable || !strings.Contains(page, "injected by the test") {
		t.Errorf("flavors under a fault: %d\n%s", st, page)
	}
	st, page := b.get("/dashboard/admin/faults")
	if st != http.StatusOK || !strings.Contains(page, "flaky-flavors") || !strings.Contains(page, `id="fault-events"`) ||
		strings.Count(page, "compute GET /flavors/detail") < 2 {
		t.Fatalf("faults page: %d\n%s", st, page)
	}
	if st, page = b.post("/dashboard/admin/faults/"+created.Fault.ID+"/delete", nil); st != http.StatusOK || !strings.Contains(page, "Fault rule deleted.") {
		t.Fatalf("delete rule: %d\n%s", st, page)
	}
	if st, _ := b.get("/dashboard/flavors"); st != http.StatusOK {
		t.Errorf("flavors after the rule went: %d", st)
	}
}

// TestRequestsPage: a server action made in the dashboard shows in the
// admin's request inspector, linked to the instance action it caused,
// whose page shows the action and its events; the dashboard's own page
// loads are no API requests; a member gets the API's refusal.
func TestRequestsPage(t *testing.T) {
	c := apptest.New(t, apptest.Options{})
	pw := user(t, c, "root", adminProject(t, c), "admin")
	b := newBrowser(t, c.URL())
	b.login("root", pw, adminProject(t, c))
	id := c.CreateServer(c.Admin, "inspected", nil)
	c.Step()
	b.get("/dashboard/servers/" + id)
	if st, page := b.post("/dashboard/servers/"+id+"/action", url.Values{"action": {"reboot-soft"}}); st != http.StatusOK || !strings.Contains(page, "Soft reboot: accepted.") {
		t.Fatalf("reboot: %d\n%s", st, page)
	}
	c.Step()
	st, page := b.get("/dashboard/admin/requests?method=POST&server_id=" + id)
	if st != http.StatusOK || !strings.Contains(page, "POST /v2.1/servers/"+id+"/action") {
		t.Fatalf("inspector: %d\n%s", st, page)
	}
	link := regexp.MustCompile(`href="(/dashboard/servers/`+id+`/actions/(req-[^"]+))"`).FindAllStringSubmatch(page, -1)
	if len(link) != 2 { // the reboot and the create, newest first
		t.Fatalf("%d instance action links, want 2:\n%s", len(link), page)
	}
	st, page = b.get(link[0][1])
	if st != http.StatusOK || !strings.Contains(page, "<td>reboot</td>") || !strings.Contains(page, link[0][2]) ||
		!strings.Contains(page, "compute_reboot_instance") || !strings.Contains(page, "Success") {
		t.Errorf("the reboot's action page: %d\n%s", st, page)
	}
	if st, page = b.get(link[1][1]); st != http.StatusOK || !strings.Contains(page, "<td>create</td>") {
		t.Errorf("the create's action page: %d\n%s", st, page)
	}
	st, page = b.get("/dashboard/admin/requests?path=/dashboard")
	if st != http.StatusOK || !strings.Contains(page, "No requests match.") {
		t.Errorf("the dashboard's page loads are listed: %d\n%s", st, page)
	}
	if st, page = b.get("/dashboard/admin/requests?status=6xx"); st != http.StatusOK || !strings.Contains(page, `id="requests-invalid"`) {
		t.Errorf("invalid filter: %d\n%s", st, page)
	}
	m := newBrowser(t, c.URL())
	m.login("erin", user(t, c, "erin", c.MemberProject, "member"), c.MemberProject)
	if st, page := m.get("/dashboard/admin/requests"); st != http.StatusForbidden || !strings.Contains(page, "kumo:requests:list") {
		t.Errorf("member: %d\n%s", st, page)
	}
}
