package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
)

// kumoFaults runs `kumo faults args...` logged in from s's clouds.yaml
// (OS_CLOUD, as the openstack CLI reads it) and returns its output.
func kumoFaults(t *testing.T, s *Server, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kumoBin, append([]string{"faults"}, args...)...)
	cmd.Env = append(cleanEnv(), "OS_CLIENT_CONFIG_FILE="+s.CloudsFile(), "OS_CLOUD=kumo")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kumo faults %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// unexpected is the status and body of a gophercloud error answer.
func unexpected(t *testing.T, err error) gophercloud.ErrUnexpectedResponseCode {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an error answer", err, err)
	}
	return e
}

// TestFaultInjection: the openstack CLI and gophercloud meet each kind of
// injected fault (a 503 with Nova's body, a 429 with Retry-After,
// latency, a reset connection, a build that ends in ERROR) and work again
// once the rule is gone; rules come from --faults FILE and `kumo faults`.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	file := filepath.Join(t.TempDir(), "faults.yaml")
	if err := os.WriteFile(file, []byte(`faults:
  - name: flavors-503
    service: compute
    method: GET
    path: ^/flavors/detail$
    count: 2
    action: {type: status, status: 503, message: Nova is down for maintenance}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	metrics := freeAddr(t)
	s := Start(t, kumoBin, Options{Args: []string{"--faults", file, "--metrics-listen", metrics}})
	cli := NewCLI(s.CloudsFile(), "kumo")
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()

	// kumo faults with the OS_* variables of kumo openrc alone.
	cmd := exec.Command("bash", "-c", `eval "$KUMO_OPENRC" && exec "$KUMO_BIN" faults list`)
	cmd.Env = append(cleanEnv(), "KUMO_OPENRC="+RunKumo(t, kumoBin, "openrc", "--data-dir", s.DataDir), "KUMO_BIN="+kumoBin)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "flavors-503") ||
		!strings.Contains(string(out), "status status=503") {
		t.Fatalf("kumo faults list with kumo openrc's environment: %v\n%s", err, out)
	}

	// 503 with Nova's body, once for each client; then served again.
	_, err := flavors.ListDetail(c.Compute, nil).AllPages(ctx)
	e := unexpected(t, err)
	if e.Actual != 503 || !strings.Contains(string(e.Body), `"serviceUnavailable"`) || !strings.Contains(string(e.Body), "Nova is down") {
		t.Fatalf("gophercloud flavor list: %d %s", e.Actual, e.Body)
	}
	if r := cli.Exec("flavor", "list"); r.Err == nil || !strings.Contains(r.Stderr, "Nova is down") {
		t.Fatalf("openstack flavor list under a 503: err %v\n%s", r.Err, r.Stderr)
	}
	if _, err := flavors.ListDetail(c.Compute, nil).AllPages(ctx); err != nil {
		t.Fatalf("flavor list once the count is spent: %v", err)
	}
	cli.Run(t, "flavor", "list")

	// 429 with Retry-After, and Nova's overLimit body.
	kumoFaults(t, s, "add", "--name", "slow-down", "--service", "compute", "--method", "GET", "--path", "^/os-keypairs$",
		"--action", "status", "--status", "429", "--retry-after", "3", "--message", "Rate limit exceeded (injected)")
	_, err = keypairs.List(c.Compute, nil).AllPages(ctx)
	e = unexpected(t, err)
	if e.Actual != 429 || e.ResponseHeader.Get("Retry-After") != "3" || !strings.Contains(string(e.Body), `"retryAfter":"3"`) ||
		!strings.Contains(string(e.Body), `"overLimit"`) {
		t.Fatalf("gophercloud keypair list: %d %v %s", e.Actual, e.ResponseHeader, e.Body)
	}
	if r := cli.Exec("keypair", "list"); r.Err == nil || !strings.Contains(r.Stderr, "Rate limit exceeded") {
		t.Fatalf("openstack keypair list under a 429: err %v\n%s", r.Err, r.Stderr)
	}
	kumoFaults(t, s, "delete", "slow-down")

	// Latency: slow, then served.
	kumoFaults(t, s, "add", "--name", "lag", "--service", "compute", "--path", "^/os-keypairs$", "--action", "latency", "--delay-ms", "1200")
	start := time.Now()
	if _, err := keypairs.List(c.Compute, nil).AllPages(ctx); err != nil {
		t.Fatalf("keypair list under latency: %v", err)
	}
	if d := time.Since(start); d < 1200*time.Millisecond {
		t.Fatalf("keypair list took %v under 1200 ms of latency", d)
	}
	start = time.Now()
	cli.Run(t, "keypair", "list")
	if d := time.Since(start); d < 1200*time.Millisecond {
		t.Fatalf("openstack keypair list took %v under 1200 ms of latency", d)
	}
	kumoFaults(t, s, "delete", "lag")

	// A reset connection.
	netc, err := openstack.NewNetworkV2(c.Provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	kumoFaults(t, s, "add", "--name", "rst", "--service", "network", "--path", "^/v2.0/networks", "--action", "reset")
	if _, err := networks.List(netc, nil).AllPages(ctx); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("gophercloud network list on a reset connection: %v, want ECONNRESET", err)
	}
	if r := cli.Exec("network", "list"); r.Err == nil || !strings.Contains(strings.ToLower(r.Stderr), "reset") {
		t.Fatalf("openstack network list on a reset connection: err %v\n%s", r.Err, r.Stderr)
	}
	kumoFaults(t, s, "delete", "rst")
	if _, err := networks.List(netc, nil).AllPages(ctx); err != nil {
		t.Fatalf("network list once the rule is gone: %v", err)
	}

	// A build the driver fails: ERROR with the fault; then builds work.
	kumoFaults(t, s, "add", "--name", "no-build", "--operation", "build", "--action", "driver_error",
		"--message", "Injected: the hypervisor refused the guest")
	r := cli.Exec(osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "--wait", "doomed")...)
	if !strings.Contains(r.Stdout+r.Stderr, "Error creating server") {
		t.Fatalf("server create --wait under a build fault printed:\n%s\n%s", r.Stdout, r.Stderr)
	}
	var srv obj
	cli.JSON(t, &srv, "server", "show", "doomed")
	fault, _ := srv["fault"].(map[string]any)
	if srv["status"] != "ERROR" || fault["message"] != "Injected: the hypervisor refused the guest" || fault["code"] != 500.0 {
		t.Fatalf("server show doomed: status %v fault %v", srv["status"], fault)
	}
	out := kumoFaults(t, s, "show", "no-build")
	if !strings.Contains(out, `"hits": 1`) {
		t.Fatalf("kumo faults show no-build:\n%s", out)
	}
	kumoFaults(t, s, "clear")
	good, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "good", FlavorRef: "1", ImageRef: imageID(t, cli),
		Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got := gcWaitStatus(t, c.Compute, good.ID, "ACTIVE", "ERROR"); got.Status != "ACTIVE" {
		t.Fatalf("a build after kumo faults clear: %s", got.Status)
	}
	if out := kumoFaults(t, s, "list"); strings.Count(out, "\n") != 1 {
		t.Fatalf("kumo faults list after clear:\n%s", out)
	}

	// The injections were recorded and counted.
	events := kumoFaults(t, s, "events")
	for _, name := range []string{"flavors-503", "slow-down", "lag", "rst", "no-build"} {
		if !strings.Contains(events, name) {
			t.Errorf("kumo faults events lacks %s:\n%s", name, events)
		}
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `kumo_faults_injected_total{action="status",rule="flavors-503"} 2`) {
		t.Errorf("metrics lack the 503s:\n%s", grepLines(string(body), "kumo_faults"))
	}
	if log, _ := os.ReadFile(s.LogFile); !strings.Contains(string(log), `"msg":"fault injected"`) ||
		!strings.Contains(string(log), `"fault":"no-build"`) {
		t.Errorf("kumo's log has no fault injected lines")
	}
}

// imageID is kumo-tiny's id.
func imageID(t *testing.T, cli *CLI) string {
	t.Helper()
	var img obj
	cli.JSON(t, &img, "image", "show", "kumo-tiny")
	return img.str(t, "id")
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestFaultInjectionManyHosts: on a cloud of two kumo api processes and
// a kumo compute host, a rule added through one API process applies in
// the other within about a second, its count is shared, and a driver
// fault reaches the compute process.
func TestFaultInjectionManyHosts(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 2, "fault-host")
	ctx := context.Background()
	admin := func(i int) *faultsAPI { return newFaultsAPI(t, f.apis[i], f.admins[i]) }

	id := admin(0).add(t, map[string]any{"name": "once", "service": "compute", "method": "GET", "path": "^/flavors/detail$",
		"count": 1, "action": map[string]any{"type": "status", "status": 503}})
	added := time.Now()
	var fired time.Duration
	for fired == 0 {
		_, err := flavors.ListDetail(f.admins[1].Compute, nil).AllPages(ctx)
		switch {
		case err != nil && unexpected(t, err).Actual == 503:
			fired = time.Since(added)
		case err != nil:
			t.Fatal(err)
		case time.Since(added) > 3*time.Second:
			t.Fatal("a rule added through one API process did not fire in the other within 3 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the rule fired in the other API process %v after it was added", fired)
	// The count of 1 is spent for both processes.
	for i := range 2 {
		if _, err := flavors.ListDetail(f.admins[i].Compute, nil).AllPages(ctx); err != nil {
			t.Fatalf("API process %d after the count was spent: %v", i, err)
		}
	}
	admin(1).del(t, id)

	// A driver fault added through the second API process fails a build
	// the first one queued, on the compute host.
	admin(1).add(t, map[string]any{"name": "no-build", "operation": "build",
		"action": map[string]any{"type": "driver_error", "message": "Injected on the compute host"}})
	time.Sleep(1100 * time.Millisecond) // the compute process's cached rules expire
	srv, err := servers.Create(ctx, f.admins[0].Compute, servers.CreateOpts{Name: "doomed", FlavorRef: "1",
		ImageRef: imageID(t, f.clis[0]), Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got := gcWaitStatus(t, f.admins[0].Compute, srv.ID, "ERROR", "ACTIVE")
	if got.Status != "ERROR" || got.Fault.Message != "Injected on the compute host" {
		t.Fatalf("build under a driver fault: %s %+v", got.Status, got.Fault)
	}
}

// faultsAPI calls /kumo/v1/faults of one kumo process with an admin token.
type faultsAPI struct {
	base, token string
}

func newFaultsAPI(t *testing.T, s *Server, c *Clients) *faultsAPI {
	t.Helper()
	return &faultsAPI{base: s.URL + "/kumo/v1/faults", token: c.Provider.Token()}
}

func (a *faultsAPI) do(t *testing.T, method, url string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func (a *faultsAPI) add(t *testing.T, fault map[string]any) string {
	t.Helper()
	out := a.do(t, "POST", a.base, map[string]any{"fault": fault}, http.StatusCreated)
	f, _ := out["fault"].(map[string]any)
	id, _ := f["id"].(string)
	if id == "" {
		t.Fatalf("created %v", out)
	}
	return id
}

func (a *faultsAPI) del(t *testing.T, id string) {
	t.Helper()
	a.do(t, "DELETE", a.base+"/"+id, nil, http.StatusNoContent)
}
