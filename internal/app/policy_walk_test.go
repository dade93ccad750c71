package app

// The route walk: every route of every API's route table, and every
// action of the compute and block storage APIs' action routes, is called
// without a token, as a reader, a member and an admin, by members and
// readers of another project and with an unscoped token, on both engines.
// Routes added later are walked without anyone listing them here.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestEveryRouteEnforcesItsRule(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			// Every write that succeeds on a server makes a new one and the
			// old ones stay: a host of fixed, ample size, not the machine's,
			// keeps room for all of them.
			cfg := Config{DataDir: t.TempDir(), FloatingRange: "203.0.113.0/24", FloatingPool: "public", PasswordHashCost: 4,
				HostVCPUs: 256, HostMemoryMB: 1 << 20, HostDiskGB: 1 << 12}
			if engine == "postgres" {
				cfg.Database = storetest.PostgresDSN(t)
			}
			a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatalf("open app: %v", err)
			}
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { a.Agent.Run(ctx); close(done) }()
			t.Cleanup(func() { stop(); <-done; a.Close() })
			w := newWalk(t, a)
			w.walkRoutes()
			w.walkActions()
		})
	}
}

// TestRoutesNameTheirUpstreamRule checks that each route names the rule
// the upstream service applies to it: the rule's documented calls include
// the route's method and path.
func TestRoutesNameTheirUpstreamRule(t *testing.T) {
	t.Parallel()
	a := openTestApp(t, t.TempDir())
	for _, svc := range a.APIs {
		for _, r := range svc.Router.Routes() {
			if r.Anonymous {
				continue
			}
			rule, ok := svc.Policy.Rule(r.Rule)
			if !ok {
				t.Errorf("%s %s %s names rule %q, which the %s policy lacks", svc.Name, r.Method, r.Path, r.Rule, svc.Policy.Name())
				continue
			}
			if r.Rule == policy.Removed {
				continue
			}
			if !documents(rule, r.Method, r.Path) {
				t.Errorf("%s %s %s names rule %q, which guards %v", svc.Name, r.Method, r.Path, r.Rule, rule.Operations)
			}
		}
	}
	rules := policy.Compute()
	for _, act := range computeapi.Actions() {
		rule, ok := rules.Rule(act.Rule)
		if !ok {
			t.Errorf("action %s of %s names rule %q, which the compute policy lacks", act.Name, act.Path, act.Rule)
			continue
		}
		if act.Rule != policy.Removed && !documentsAction(rule, act.Path, act.Name) {
			t.Errorf("action %s of %s names rule %q, which guards %v", act.Name, act.Path, act.Rule, rule.Operations)
		}
	}
}

var paramPattern = regexp.MustCompile(`\{[^}]*\}`)

// normalPath drops parameter names and the API's own prefix (Keystone
// documents /v3/..., Glance /v2/..., Nova paths relative to /v2.1).
// Nova's /os-volumes_boot is the servers controller under the servers
// rules, whose documented calls name /servers only.
func normalPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/os-volumes_boot"); ok {
		p = "/servers" + rest
	}
	return strings.TrimSuffix(paramPattern.ReplaceAllString(p, "{}"), "/")
}

func documents(rule policy.Rule, method, path string) bool {
	want := method + " " + normalPath(path)
	for _, op := range rule.Operations {
		for _, op := range methodList(op) {
			m, p, _ := strings.Cut(op, " ")
			p, _, _ = strings.Cut(p, " ")
			if m+" "+normalPath(p) == want || (method == "HEAD" && "GET "+normalPath(p) == "GET "+normalPath(path) && m == "GET") {
				return true
			}
		}
	}
	return false
}

// methodList spells out an operation written with Keystone's method list
// ("['HEAD', 'GET'] /v3/system/users/{user_id}/roles") as one operation
// per method; others are returned as they are.
func methodList(op string) []string {
	list, path, ok := strings.Cut(op, "] ")
	if !ok || !strings.HasPrefix(list, "[") {
		return []string{op}
	}
	var out []string
	for _, m := range strings.Split(strings.TrimPrefix(list, "["), ",") {
		out = append(out, strings.Trim(strings.TrimSpace(m), "'")+" "+path)
	}
	return out
}

func documentsAction(rule policy.Rule, path, action string) bool {
	for _, op := range rule.Operations {
		if strings.HasPrefix(op, "POST ") && normalPath(strings.Fields(op)[1]) == normalPath(path) &&
			strings.Contains(op, "("+action+")") {
			return true
		}
	}
	return false
}

// persona is a caller of the walk.
type persona struct {
	name      string
	token     string
	principal *auth.Principal
	project   string // "A", "B" or "" (admin's or none)
}

// walk holds the cloud under test, its callers and the objects the walk
// names in paths.
type walk struct {
	t         *testing.T
	a         *App
	h         http.Handler
	personas  []*persona
	byName    map[string]*persona
	projA     string
	projB     string
	memberA   string // user id of memberA, who owns A's objects
	adminUser string // user id of admin
	fixtures  map[string]string
	dirty     map[string]bool
	makers    map[string]func() string
	tinyImage string
	seq       int // numbers the fixtures that need a unique value
}

// nextSeq is a number no earlier call returned.
func (w *walk) nextSeq() int {
	w.seq++
	return w.seq
}

func newWalk(t *testing.T, a *App) *walk {
	w := &walk{t: t, a: a, h: a.Handler, byName: map[string]*persona{}, fixtures: map[string]string{}, dirty: map[string]bool{}}
	ctx := context.Background()
	ids := a.Identity
	roleID := func(name string) string {
		rs, err := ids.ListRoles(ctx, name, "")
		if err != nil || len(rs) != 1 {
			t.Fatalf("role %s: %v %v", name, rs, err)
		}
		return rs[0].ID
	}
	project := func(name string) string {
		p, err := ids.CreateProject(ctx, identity.Project{Name: name, DomainID: "default", Enabled: true})
		if err != nil {
			t.Fatalf("create project %s: %v", name, err)
		}
		return p.ID
	}
	w.projA, w.projB = project("walk-a"), project("walk-b")
	issue := func(userID, password string, scope identity.ScopeRequest) string {
		tok, err := ids.IssueToken(ctx, identity.AuthRequest{Methods: []string{"password"},
			Password: &identity.PasswordAuth{UserID: userID, Password: password}, Scope: scope})
		if err != nil {
			t.Fatalf("issue token: %v", err)
		}
		return tok.ID
	}
	add := func(name, token, project string) {
		p, err := ids.Authenticate(ctx, token)
		if err != nil {
			t.Fatalf("authenticate %s: %v", name, err)
		}
		ps := &persona{name: name, token: token, principal: p, project: project}
		w.personas = append(w.personas, ps)
		w.byName[name] = ps
	}
	for _, u := range []struct{ name, role, project, label string }{
		{"walk-reader-a", "reader", w.projA, "A"}, {"walk-member-a", "member", w.projA, "A"},
		{"walk-member-b", "member", w.projB, "B"}, {"walk-reader-b", "reader", w.projB, "B"},
	} {
		pw := "walk-password-" + u.name
		user, err := ids.CreateUser(ctx, identity.User{Name: u.name, DomainID: "default", Enabled: true}, &pw)
		if err != nil {
			t.Fatalf("create user: %v", err)
		}
		if err := ids.Grant(ctx, identity.Target{Project: u.project}, user.ID, roleID(u.role)); err != nil {
			t.Fatalf("grant: %v", err)
		}
		name := strings.TrimPrefix(u.name, "walk-")
		add(name, issue(user.ID, pw, identity.ScopeRequest{ProjectID: u.project}), u.label)
		if name == "member-a" {
			w.memberA = user.ID
			add("unscoped", issue(user.ID, pw, identity.ScopeRequest{Unscoped: true}), "")
		}
	}
	creds, err := ReadClouds(a.Config.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ids.ListUsers(ctx, identity.UserFilter{Name: "admin"})
	if err != nil || len(admin) != 1 {
		t.Fatalf("admin user: %v %v", admin, err)
	}
	w.adminUser = admin[0].ID
	add("admin", issue(admin[0].ID, creds.Password, identity.ScopeRequest{ProjectName: "admin", ProjectDomainID: "default"}), "")
	w.tinyImage = w.jsonField(w.call("admin", "GET", "/image/v2/images?name=kumo-tiny", "", nil), "images", "0", "id")
	w.makers = w.fixtureMakers()
	return w
}

// call sends one request as persona (no token for ""), with a JSON body.
func (w *walk) call(who, method, path, version string, body any) *httptest.ResponseRecorder {
	w.t.Helper()
	return w.callTyped(who, method, path, version, body, "application/json")
}

// callTyped sends one request with a body of contentType.
func (w *walk) callTyped(who, method, path, version string, body any, contentType string) *httptest.ResponseRecorder {
	w.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if who != "" {
		req.Header.Set("X-Auth-Token", w.byName[who].token)
	}
	if version != "" {
		service := "compute"
		if strings.HasPrefix(path, "/volume/") {
			service = "volume"
		}
		req.Header.Set("OpenStack-API-Version", service+" "+version)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec
}

// must calls and fails the test unless the answer is a 2xx.
func (w *walk) must(who, method, path, version string, body any) *httptest.ResponseRecorder {
	w.t.Helper()
	rec := w.call(who, method, path, version, body)
	if rec.Code/100 != 2 {
		w.t.Fatalf("%s %s as %s: %d %s", method, path, who, rec.Code, rec.Body)
	}
	return rec
}

// jsonField digs a string out of a JSON answer by keys and list indexes.
func (w *walk) jsonField(rec *httptest.ResponseRecorder, path ...string) string {
	w.t.Helper()
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		w.t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
	}
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(x) {
				w.t.Fatalf("no item %s in %s", k, rec.Body)
			}
			v = x[i]
		default:
			w.t.Fatalf("no %v in %s", path, rec.Body)
		}
	}
	s, ok := v.(string)
	if !ok {
		if f, isNum := v.(float64); isNum {
			return fmt.Sprint(int64(f))
		}
		w.t.Fatalf("%v is not a string in %s", path, rec.Body)
	}
	return s
}

// fixtureMakers create the objects the walk names in paths: project A's
// (made by member-a) and the identity objects an admin may delete
// (victims, never one of the callers).
func (w *walk) fixtureMakers() map[string]func() string {
	const latest = "latest"
	return map[string]func() string{
		"server": func() string {
			// Every write that succeeds on a server makes a new one: keep
			// project A's instance quota out of the way.
			w.fixture("tenant")
			id := w.jsonField(w.must("member-a", "POST", "/v2.1/servers", "2.37", map[string]any{"server": map[string]any{
				"name": "walk", "imageRef": w.tinyImage, "flavorRef": "1", "networks": "none",
				"metadata": map[string]any{"k1": "v1"}}}), "server", "id")
			w.waitActive(id)
			w.must("member-a", "PUT", "/v2.1/servers/"+id+"/tags/t1", latest, nil)
			return id
		},
		"request": func() string {
			return w.jsonField(w.must("member-a", "GET", "/v2.1/servers/"+w.fixture("server")+"/os-instance-actions", latest, nil),
				"instanceActions", "0", "request_id")
		},
		"image": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/image/v2/images", "", map[string]any{
				"name": "walk", "disk_format": "raw", "container_format": "bare", "visibility": "private", "k1": "v1",
				"tags": []string{"t1"}}), "id")
			return id
		},
		"keypair": func() string {
			return w.jsonField(w.must("member-a", "POST", "/v2.1/os-keypairs", "2.1", map[string]any{"keypair": map[string]any{
				"name": fmt.Sprintf("walk-%d", time.Now().UnixNano())}}), "keypair", "name")
		},
		"servergroup": func() string {
			return w.jsonField(w.must("member-a", "POST", "/v2.1/os-server-groups", "2.1", map[string]any{
				"server_group": map[string]any{"name": "walk", "policies": []string{"affinity"}}}), "server_group", "id")
		},
		"secgroup": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/v2.1/os-security-groups", "2.1", map[string]any{
				"security_group": map[string]any{"name": "walk", "description": "walk"}}), "security_group", "id")
			w.must("member-a", "PUT", "/networking/v2.0/security-groups/"+id+"/tags/t1", "", nil)
			return id
		},
		"secgrouprule": func() string {
			return w.jsonField(w.must("member-a", "POST", "/v2.1/os-security-group-rules", "2.1", map[string]any{
				"security_group_rule": map[string]any{"parent_group_id": w.fixture("secgroup"), "ip_protocol": "tcp",
					"from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}}), "security_group_rule", "id")
		},
		"floatingip": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/v2.1/os-floating-ips", "2.1", nil), "floating_ip", "id")
			w.must("member-a", "PUT", "/networking/v2.0/floatingips/"+id+"/tags/t1", "", nil)
			return id
		},
		"network": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/networking/v2.0/networks", "", map[string]any{
				"network": map[string]any{"name": "walk"}}), "network", "id")
			w.must("member-a", "PUT", "/networking/v2.0/networks/"+id+"/tags/t1", "", nil)
			return id
		},
		"router": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/networking/v2.0/routers", "", map[string]any{
				"router": map[string]any{"name": "walk"}}), "router", "id")
			w.must("member-a", "PUT", "/networking/v2.0/routers/"+id+"/tags/t1", "", nil)
			return id
		},
		"port": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/networking/v2.0/ports", "", map[string]any{
				"port": map[string]any{"network_id": w.fixture("network"), "name": "walk"}}), "port", "id")
			w.must("member-a", "PUT", "/networking/v2.0/ports/"+id+"/tags/t1", "", nil)
			return id
		},
		"subnet": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/networking/v2.0/subnets", "", map[string]any{
				"subnet": map[string]any{"network_id": w.fixture("network"), "ip_version": 4,
					"cidr": fmt.Sprintf("192.168.%d.0/24", w.nextSeq())}}), "subnet", "id")
			w.must("member-a", "PUT", "/networking/v2.0/subnets/"+id+"/tags/t1", "", nil)
			return id
		},
		// Project A itself, without quotas: fixtures are made again
		// whenever a call may have changed them.
		"volume": func() string {
			return w.newVolume(map[string]any{"size": 1, "name": "walk", "metadata": map[string]any{"k1": "v1"}})
		},
		"snapshot": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/volume/v3/snapshots", "", map[string]any{"snapshot": map[string]any{
				"volume_id": w.newVolume(map[string]any{"size": 1}), "name": "walk", "metadata": map[string]any{"k1": "v1"}}}), "snapshot", "id")
			w.stepVolumes()
			return id
		},
		"backup": func() string {
			id := w.jsonField(w.must("member-a", "POST", "/volume/v3/backups", "", map[string]any{"backup": map[string]any{
				"volume_id": w.newVolume(map[string]any{"size": 1}), "name": "walk"}}), "backup", "id")
			w.stepVolumes()
			return id
		},
		"attachment": func() string {
			return w.jsonField(w.must("member-a", "POST", "/volume/v3/attachments", "3.27", map[string]any{"attachment": map[string]any{
				"volume_uuid": w.newVolume(map[string]any{"size": 1}), "instance_uuid": "2f1f4d0e-8c55-4f0b-9d3c-6b1d1f0a7e21",
				"connector": map[string]any{"host": "walk"}}}), "attachment", "id")
		},
		"transfer": func() string {
			return w.jsonField(w.must("member-a", "POST", "/volume/v3/os-volume-transfer", "", map[string]any{"transfer": map[string]any{
				"volume_id": w.newVolume(map[string]any{"size": 1}), "name": "walk"}}), "transfer", "id")
		},
		"volumetype": func() string {
			return w.jsonField(w.must("admin", "POST", "/volume/v3/types", "", map[string]any{"volume_type": map[string]any{
				"name": fmt.Sprintf("walk-%d", w.nextSeq()), "extra_specs": map[string]any{"k1": "v1"}}}), "volume_type", "id")
		},
		"tenant": func() string {
			w.must("admin", "PUT", "/v2.1/os-quota-sets/"+w.projA, "2.1", map[string]any{"quota_set": map[string]any{
				"instances": -1, "cores": -1, "ram": -1, "key_pairs": -1, "server_groups": -1, "security_groups": -1,
				"security_group_rules": -1, "floating_ips": -1}})
			return w.projA
		},
		"flavor": func() string {
			return w.jsonField(w.must("admin", "POST", "/v2.1/flavors", "2.1", map[string]any{"flavor": map[string]any{
				"name": fmt.Sprintf("walk-%d", time.Now().UnixNano()), "ram": 64, "vcpus": 1, "disk": 1}}), "flavor", "id")
		},
		"aggregate": func() string {
			return w.jsonField(w.must("admin", "POST", "/v2.1/os-aggregates", "2.1", map[string]any{
				"aggregate": map[string]any{"name": fmt.Sprintf("walk-%d", time.Now().UnixNano())}}), "aggregate", "id")
		},
		"hypervisor": func() string {
			return w.jsonField(w.must("admin", "GET", "/v2.1/os-hypervisors", latest, nil), "hypervisors", "0", "id")
		},
		"host": func() string {
			return w.jsonField(w.must("admin", "GET", "/v2.1/os-hypervisors", latest, nil), "hypervisors", "0", "hypervisor_hostname")
		},
		"computeservice": func() string {
			return w.jsonField(w.must("admin", "GET", "/v2.1/os-services?binary=nova-compute", latest, nil), "services", "0", "id")
		},
		"ec2": func() string {
			return w.jsonField(w.must("member-a", "POST", "/identity/v3/users/"+w.memberA+"/credentials/OS-EC2", "",
				map[string]any{"tenant_id": w.projA}), "credential", "access")
		},
		"victim-user": func() string {
			return w.jsonField(w.must("admin", "POST", "/identity/v3/users", "", map[string]any{"user": map[string]any{
				"name": fmt.Sprintf("walk-victim-%d", time.Now().UnixNano())}}), "user", "id")
		},
		"victim-project": func() string {
			id := w.jsonField(w.must("admin", "POST", "/identity/v3/projects", "", map[string]any{"project": map[string]any{
				"name": fmt.Sprintf("walk-victim-%d", time.Now().UnixNano())}}), "project", "id")
			w.must("admin", "PUT", "/identity/v3/projects/"+id+"/tags/t1", "", nil)
			return id
		},
		"victim-domain": func() string {
			return w.jsonField(w.must("admin", "POST", "/identity/v3/domains", "", map[string]any{"domain": map[string]any{
				"name": fmt.Sprintf("walk-victim-%d", time.Now().UnixNano())}}), "domain", "id")
		},
		"victim-role": func() string {
			return w.jsonField(w.must("admin", "POST", "/identity/v3/roles", "", map[string]any{"role": map[string]any{
				"name": fmt.Sprintf("walk-victim-%d", time.Now().UnixNano())}}), "role", "id")
		},
		"identityservice": func() string {
			return w.jsonField(w.must("admin", "GET", "/identity/v3/services", "", nil), "services", "0", "id")
		},
		"endpoint": func() string {
			return w.jsonField(w.must("admin", "GET", "/identity/v3/endpoints", "", nil), "endpoints", "0", "id")
		},
	}
}

func (w *walk) waitActive(id string) {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st := w.jsonField(w.must("member-a", "GET", "/v2.1/servers/"+id, "", nil), "server", "status"); st == "ACTIVE" {
			return
		} else if st == "ERROR" {
			w.t.Fatalf("server %s went to ERROR: %s", id, w.must("admin", "GET", "/v2.1/servers/"+id, "2.1", nil).Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.t.Fatalf("server %s never became ACTIVE", id)
}

// newVolume makes an available volume of project A (with room in its
// block storage quota, which the walk's DELETE of the quota set resets).
func (w *walk) newVolume(v map[string]any) string {
	w.must("admin", "PUT", "/volume/v3/os-quota-sets/"+w.projA, "", map[string]any{"quota_set": map[string]any{
		"volumes": -1, "snapshots": -1, "gigabytes": -1, "backups": -1, "backup_gigabytes": -1}})
	id := w.jsonField(w.must("member-a", "POST", "/volume/v3/volumes", "", map[string]any{"volume": v}), "volume", "id")
	w.stepVolumes()
	return id
}

// stepVolumes runs the volume worker's pending work.
func (w *walk) stepVolumes() {
	if _, err := w.a.VolumeWorker.Step(context.Background()); err != nil {
		w.t.Fatalf("volume worker: %v", err)
	}
}

// fixture returns the object of kind, made (again) when missing or when a
// call may have changed it.
func (w *walk) fixture(kind string) string {
	w.t.Helper()
	if id, ok := w.fixtures[kind]; ok && !w.dirty[kind] {
		return id
	}
	make, ok := w.makers[kind]
	if !ok {
		w.t.Fatalf("no fixture %s", kind)
	}
	w.fixtures[kind] = make()
	delete(w.dirty, kind)
	if kind == "server" {
		w.dirty["request"] = true
	}
	return w.fixtures[kind]
}

// ownedByA are the fixtures that belong to project A (or to member-a):
// another project's caller must not learn that they exist. ("tenant",
// project A itself, is not secret: Nova answers 403 for it.)
var ownedByA = []string{"server", "request", "image", "keypair", "servergroup", "secgroup", "secgrouprule", "floatingip", "router",
	"network", "subnet", "port", "volume", "snapshot", "backup", "attachment", "transfer"}

// param is what the walk puts in a path parameter: a fixture, or a
// literal that names something real (real) or not.
type param struct {
	kind, literal string
	real          bool
}

// paramFor says what a path parameter of a route names.
func paramFor(service, path, name string) param {
	switch {
	case service == "compute" && name == "id":
		switch {
		case strings.HasPrefix(path, "/os-security-groups/"):
			return param{kind: "secgroup"}
		case strings.HasPrefix(path, "/os-security-group-rules/"):
			return param{kind: "secgrouprule"}
		case strings.HasPrefix(path, "/os-floating-ips/"):
			return param{kind: "floatingip"}
		case strings.HasPrefix(path, "/os-quota-class-sets/"):
			return param{literal: "default", real: true}
		}
		return param{literal: "1"}
	case service == "identity" && name == "user_id" && strings.Contains(path, "/credentials/OS-EC2"):
		return param{literal: "member-a", real: true}
	case service == "identity" && name == "user_id" && (strings.Contains(path, "/application_credentials") || strings.Contains(path, "/access_rules")):
		// Keystone lets only the owner create application credentials
		// and see access rules (a project admin neither): the admin's own.
		return param{literal: "admin-user", real: true}
	case service == "network" && name == "project_id":
		// Neutron's quotas of project A.
		return param{kind: "tenant"}
	case service == "volume":
		switch name {
		case "project_id":
			// Cinder's quotas and default type of project A.
			return param{kind: "tenant"}
		case "class_name":
			return param{literal: "default", real: true}
		}
		kinds := map[string]string{"volume_id": "volume", "snapshot_id": "snapshot", "backup_id": "backup", "attachment_id": "attachment", "type_id": "volumetype",
			"transfer_id": "transfer"}
		if k, ok := kinds[name]; ok {
			return param{kind: k}
		}
	}
	kinds := map[string]string{"server_id": "server", "request_id": "request", "image_id": "image",
		"keypair_name": "keypair", "group_id": "servergroup", "aggregate_id": "aggregate", "hypervisor_id": "hypervisor",
		"pattern": "host", "host_name": "host", "credential_id": "ec2", "user_id": "victim-user",
		"project_id": "victim-project", "domain_id": "victim-domain", "role_id": "victim-role", "endpoint_id": "endpoint",
		"flavor_id": "flavor", "network_id": "network", "subnet_id": "subnet", "port_id": "port",
		"security_group_id": "secgroup", "security_group_rule_id": "secgrouprule", "floatingip_id": "floatingip",
		"router_id": "router"}
	if service == "identity" {
		kinds["service_id"] = "identityservice"
	} else {
		kinds["service_id"] = "computeservice"
	}
	if k, ok := kinds[name]; ok {
		return param{kind: k}
	}
	if name == "tenant_id" {
		return param{kind: "tenant"}
	}
	literals := map[string]string{"member_id": "B", "key": "k1", "tag": "t1", "tag_value": "t1",
		"alias": "os-keypairs", "region_id": "RegionOne",
		// A public namespace of the seeded catalog: Glance looks the
		// namespace up before its rule, so a missing one is 404 to all.
		"namespace_name": "OS::Compute::Watchdog"}
	if v, ok := literals[name]; ok {
		return param{literal: v, real: true}
	}
	return param{literal: "x"}
}

// resolved is a route's path with the walk's objects in it.
type resolved struct {
	path    string
	kinds   []string // the fixtures it names
	real    bool     // every parameter names something that exists
	namesA  bool     // it names an object of project A (or of member-a)
	tenantA bool     // it names project A itself
}

func (w *walk) resolve(service, path string) resolved {
	res := resolved{real: true}
	res.path = paramPattern.ReplaceAllStringFunc(path, func(m string) string {
		p := paramFor(service, path, m[1:len(m)-1])
		res.real = res.real && (p.kind != "" || p.real)
		if p.kind != "" {
			res.kinds = append(res.kinds, p.kind)
			res.namesA = res.namesA || slices.Contains(ownedByA, p.kind)
		}
		res.tenantA = res.tenantA || p.kind == "tenant"
		return w.resolveOne(service, path, p)
	})
	return res
}

func isRead(method string) bool { return method == "GET" || method == "HEAD" }

// adminOnly reports whether only admins pass rule: no caller holding any
// other role passes it, even on targets that are entirely their own.
func adminOnly(set *policy.Set, rule string) bool {
	for _, role := range []string{"reader", "member", "manager", "service"} {
		p := &auth.Principal{UserID: "u", ProjectID: "p", ProjectDomainID: "d", UserDomain: "d", Roles: []string{role}}
		own := policy.Target{"project_id": "p", "user_id": "u", "owner": "p", "member_id": "p", "visibility": "private",
			"target.user.id": "u", "target.project.id": "p", "target.domain.id": "d", "target.token.user_id": "u",
			"target.credential.user_id": "u", "target.user.domain_id": "d", "target.project.domain_id": "d",
			"target.domain_id": "d", "target.role.domain_id": "None", "target.role.name": "reader",
			"target.trust.trustor_user_id": "u", "target.trust.trustee_user_id": "u",
			"tenant_id": "p", "network:project_id": "p", "security_group:project_id": "p",
			"quota:project_id": "p"}
		if set.Allowed(p, rule, own) {
			return false
		}
	}
	return true
}

// acceptedByOthers are the calls made by design on another project's
// object: a volume transfer is accepted by the receiving project, which
// holds its id and auth key.
func acceptedByOthers(rule string) bool { return rule == "volume:accept_transfer" }

// ignoresObject are the calls upstream answers without looking at the
// object the path names: Glance's reject_method_resource answers 405 for
// the methods a path lacks.
func ignoresObject(rule string) bool { return rule == "kumo:image:location_methods" }

// readerMayWrite are the write routes upstream lets a project reader
// call: key pairs belong to their user, not to the project; every user
// may revoke their own token; Glance answers 405 to any caller for
// writes to the image collection and the methods an image's locations
// lack; and Cinder's os-show_image_metadata is a read sent as a POST
// action. Keystone's trusts belong to their
// trustor, whatever the trustor's role: a reader may make and delete its
// own.
func readerMayWrite(rule string) bool {
	return strings.HasPrefix(rule, "os_compute_api:os-keypairs:") || rule == "identity:revoke_token" ||
		rule == "identity:create_trust" || rule == "identity:delete_trust" ||
		rule == "kumo:image:collection_methods" || rule == "kumo:image:location_methods" || rule == "volume:get_volume_metadata"
}

// expectation is the statuses a caller may get: exactly one, or any but
// a refusal by the rule, or anything but a server error.
type expectation struct {
	status     int
	notRefused bool
	why        string
}

// met reports whether an answer meets e. A refusal is a 401, or a 403
// whose message names the rule (each API's policy refusal does; a 403
// of the service's own, such as "Cannot delete a domain that is
// enabled", is no refusal). 501 is what Nova answers where the
// hypervisor lacks a feature.
func (e expectation) met(rec *httptest.ResponseRecorder, refusal string) bool {
	got := rec.Code
	switch {
	case got >= 500 && got != http.StatusNotImplemented:
		return false
	case e.status != 0:
		return got == e.status
	case e.notRefused:
		return got != http.StatusUnauthorized && !(got == http.StatusForbidden && strings.Contains(rec.Body.String(), refusal))
	}
	return true
}

// call is one call of the walk as one caller.
type call struct {
	svc      *api.Service
	method   string
	rule     string
	who      string
	res      resolved
	removed  bool
	identity bool
	action   bool // one action of an action route, named in the body
	deferred bool // the handler checks the rule, after the body
	// removedStatus is what a removed action answers when not 410.
	removedStatus int
}

// removedActionStatus are the removed actions Nova answers otherwise
// than 410: os-getRDPConsole raises a bare 400 (remote_consoles.py).
var removedActionStatus = map[string]int{"os-getRDPConsole": http.StatusBadRequest}

// expect is what the caller must get, from the rules of the issue:
// reads 200 or 404, writes 403 for readers, admin APIs 403 for
// non-admins, other projects' objects 404; and where none of those
// applies, what the rule decides for the caller.
func (w *walk) expect(c call) expectation {
	if c.who == "" {
		return expectation{status: http.StatusUnauthorized, why: "no token"}
	}
	if c.removed {
		if !c.action && strings.HasSuffix(c.res.path, "/action") {
			// A removed action route answers a body without an action
			// as malformed, to everyone alike.
			return expectation{status: http.StatusBadRequest, why: "removed action API"}
		}
		if c.removedStatus != 0 {
			return expectation{status: c.removedStatus, why: "removed action"}
		}
		return expectation{status: http.StatusGone, why: "removed API"}
	}
	if c.who == "admin" {
		return expectation{notRefused: true, why: "admin"}
	}
	p := w.byName[c.who]
	outsider := p.project == "B" || (c.who == "unscoped" && !slices.Contains(c.res.kinds, "keypair"))
	admin := adminOnly(c.svc.Policy, c.rule)
	switch {
	case outsider && c.res.namesA && !c.identity && !acceptedByOthers(c.rule) && !ignoresObject(c.rule):
		if !admin && c.svc.Policy.Allowed(p.principal, c.rule, w.ownTarget(p)) {
			return expectation{status: http.StatusNotFound, why: "another project's object"}
		}
		// Refused whatever the object: 403 or 404 tell nothing, as long
		// as a missing object gets the same (checked by the caller).
		return expectation{why: "refused on another project's object"}
	case admin:
		return expectation{status: http.StatusForbidden, why: "admin API"}
	case !isRead(c.method) && strings.HasPrefix(c.who, "reader") && !readerMayWrite(c.rule):
		return expectation{status: http.StatusForbidden, why: "reader writes"}
	case !isRead(c.method) && c.who == "unscoped" && !c.identity && !readerMayWrite(c.rule):
		return expectation{status: http.StatusForbidden, why: "token without a project writes"}
	case c.identity:
		return expectation{why: "identity (Keystone's rules)"}
	}
	target := w.ownTarget(p)
	if c.res.tenantA {
		// Nova checks project A as the target's owner; Neutron's quota
		// rules read it as quota:project_id.
		target["project_id"], target["quota:project_id"] = w.projA, w.projA
	}
	if c.svc.Policy.Allowed(p.principal, c.rule, target) {
		if isRead(c.method) && c.res.real && p.project == "A" {
			return expectation{notRefused: true, why: "read of an own object"}
		}
		return expectation{notRefused: true, why: "allowed by " + c.rule}
	}
	return expectation{status: http.StatusForbidden, why: "refused by " + c.rule}
}

// walkOrder calls refused callers first and allowed ones last, since they
// may change or delete what the path names.
var walkOrder = []string{"", "unscoped", "reader-b", "member-b", "reader-a", "member-a", "admin"}

// ownTarget is the target Nova and Glance check a call against until they
// find the object it names: the caller's own project and user.
func (w *walk) ownTarget(p *persona) policy.Target {
	target := policy.Target{"user_id": p.principal.UserID, "visibility": "private"}
	if proj := p.principal.ProjectID; proj != "" {
		target["project_id"], target["owner"] = proj, proj
		target["tenant_id"], target["network:project_id"] = proj, proj // Neutron's owner and network owner
		target["security_group:project_id"] = proj                     // and security group owner
	}
	return target
}

func (w *walk) walkRoutes() {
	for _, svc := range w.a.APIs {
		for _, r := range svc.Router.Routes() {
			if r.Anonymous || r.Rule == policy.Action {
				continue // action routes are walked action by action
			}
			w.sub(svc.Name+" "+r.Method+" "+r.Path, func() { w.walkRoute(svc, r) })
		}
	}
}

// sub runs fn as a subtest whose failures (fixtures included) are its own.
func (w *walk) sub(name string, fn func()) {
	parent := w.t
	parent.Run(name, func(t *testing.T) {
		w.t = t
		defer func() { w.t = parent }()
		fn()
	})
}

// routeVersion picks a compute microversion at which the route exists.
func routeVersion(svc *api.Service, maxVer mv.Version) string {
	switch {
	case svc.Name == "volume" && maxVer == (mv.Version{}):
		return "latest"
	case svc.Name == "volume":
		return maxVer.String()
	case svc.Name != "compute":
		return ""
	case maxVer != (mv.Version{}):
		return maxVer.String()
	}
	return "latest"
}

func (w *walk) walkRoute(svc *api.Service, r api.Route) {
	version := routeVersion(svc, r.MaxVer)
	for _, who := range walkOrder {
		res := w.resolve(svc.Name, r.Path)
		c := call{svc: svc, method: r.Method, rule: r.Rule, who: who, res: res, removed: r.Rule == policy.Removed, identity: svc.Name == "identity",
			deferred: r.Deferred}
		body, contentType := w.body(c, r.Path)
		rec := w.send(who, r.Method, svc.Mount+res.path, version, body, contentType)
		w.check(c, rec)
		if res.namesA && w.outsider(who) && rec.Code != http.StatusNotFound && !acceptedByOthers(r.Rule) {
			// What another project's caller gets must not tell that the
			// object exists: a missing one gets the same status.
			missing := w.send(who, r.Method, svc.Mount+w.phantom(svc.Name, r.Path), version, body, contentType)
			if missing.Code != rec.Code && missing.Code != http.StatusNotFound {
				w.t.Errorf("%s %s as %q: %d for project A's object, %d for a missing one", r.Method, r.Path, who, rec.Code, missing.Code)
			}
		}
	}
}

// outsider reports whether who is not of project A (an unscoped token
// counts: it names no project).
func (w *walk) outsider(who string) bool {
	return who != "" && who != "admin" && !strings.HasSuffix(who, "-a")
}

// phantom fills a route's path like resolve, with ids that name nothing
// in place of project A's objects.
func (w *walk) phantom(service, path string) string {
	return paramPattern.ReplaceAllStringFunc(path, func(m string) string {
		p := paramFor(service, path, m[1:len(m)-1])
		if slices.Contains(ownedByA, p.kind) {
			return "6d1c4f3e-0000-4000-8000-000000000000"
		}
		return w.resolveOne(service, path, p)
	})
}

func (w *walk) resolveOne(service, path string, p param) string {
	switch {
	case p.kind != "":
		return w.fixture(p.kind)
	case p.literal == "B":
		return w.projB
	case p.literal == "member-a":
		return w.memberA
	case p.literal == "admin-user":
		return w.adminUser
	}
	return p.literal
}

func (w *walk) check(c call, rec *httptest.ResponseRecorder) {
	e := w.expect(c)
	if !e.met(rec, errs.Message(c.svc.Denied(c.rule))) {
		want := "anything but 5xx"
		if e.status != 0 {
			want = fmt.Sprint(e.status)
		} else if e.notRefused {
			want = "not 401/403"
		}
		w.t.Errorf("%s %s as %q (%s): %d, want %s: %s", c.method, c.res.path, c.who, e.why, rec.Code, want, rec.Body)
	}
	if rec.Code/100 == 2 && !isRead(c.method) {
		for _, k := range c.res.kinds {
			w.dirty[k] = true
		}
	}
}

// body is what a write sends: for another project's caller on project A's
// object a valid request, so that only the object's invisibility can
// refuse it; otherwise {} (refused callers never get past the rule, and
// allowed ones get a 400 without changing anything).
func (w *walk) body(c call, pattern string) (any, string) {
	if isRead(c.method) || c.method == "DELETE" {
		return nil, ""
	}
	if c.removed {
		return "{}", "application/json"
	}
	// A route whose handler checks its rule after the body gets a valid
	// one from every caller, so that the rule decides.
	if (w.outsider(c.who) && c.res.namesA && !c.identity) || c.deferred {
		ex, ok := foreignWriteBodies[c.method+" "+pattern]
		if !ok {
			w.t.Fatalf("no example body for %s %s: add one to foreignWriteBodies", c.method, pattern)
		}
		return ex.body, ex.contentType
	}
	return "{}", "application/json"
}

type example struct {
	body        any
	contentType string
}

func jsonBody(s string) example { return example{s, "application/json"} }

// foreignWriteBodies are valid requests for the writes that name project
// A's objects: another project's member sends them and must get a 404.
var foreignWriteBodies = map[string]example{
	"PUT /servers/{server_id}":                                   jsonBody(`{"server": {"name": "stolen"}}`),
	"POST /servers/{server_id}/remote-consoles":                  jsonBody(`{"remote_console": {"protocol": "serial", "type": "serial"}}`),
	"PUT /os-volumes_boot/{server_id}":                           jsonBody(`{"server": {"name": "stolen"}}`),
	"POST /servers/{server_id}/metadata":                         jsonBody(`{"metadata": {"k2": "v"}}`),
	"PUT /servers/{server_id}/metadata":                          jsonBody(`{"metadata": {"k1": "v"}}`),
	"PUT /servers/{server_id}/metadata/{key}":                    jsonBody(`{"meta": {"k1": "v"}}`),
	"PUT /servers/{server_id}/tags":                              jsonBody(`{"tags": ["t2"]}`),
	"PUT /servers/{server_id}/tags/{tag}":                        jsonBody(``),
	"POST /servers/{server_id}/os-interface":                     jsonBody(`{"interfaceAttachment": {}}`),
	"POST /servers/{server_id}/os-volume_attachments":            jsonBody(`{"volumeAttachment": {"volumeId": "0b5b1f43-8d3b-4b5e-9d3c-3c1c4b1e0a01"}}`),
	"PUT /servers/{server_id}/os-volume_attachments/{volume_id}": jsonBody(`{"volumeAttachment": {"volumeId": "0b5b1f43-8d3b-4b5e-9d3c-3c1c4b1e0a01"}}`),
	"PUT /os-security-groups/{id}":                               jsonBody(`{"security_group": {"name": "stolen", "description": "x"}}`),
	"POST /images/{image_id}/metadata":                           jsonBody(`{"metadata": {"k2": "v"}}`),
	"PUT /images/{image_id}/metadata":                            jsonBody(`{"metadata": {"k1": "v"}}`),
	"PUT /images/{image_id}/metadata/{key}":                      jsonBody(`{"meta": {"k1": "v"}}`),
	"PATCH /v2/images/{image_id}":                                {`[{"op": "replace", "path": "/name", "value": "stolen"}]`, "application/openstack-images-v2.1-json-patch"},
	"PUT /v2/images/{image_id}/tags/{tag}":                       jsonBody(``),
	"PUT /v2/images/{image_id}/file":                             {"data", "application/octet-stream"},
	"PUT /v2/images/{image_id}/stage":                            {"data", "application/octet-stream"},
	"POST /v2/images/{image_id}/import":                          jsonBody(`{"method": {"name": "glance-direct"}}`),
	"POST /v2/images/{image_id}/locations":                       jsonBody(`{"url": "http://example.com/image.raw"}`),
	"PUT /v2/images/{image_id}/locations":                        jsonBody(`{}`),
	"PATCH /v2/images/{image_id}/locations":                      jsonBody(`{}`),
	"POST /v2/images/{image_id}/members":                         jsonBody(`{"member": "B"}`),
	"PUT /v2/images/{image_id}/members/{member_id}":              jsonBody(`{"status": "accepted"}`),
	"POST /v2/images/{image_id}/actions/deactivate":              jsonBody(``),
	"POST /v2/images/{image_id}/actions/reactivate":              jsonBody(``),
	"PUT /v2.0/networks/{network_id}":                            jsonBody(`{"network": {"name": "stolen"}}`),
	"PUT /v2.0/networks/{network_id}/tags":                       jsonBody(`{"tags": ["t2"]}`),
	"POST /v2.0/networks/{network_id}/tags":                      jsonBody(`{"tags": ["t2"]}`),
	"PUT /v2.0/networks/{network_id}/tags/{tag}":                 jsonBody(``),
	"PUT /v2.0/subnets/{subnet_id}":                              jsonBody(`{"subnet": {"name": "stolen"}}`),
	"PUT /v2.0/subnets/{subnet_id}/tags":                         jsonBody(`{"tags": ["t2"]}`),
	"POST /v2.0/subnets/{subnet_id}/tags":                        jsonBody(`{"tags": ["t2"]}`),
	"PUT /v2.0/subnets/{subnet_id}/tags/{tag}":                   jsonBody(``),
	"PUT /v2.0/ports/{port_id}":                                  jsonBody(`{"port": {"name": "stolen"}}`),
	"PUT /v2.0/ports/{port_id}/tags":                             jsonBody(`{"tags": ["t2"]}`),
	"POST /v2.0/ports/{port_id}/tags":                            jsonBody(`{"tags": ["t2"]}`),
	"PUT /v2.0/ports/{port_id}/tags/{tag}":                       jsonBody(``),
	"PUT /v2.0/security-groups/{security_group_id}":              jsonBody(`{"security_group": {"name": "stolen"}}`),
	"PUT /v2.0/security-groups/{security_group_id}/tags":         jsonBody(`{"tags": ["t2"]}`),
	"POST /v2.0/security-groups/{security_group_id}/tags":        jsonBody(`{"tags": ["t2"]}`),
	"PUT /v2.0/security-groups/{security_group_id}/tags/{tag}":   jsonBody(``),

	// L3 (routers, floating IPs).
	"PUT /v2.0/routers/{router_id}":                         jsonBody(`{"router": {"name": "stolen"}}`),
	"PUT /v2.0/routers/{router_id}/tags":                    jsonBody(`{"tags": ["t2"]}`),
	"POST /v2.0/routers/{router_id}/tags":                   jsonBody(`{"tags": ["t2"]}`),
	"PUT /v2.0/routers/{router_id}/tags/{tag}":              jsonBody(``),
	"PUT /v2.0/routers/{router_id}/add_router_interface":    jsonBody(`{"subnet_id": "x"}`),
	"PUT /v2.0/routers/{router_id}/remove_router_interface": jsonBody(`{"subnet_id": "x"}`),
	"PUT /v2.0/floatingips/{floatingip_id}":                 jsonBody(`{"floatingip": {"description": "stolen"}}`),
	"PUT /v2.0/floatingips/{floatingip_id}/tags":            jsonBody(`{"tags": ["t2"]}`),
	"POST /v2.0/floatingips/{floatingip_id}/tags":           jsonBody(`{"tags": ["t2"]}`),
	"PUT /v2.0/floatingips/{floatingip_id}/tags/{tag}":      jsonBody(``),
	"PUT /volumes/{volume_id}":                              jsonBody(`{"volume": {"name": "stolen"}}`),
	"POST /volumes/{volume_id}/metadata":                    jsonBody(`{"metadata": {"k2": "v"}}`),
	"PUT /volumes/{volume_id}/metadata":                     jsonBody(`{"metadata": {"k1": "v"}}`),
	"PUT /volumes/{volume_id}/metadata/{key}":               jsonBody(`{"meta": {"k1": "v"}}`),
	"PUT /snapshots/{snapshot_id}":                          jsonBody(`{"snapshot": {"name": "stolen"}}`),
	"POST /snapshots/{snapshot_id}/metadata":                jsonBody(`{"metadata": {"k2": "v"}}`),
	"PUT /snapshots/{snapshot_id}/metadata":                 jsonBody(`{"metadata": {"k1": "v"}}`),
	"PUT /snapshots/{snapshot_id}/metadata/{key}":           jsonBody(`{"meta": {"k1": "v"}}`),
	"PUT /backups/{backup_id}":                              jsonBody(`{"backup": {"name": "stolen"}}`),
	"POST /backups/{backup_id}/restore":                     jsonBody(`{"restore": {"name": "stolen"}}`),
	"POST /backups/import_record":                           jsonBody(`{"backup-record": {"backup_service": "x", "backup_url": "x"}}`),
	"POST /os-volume-transfer/{transfer_id}/accept":         jsonBody(`{"accept": {"auth_key": "wrong"}}`),
	"POST /volume-transfers/{transfer_id}/accept":           jsonBody(`{"accept": {"auth_key": "wrong"}}`),
	"PUT /attachments/{attachment_id}":                      jsonBody(`{"attachment": {"connector": {"host": "stolen"}}}`),
}

// send is call with a content type of the caller's choosing.
func (w *walk) send(who, method, path, version string, body any, contentType string) *httptest.ResponseRecorder {
	w.t.Helper()
	if s, ok := body.(string); ok {
		body = strings.ReplaceAll(s, `"B"`, `"`+w.projB+`"`)
	}
	rec := w.callTyped(who, method, path, version, body, contentType)
	return rec
}

// walkActions calls every action of every action route as every caller.
func (w *walk) walkActions() {
	var compute *api.Service
	routes := map[string]bool{}
	for _, svc := range w.a.APIs {
		if svc.Name == "volume" {
			w.walkRouteActions(svc)
			continue
		}
		for _, r := range svc.Router.Routes() {
			if r.Rule == policy.Action {
				routes[r.Path], compute = true, svc
			}
		}
	}
	for _, act := range computeapi.Actions() {
		delete(routes, act.Path)
		w.sub("action "+act.Path+" "+act.Name, func() {
			version := routeVersion(compute, act.MaxVer)
			for _, who := range walkOrder[1:] {
				res := w.resolve("compute", act.Path)
				c := call{svc: compute, method: "POST", rule: act.Rule, who: who, res: res, removed: act.Rule == policy.Removed, action: true,
					removedStatus: removedActionStatus[act.Name]}
				body := map[string]any{act.Name: map[string]any{}}
				if w.outsider(who) && res.namesA {
					ex, ok := w.foreignActionBodies()[act.Name]
					if !ok {
						w.t.Fatalf("no example body for action %s: add one to foreignActionBodies", act.Name)
					}
					body = map[string]any{act.Name: ex}
				}
				w.check(c, w.call(who, "POST", "/v2.1"+res.path, version, body))
			}
		})
	}
	for path := range routes {
		w.t.Errorf("action route %s has no actions in computeapi.Actions()", path)
	}
}

// walkRouteActions calls the actions of an API whose action routes carry
// their rows (api.Route.Actions), each with a valid body: Cinder
// validates an action's body before its policy, so only a valid one
// reaches the rule.
func (w *walk) walkRouteActions(svc *api.Service) {
	bodies := volumeActionBodies()
	for _, r := range svc.Router.Routes() {
		for _, act := range r.Actions {
			w.sub("action "+r.Path+" "+act.Name, func() {
				version := routeVersion(svc, act.MaxVer)
				for _, who := range walkOrder[1:] {
					res := w.resolve(svc.Name, r.Path)
					c := call{svc: svc, method: "POST", rule: act.Rule, who: who, res: res, action: true}
					body, ok := bodies[act.Name]
					if !ok {
						w.t.Fatalf("no example body for action %s: add one to volumeActionBodies", act.Name)
					}
					w.check(c, w.call(who, "POST", svc.Mount+res.path, version, map[string]any{act.Name: body}))
				}
			})
		}
	}
}

// volumeActionBodies are valid arguments of each block storage action.
func volumeActionBodies() map[string]any {
	connector := map[string]any{"connector": map[string]any{"host": "walk"}}
	return map[string]any{
		"os-extend": map[string]any{"new_size": 3}, "os-set_bootable": map[string]any{"bootable": true},
		"os-update_readonly_flag": map[string]any{"readonly": false}, "os-reset_status": map[string]any{"status": "available"},
		"os-force_delete": map[string]any{}, "os-volume_upload_image": map[string]any{"image_name": "walk"},
		"os-reserve": nil, "os-unreserve": nil, "os-begin_detaching": nil, "os-roll_detaching": nil,
		"os-attach": map[string]any{"instance_uuid": "2f1f4d0e-8c55-4f0b-9d3c-6b1d1f0a7e21", "mountpoint": "/dev/vdb"},
		"os-detach": map[string]any{}, "os-initialize_connection": connector, "os-terminate_connection": connector,
		"os-set_image_metadata":   map[string]any{"metadata": map[string]any{"k": "v"}},
		"os-unset_image_metadata": map[string]any{"key": "k"}, "os-show_image_metadata": nil,
		"addProjectAccess": map[string]any{"project": "x"}, "removeProjectAccess": map[string]any{"project": "x"},
		"os-complete": nil, "os-retype": map[string]any{"new_type": "__DEFAULT__"},
		"os-force_detach": map[string]any{}, "revert": map[string]any{"snapshot_id": "x"},
		"os-update_snapshot_status": map[string]any{"status": "available"},
		"os-reimage":                map[string]any{"image_id": "2f1f4d0e-8c55-4f0b-9d3c-6b1d1f0a7e21"},
		"os-unmanage":               map[string]any{},
	}
}

// foreignActionBodies are valid arguments of each action, sent by another
// project's callers to project A's server, which must get a 404 (the
// floating address is outside the range, so no project's floating IP
// ever holds it).
func (w *walk) foreignActionBodies() map[string]any {
	return map[string]any{
		"os-stop": nil, "os-start": nil, "pause": nil, "unpause": nil, "suspend": nil, "resume": nil,
		"reboot": map[string]any{"type": "SOFT"}, "lock": nil, "unlock": nil,
		"restore": nil, "forceDelete": nil, "resetNetwork": nil,
		"createImage": map[string]any{"name": "stolen"}, "createBackup": map[string]any{"name": "b", "backup_type": "daily", "rotation": 1},
		"shelve": nil, "unshelve": nil, "shelveOffload": nil,
		"rebuild": map[string]any{"imageRef": w.tinyImage}, "resize": map[string]any{"flavorRef": "1"},
		"confirmResize": nil, "revertResize": nil, "migrate": nil,
		"rescue": nil, "unrescue": nil, "changePassword": map[string]any{"adminPass": "stolen-pass"},
		"os-getConsoleOutput": map[string]any{}, "trigger_crash_dump": nil,
		"os-resetState": map[string]any{"state": "active"}, "injectNetworkInfo": nil,
		"addSecurityGroup": map[string]any{"name": "default"}, "removeSecurityGroup": map[string]any{"name": "default"},
		"addFloatingIp": map[string]any{"address": "198.51.100.250"}, "removeFloatingIp": map[string]any{"address": "198.51.100.250"},
		"addTenantAccess": map[string]any{"tenant": "x"}, "removeTenantAccess": map[string]any{"tenant": "x"},
		"add_host": map[string]any{"host": "x"}, "remove_host": map[string]any{"host": "x"},
		"set_metadata":   map[string]any{"metadata": map[string]any{"k": "v"}},
		"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}, "evacuate": map[string]any{},
		"force_complete":   nil,
		"os-getVNCConsole": map[string]any{"type": "novnc"}, "os-getSerialConsole": map[string]any{"type": "serial"},
		"os-getSPICEConsole": map[string]any{"type": "spice-html5"}, "os-getRDPConsole": map[string]any{"type": "rdp-html5"},
	}
}
