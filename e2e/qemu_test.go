package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// qemuGuestWait bounds a real boot: about 2 s alone under TCG, far more
// on a loaded 2-core machine.
const qemuGuestWait = 3 * time.Minute

// qemuClouds holds a slot per qemu cloud running (startQemuCloud).
var qemuClouds = make(chan struct{}, 3)

// qemuWaitIdle is gcWaitIdle for a real guest: its operations (a resize
// stops and boots it) take longer than the fake driver's serverWait.
func qemuWaitIdle(t *testing.T, c *Clients, id, want string) string {
	t.Helper()
	return gcWaitIdleWithin(t, c, id, want, qemuGuestWait).Status
}

const guestReady = "KUMO-GUEST-READY"

// TestQemuGuestLifecycle runs a real guest with the qemu driver: it boots
// the test guest (direct kernel boot, config drive, user data), drives
// every power operation and checks after each that the qemu process and
// its QMP status agree with the API; then kumo is killed with SIGKILL and
// restarted, and the same guest is adopted, controllable and not
// duplicated; deleting it ends the process.
func TestQemuGuestLifecycle(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	s, cli, dataDir, disk := startQemuCloud(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	args := s.args
	if got := strings.TrimSpace(cli.Run(t, "hypervisor", "list", "-f", "value", "-c", "Hypervisor Type")); got != "QEMU" {
		t.Errorf("hypervisor type %q, want QEMU", got)
	}
	// A qemu host measures its uptime, asked of it over its host endpoint
	// (Nova's libvirt get_host_uptime): the CLI parses /uptime's line into
	// host_time, uptime, users and load_average.
	name := strings.TrimSpace(cli.Run(t, "hypervisor", "list", "-f", "value", "-c", "Hypervisor Hostname"))
	if hyp := cli.Run(t, "hypervisor", "show", name, "-f", "json"); !strings.Contains(hyp, `"load_average"`) || !strings.Contains(hyp, `"host_time"`) {
		t.Errorf("hypervisor show of a qemu host without its uptime: %s", hyp)
	}
	userData := filepath.Join(t.TempDir(), "user-data")
	if err := os.WriteFile(userData, []byte("hello-from-e2e"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "m1.tiny",
		"--config-drive", "true", "--user-data", userData, "qemu-vm", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}

	expect := func(step, status, qmp string) {
		t.Helper()
		if got := qemuWaitIdle(t, c, id, status); got != status {
			t.Fatalf("%s: status %s, want %s", step, got, status)
		}
		if got := g.status(); got != qmp {
			t.Fatalf("%s: API says %s but the guest is %q, want %q", step, status, got, qmp)
		}
	}
	expect("create", "ACTIVE", "running")
	// The guest's NIC is leased the fixed address the API shows.
	addresses := cli.Run(t, "server", "show", id, "-f", "value", "-c", "addresses")
	fixed := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+`).FindString(addresses)
	if fixed == "" {
		t.Fatalf("no IPv4 address in %q", addresses)
	}
	console := g.waitConsole(c, 1, "hostname=qemu-vm uuid="+id, "user_data=hello-from-e2e", "dhcp ip="+fixed+"\n")
	if diag := cli.Run(t, "--os-compute-api-version", "2.48", "server", "show", "--diagnostics", id, "-f", "json"); !strings.Contains(diag, `"driver": "libvirt"`) ||
		!strings.Contains(diag, `"state": "running"`) {
		t.Errorf("diagnostics of the running guest: %s", diag)
	}
	t.Logf("console after boot:\n%s", console)
	if _, err := os.Stat(filepath.Join(g.dir(), "ssh-port")); !os.IsNotExist(err) {
		t.Errorf("ssh-port file without --qemu-ssh-forward: %v", err)
	}

	cli.Run(t, "server", "stop", id)
	expect("stop", "SHUTOFF", "gone")
	cli.Run(t, "server", "start", id)
	expect("start", "ACTIVE", "running")
	g.waitConsole(c, 2)

	pid := g.pid()
	cli.Run(t, "server", "reboot", "--hard", id)
	expect("hard reboot", "ACTIVE", "running")
	if g.pid() != pid {
		t.Errorf("hard reboot replaced the qemu process (pid %d → %d); want a system_reset", pid, g.pid())
	}
	g.waitConsole(c, 3)

	cli.Run(t, "server", "pause", id)
	expect("pause", "PAUSED", "paused")
	cli.Run(t, "server", "unpause", id)
	expect("unpause", "ACTIVE", "running")

	cli.Run(t, "server", "suspend", id)
	expect("suspend", "SUSPENDED", "gone")
	cli.Run(t, "server", "resume", id)
	expect("resume", "ACTIVE", "running")

	cli.Run(t, "server", "reboot", id)
	expect("soft reboot", "ACTIVE", "running")
	g.waitConsole(c, 4)

	// A crash of kumo leaves the guest running; the restarted kumo adopts it.
	pid = g.pid()
	s.Kill()
	restarted := Start(t, kumoBin, Options{DataDir: dataDir, Listen: s.Listen, Args: args})
	cli = NewCLI(restarted.CloudsFile(), "kumo")
	c = NewClients(t, restarted.CloudsFile(), "kumo")
	expect("restart", "ACTIVE", "running")
	if g.pid() != pid {
		t.Errorf("kumo restart replaced the guest's process (pid %d → %d)", pid, g.pid())
	}
	if n := g.processes(); n != 1 {
		t.Errorf("%d qemu processes for the guest after the restart, want 1", n)
	}
	if list := cli.Run(t, "server", "list", "-f", "value", "-c", "ID"); strings.Count(list, id) != 1 {
		t.Errorf("server list after restart: %q", list)
	}
	cli.Run(t, "server", "pause", id)
	expect("pause after restart", "PAUSED", "paused")
	cli.Run(t, "server", "unpause", id)
	expect("unpause after restart", "ACTIVE", "running")

	// A guest that powers itself off (here: ACPI from outside kumo) is
	// found SHUTOFF by the power-state sync.
	g.qmp("system_powerdown")
	expect("guest powered off by itself", "SHUTOFF", "gone")
	cli.Run(t, "server", "start", id)
	expect("start after self power-off", "ACTIVE", "running")

	cli.Run(t, "server", "delete", "--wait", id)
	if got := g.status(); got != "gone" {
		t.Errorf("after delete the guest is %q, want gone", got)
	}
	if _, err := os.Stat(g.dir()); !os.IsNotExist(err) {
		t.Errorf("instance dir left after delete: %v", err)
	}
}

// TestQemuSSHForward runs a guest with --qemu-ssh-forward: the port kept
// in its instance dir and logged reaches the guest's port 22 (the test
// guest answers with a banner naming its hostname), stays the same when
// the guest is stopped and started, and still serves the guest after
// kumo is killed and restarted.
func TestQemuSSHForward(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	s, cli, dataDir, disk := startQemuCloud(t, "--qemu-ssh-forward")
	c := NewClients(t, s.CloudsFile(), "kumo")
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "m1.tiny",
		"--config-drive", "true", "ssh-vm", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("create: status %s", got)
	}
	g.waitConsole(c, 1, "dhcp ip=")
	port := g.sshPort()
	const banner = "SSH-2.0-KUMO-GUEST ssh-vm"
	if got := waitBanner(t, port); got != banner {
		t.Fatalf("127.0.0.1:%d answers %q, want %q", port, got, banner)
	}
	if log, _ := os.ReadFile(s.LogFile); !strings.Contains(string(log), fmt.Sprintf(`"addr":"127.0.0.1:%d"`, port)) {
		t.Errorf("kumo's log does not name the forward 127.0.0.1:%d", port)
	}

	cli.Run(t, "server", "stop", id)
	if got := qemuWaitIdle(t, c, id, "SHUTOFF"); got != "SHUTOFF" {
		t.Fatalf("stop: status %s", got)
	}
	cli.Run(t, "server", "start", id)
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("start: status %s", got)
	}
	if again := g.sshPort(); again != port {
		t.Errorf("the forward moved from %d to %d across stop and start", port, again)
	}
	if got := waitBanner(t, port); got != banner {
		t.Fatalf("after start 127.0.0.1:%d answers %q, want %q", port, got, banner)
	}

	s.Kill()
	restarted := Start(t, kumoBin, Options{DataDir: dataDir, Listen: s.Listen, Args: s.args})
	cli = NewCLI(restarted.CloudsFile(), "kumo")
	c = NewClients(t, restarted.CloudsFile(), "kumo")
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("after restart: status %s", got)
	}
	if got := waitBanner(t, port); got != banner {
		t.Fatalf("after kumo's restart 127.0.0.1:%d answers %q, want %q", port, got, banner)
	}
	cli.Run(t, "server", "delete", "--wait", id)
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second); err == nil {
		conn.Close()
		t.Errorf("127.0.0.1:%d still accepts connections after the server's delete", port)
	}
}

// TestQemuBridgeNetwork runs two guests of one project on bridge
// networking (root only): each qemu runs in kumo's network namespace and
// is leased its fixed address by kumo's dnsmasq, the second pings the
// first (its user data asks the test guest to), and the namespace has no
// link or route out. After kumo is killed and restarted a guest reset
// gets its lease again; deleting the guests removes their taps and the
// bridge.
func TestQemuBridgeNetwork(t *testing.T) {
	s, cli, dataDir, disk, ns := startBridgeCloud(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ip := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
		return string(out)
	}

	create := func(name string, extra ...string) (qemuGuest, string) {
		t.Helper()
		args := append([]string{"server", "create", "--image", disk, "--flavor", "m1.tiny", "--config-drive", "true"}, extra...)
		id := strings.TrimSpace(cli.Run(t, append(args, name, "-f", "value", "-c", "id")...))
		if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
			t.Fatalf("create %s: status %s", name, got)
		}
		fixed := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+`).FindString(cli.Run(t, "server", "show", id, "-f", "value", "-c", "addresses"))
		if fixed == "" {
			t.Fatalf("%s has no IPv4 address", name)
		}
		return qemuGuest{t: t, dataDir: dataDir, id: id}, fixed
	}
	a, ipA := create("bridge-a")
	a.waitConsole(c, 1, "dhcp ip="+ipA+"\n")
	userData := filepath.Join(t.TempDir(), "user-data")
	if err := os.WriteFile(userData, []byte("kumo-ping "+ipA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, ipB := create("bridge-b", "--user-data", userData)
	// Not "ping ADDR " alone: the user data line echoed at boot has it.
	console := b.waitConsole(c, 1, "dhcp ip="+ipB+"\n", "KUMO-GUEST: ping "+ipA+" ")
	if !strings.Contains(console, "KUMO-GUEST: ping "+ipA+" ok") {
		t.Errorf("bridge-b cannot ping bridge-a (%s):\n%s", ipA, console)
	}
	t.Logf("bridge-b's console:\n%s", console)

	netnsIno := func(path string) uint64 {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	for _, g := range []qemuGuest{a, b} {
		if got, want := netnsIno(fmt.Sprintf("/proc/%d/ns/net", g.pid())), netnsIno("/run/netns/"+ns); got != want {
			t.Errorf("the qemu of %s is not in namespace %s", g.id, ns)
		}
	}
	// The switch's only veths join it to kumo's own namespaces (the
	// network's DHCP and gateway); it has no address and no route.
	for _, line := range strings.Split(strings.TrimSpace(ip("-o", "link", "show", "type", "veth")), "\n") {
		if f := strings.Fields(line); len(f) > 1 && !strings.HasPrefix(f[1], "kv-") {
			t.Errorf("the switch has a link out: %s", line)
		}
	}
	if routes := ip("-4", "route", "show"); strings.TrimSpace(routes) != "" {
		t.Errorf("the switch routes:\n%s", routes)
	}

	// A crash of kumo leaves the network as it is: the reset guest is
	// leased its address again, by the dnsmasq kumo started before.
	s.Kill()
	restarted := Start(t, kumoBin, Options{DataDir: dataDir, Listen: s.Listen, Args: s.args})
	cli = NewCLI(restarted.CloudsFile(), "kumo")
	c = NewClients(t, restarted.CloudsFile(), "kumo")
	if got := qemuWaitIdle(t, c, a.id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("after restart: status %s", got)
	}
	a.qmp("system_reset")
	a.waitConsoleCount(c, "dhcp ip="+ipA+"\n", 2)

	cli.Run(t, "server", "delete", "--wait", a.id, b.id)
	// The taps go with the guests; the network's namespace and bridge
	// with the dataplane's next round.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		links := ip("-o", "link", "show")
		domains, _ := filepath.Glob("/run/netns/" + ns + "-*")
		if !strings.Contains(links, " kt-") && !strings.Contains(links, " kb-") && len(domains) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("taps, bridges or namespaces %v left after the guests' delete:\n%s", domains, links)
			break
		}
	}
}

// removeNamespace stops kumo and what it left of bridge networking: its
// guests, the dnsmasqs its pid files (anywhere under <data-dir>/netns)
// name, the domain namespaces of the dataplane (named <ns>-...) and the
// switch namespace ns.
func removeNamespace(t *testing.T, s qemuCloud, dataDir, ns string) {
	s.Stop(t)
	killGuests(t, dataDir)
	_ = filepath.WalkDir(filepath.Join(dataDir, "netns"), func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(f, ".pid") {
			return nil
		}
		b, _ := os.ReadFile(f)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		// Only a process that names the pid file is kumo's dnsmasq.
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); pid > 0 && err == nil && bytes.Contains(cmdline, []byte(f)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return nil
	})
	domains, _ := filepath.Glob("/run/netns/" + ns + "-*")
	for _, name := range append(domains, ns) {
		name = filepath.Base(name)
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sshPort is the host port kept in the guest's ssh-port file.
func (g qemuGuest) sshPort() int {
	g.t.Helper()
	b, err := os.ReadFile(filepath.Join(g.dir(), "ssh-port"))
	if err != nil {
		g.t.Fatalf("ssh forward: %v", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || port <= 0 {
		g.t.Fatalf("ssh-port file holds %q", b)
	}
	return port
}

// waitBanner connects to 127.0.0.1:port until the first line it reads
// is not empty (QEMU accepts a forwarded connection before the guest
// does, and closes it when the guest refuses) and returns that line.
func waitBanner(t *testing.T, port int) string {
	t.Helper()
	deadline := time.Now().Add(qemuGuestWait)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if line = strings.TrimSpace(line); line != "" {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.1:%d: no banner after %v (last: %v)", port, qemuGuestWait, err)
		}
		time.Sleep(time.Second)
	}
}

// TestQemuNonImageIsError boots a server from an image whose data is not
// a disk: the server goes to ERROR with a fault naming the cause.
func TestQemuNonImageIsError(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	requireCLI(t)
	dataDir := t.TempDir()
	t.Cleanup(func() { killGuests(t, dataDir) })
	s := Start(t, kumoBin, Options{DataDir: dataDir, Args: []string{"--driver", "qemu", "--qemu-accel", "tcg"}})
	cli := NewCLI(s.CloudsFile(), "kumo")
	c := NewClients(t, s.CloudsFile(), "kumo")
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("this is not a disk image\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"qcow2", "raw"} {
		img := strings.TrimSpace(cli.Run(t, "image", "create", "--disk-format", format, "--container-format", "bare",
			"--file", junk, "junk-"+format, "-f", "value", "-c", "id"))
		id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", img, "--flavor", "m1.tiny", "junk-vm-"+format,
			"-f", "value", "-c", "id"))
		if got := qemuWaitIdle(t, c, id, "ERROR"); got != "ERROR" {
			t.Fatalf("%s: status %s, want ERROR", format, got)
		}
		var srv obj
		cli.JSON(t, &srv, "server", "show", id)
		if fault := fmt.Sprint(srv["fault"]); !strings.Contains(fault, "is not a usable disk image") {
			t.Errorf("%s: fault %s", format, fault)
		}
	}
}

// qemuCloud is a kumo running the qemu driver.
type qemuCloud struct {
	*Server
	args []string
}

// startQemuCloud builds the test guest, starts kumo with the qemu driver
// (and extra flags) and uploads the guest's kernel, ramdisk and disk; the
// disk image boots the kernel directly (kernel_id, ramdisk_id,
// os_command_line).
func startQemuCloud(t *testing.T, extra ...string) (qemuCloud, *CLI, string, string) {
	t.Helper()
	requireCLI(t)
	// At most qemuClouds clouds run guests at once: TCG guests on a
	// 2-core machine beside the other packages' tests otherwise stall
	// before their kernel starts (seen as "Booting from ROM..." and no
	// more for minutes). Released last, after the guests are killed.
	qemuClouds <- struct{}{}
	t.Cleanup(func() { <-qemuClouds })
	guest := buildTestGuest(t)
	dataDir := t.TempDir()
	t.Cleanup(func() { killGuests(t, dataDir) }) // runs after kumo stops
	args := append([]string{"--driver", "qemu"}, extra...)
	s := Start(t, kumoBin, Options{DataDir: dataDir, Args: args})
	cli := NewCLI(s.CloudsFile(), "kumo")

	// The one-command import users run (scripts/import-test-guest).
	imp := exec.Command("../scripts/import-test-guest", guest, "qemu-disk")
	imp.Env = cli.env
	out, err := imp.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("import test guest: %v\n%s%s", err, out, stderr)
	}
	disk := string(out)
	return qemuCloud{Server: s, args: args}, cli, dataDir, strings.TrimSpace(disk)
}

// buildTestGuest returns the test guest built from Debian packages.
func buildTestGuest(t *testing.T) string {
	t.Helper()
	dir, err := testGuest()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// testGuest builds the test guest once for every qemu test: the build
// is the same each time (a kernel package downloaded, an initramfs
// made), and at seconds of CPU each it held a qemu cloud's slot for
// about 16 s per test on a busy 2-core machine. Each test imports the
// files read-only into its own cloud.
var testGuest = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(scratchDir, "test-guest")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/build-test-guest", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build test guest: %w\n%s", err, out)
	}
	return dir, nil
})

// killGuests ends qemu processes a test's kumo left behind (a failed
// test may not have deleted its servers).
func killGuests(t *testing.T, dataDir string) {
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "instances", "*"))
	for _, d := range dirs {
		g := qemuGuest{t: t, dataDir: dataDir, id: filepath.Base(d)}
		if pid := g.pid(); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// qemuGuest looks at one guest from outside kumo: its files, process
// and QMP socket.
type qemuGuest struct {
	t       *testing.T
	dataDir string
	id      string
}

func (g qemuGuest) dir() string { return filepath.Join(g.dataDir, "instances", g.id) }

// pid is the guest's live qemu process, 0 when there is none.
func (g qemuGuest) pid() int {
	b, err := os.ReadFile(filepath.Join(g.dir(), "qemu.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("guest="+g.id)) {
		return 0
	}
	return pid
}

// processes counts the qemu processes running this guest.
func (g qemuGuest) processes() int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n := 0
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("guest="+g.id+"\x00")) {
			n++
		}
	}
	return n
}

// status is the guest's QMP run state, or "gone" without a process.
func (g qemuGuest) status() string {
	g.t.Helper()
	if g.pid() == 0 {
		return "gone"
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(g.qmp("query-status"), &st); err != nil {
		g.t.Fatalf("query-status: %v", err)
	}
	return st.Status
}

// size is what the running guest has: its vCPUs (QMP query-cpus-fast)
// and its RAM in MiB (query-memory-size-summary).
func (g qemuGuest) size() (vcpus, memoryMiB int) {
	g.t.Helper()
	var cpus []json.RawMessage
	if err := json.Unmarshal(g.qmp("query-cpus-fast"), &cpus); err != nil {
		g.t.Fatalf("query-cpus-fast: %v", err)
	}
	var mem struct {
		Base int64 `json:"base-memory"`
	}
	if err := json.Unmarshal(g.qmp("query-memory-size-summary"), &mem); err != nil {
		g.t.Fatalf("query-memory-size-summary: %v", err)
	}
	return len(cpus), int(mem.Base >> 20)
}

// qmp runs one QMP command on the guest's socket and returns its result.
func (g qemuGuest) qmp(command string) json.RawMessage {
	g.t.Helper()
	sock := filepath.Join(g.dir(), "qmp.sock")
	if len(sock) >= 100 { // the driver's fallback for paths too long for a socket
		sum := sha256.Sum256([]byte(sock))
		sock = filepath.Join(os.TempDir(), "kumo-qmp-"+hex.EncodeToString(sum[:10])+".sock")
	}
	conn, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		g.t.Fatalf("qmp: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	read := func() map[string]json.RawMessage {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				g.t.Fatalf("qmp read: %v", err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(line, &m); err != nil {
				g.t.Fatalf("qmp: %v", err)
			}
			if m["event"] == nil {
				return m
			}
		}
	}
	read() // greeting
	fmt.Fprintln(conn, `{"execute": "qmp_capabilities"}`)
	read()
	fmt.Fprintf(conn, "{\"execute\": %q}\n", command)
	return read()["return"]
}

// consoleLog is the guest's console log as the Compute API gives it
// (os-getConsoleOutput through gophercloud: a look through the CLI costs a
// Python start-up, about a CPU second, and the waits below look every
// second for minutes; server_rescue_test drives the CLI's command).
func (g qemuGuest) consoleLog(c *Clients) string {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout) // bounded as a CLI call was
	defer cancel()
	out, err := servers.ShowConsoleOutput(ctx, c.Compute, g.id, servers.ShowConsoleOutputOpts{}).Extract()
	if err != nil {
		g.t.Fatalf("console log of %s: %v", g.id, err)
	}
	return out
}

// waitConsoleFor polls the console log every second until ok accepts it,
// and returns it; what names what is awaited.
func (g qemuGuest) waitConsoleFor(c *Clients, what string, ok func(log string) bool) string {
	g.t.Helper()
	deadline := time.Now().Add(qemuGuestWait)
	for {
		log := g.consoleLog(c)
		if ok(log) {
			return log
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("no %s on the console after %v:\n%s", what, qemuGuestWait, log)
		}
		time.Sleep(time.Second)
	}
}

// waitConsole polls the console log until the ready marker has appeared
// boots times and every want string is there; it returns the log.
func (g qemuGuest) waitConsole(c *Clients, boots int, want ...string) string {
	g.t.Helper()
	return g.waitConsoleFor(c, fmt.Sprintf("%d× %s and %q", boots, guestReady, want), func(log string) bool {
		if strings.Count(log, guestReady) < boots {
			return false
		}
		for _, w := range want {
			if !strings.Contains(log, w) {
				return false
			}
		}
		return true
	})
}

// waitConsoleCount polls the console log until s appears n times in it,
// and returns the log.
func (g qemuGuest) waitConsoleCount(c *Clients, s string, n int) string {
	g.t.Helper()
	return g.waitConsoleFor(c, fmt.Sprintf("%d× %q", n, s), func(log string) bool { return strings.Count(log, s) >= n })
}

// waitLastLine polls the console log until the guest has booted boots
// times and the fields of the last line it printed with prefix after its
// last boot satisfy ok.
func (g qemuGuest) waitLastLine(c *Clients, boots int, prefix string, ok func(fields []string) bool) {
	g.t.Helper()
	g.waitConsoleFor(c, fmt.Sprintf("%d× %s and a satisfying %q line after the last", boots, guestReady, prefix), func(log string) bool {
		if strings.Count(log, guestReady) < boots {
			return false
		}
		lastBoot := log[strings.LastIndex(log, guestReady):]
		i := strings.LastIndex(lastBoot, prefix)
		if i < 0 {
			return false
		}
		line, _, _ := strings.Cut(lastBoot[i+len(prefix):], "\n")
		return ok(strings.Fields(line))
	})
}

// TestQemuGuestDiskOps drives a real guest through a crash dump,
// rescue/unrescue, rebuild, resize with confirm and with revert, and a
// snapshot a second guest then boots from; after each the API status,
// the guest's QMP status, its vCPUs and RAM, and its disks agree.
func TestQemuGuestDiskOps(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	s, cli, dataDir, disk := startQemuCloud(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	for _, f := range [][]string{{"q.one", "256", "1", "1"}, {"q.two", "320", "2", "2"}, {"q.three", "384", "3", "1"}} {
		cli.Run(t, "flavor", "create", "--ram", f[1], "--disk", f[2], "--vcpus", f[3], f[0])
	}
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "q.one", "--config-drive", "true",
		"disk-vm", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}
	expect := func(step, status, qmp string) {
		t.Helper()
		if got := qemuWaitIdle(t, c, id, status); got != status {
			t.Fatalf("%s: status %s, want %s", step, got, status)
		}
		if got := g.status(); got != qmp {
			t.Fatalf("%s: API says %s but the guest is %q, want %q", step, status, got, qmp)
		}
	}
	// The guest runs with its flavor's vCPUs and RAM (q.one: 1, 256).
	sized := func(step string, vcpus, memoryMiB int) {
		t.Helper()
		if c, m := g.size(); c != vcpus || m != memoryMiB {
			t.Errorf("%s: guest has %d vCPUs and %d MiB, want %d and %d", step, c, m, vcpus, memoryMiB)
		}
	}
	expect("create", "ACTIVE", "running")
	g.waitConsole(c, 1, "hostname=disk-vm")
	sized("create", 1, 256)

	// A crash dump is an NMI: the guest's kernel reports it on the
	// console and carries on.
	cli.Run(t, "--os-compute-api-version", "2.17", "server", "dump", "create", id)
	g.waitConsole(c, 1, "NMI received")
	expect("crash dump", "ACTIVE", "running")

	cli.Run(t, "server", "rescue", "--image", disk, id)
	expect("rescue", "RESCUE", "running")
	if _, err := os.Stat(filepath.Join(g.dir(), "rescue.qcow2")); err != nil {
		t.Errorf("rescued guest has no rescue disk: %v", err)
	}
	g.waitConsole(c, 2)
	cli.Run(t, "server", "unrescue", id)
	expect("unrescue", "ACTIVE", "running")
	g.waitConsole(c, 3)

	cli.Run(t, "server", "rebuild", "--image", disk, id)
	expect("rebuild", "ACTIVE", "running")
	g.waitConsole(c, 4)

	cli.Run(t, "server", "resize", "--flavor", "q.two", id)
	expect("resize", "VERIFY_RESIZE", "running")
	cli.Run(t, "server", "resize", "confirm", id)
	expect("confirm", "ACTIVE", "running")
	if got := g.diskGiB(); got != 2 {
		t.Errorf("root disk after resize to q.two: %d GiB, want 2", got)
	}
	sized("resize to q.two", 2, 320)
	cli.Run(t, "server", "resize", "--flavor", "q.three", id)
	expect("resize again", "VERIFY_RESIZE", "running")
	if got := g.diskGiB(); got != 3 {
		t.Errorf("root disk after resize to q.three: %d GiB, want 3", got)
	}
	sized("resize to q.three", 1, 384)
	cli.Run(t, "server", "resize", "revert", id)
	expect("revert", "ACTIVE", "running")
	if got := g.diskGiB(); got != 2 {
		t.Errorf("root disk after revert: %d GiB, want 2", got)
	}
	sized("revert", 2, 320)

	snap := strings.TrimSpace(cli.Run(t, "server", "image", "create", "--name", "disk-vm-snap", "--wait", id, "-f", "value", "-c", "id"))
	expect("snapshot", "ACTIVE", "running")
	id2 := strings.TrimSpace(cli.Run(t, "server", "create", "--image", snap, "--flavor", "q.two", "--config-drive", "true",
		"from-snap", "-f", "value", "-c", "id"))
	g2 := qemuGuest{t: t, dataDir: dataDir, id: id2}
	if got := qemuWaitIdle(t, c, id2, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("server from snapshot: %s", got)
	}
	g2.waitConsole(c, 1, "hostname=from-snap")

	cli.Run(t, "server", "delete", "--wait", id, id2)
	for _, gg := range []qemuGuest{g, g2} {
		if got := gg.status(); got != "gone" {
			t.Errorf("after delete guest %s is %q", gg.id, got)
		}
	}
}

func requireQemu(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"qemu-system-x86_64", "qemu-img"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (apt-get install qemu-system-x86 qemu-utils)", bin)
		}
	}
}

// diskGiB is the virtual size of the guest's root disk.
func (g qemuGuest) diskGiB() int64 {
	g.t.Helper()
	out, err := exec.Command("qemu-img", "info", "-U", "--output=json", filepath.Join(g.dir(), "disk.qcow2")).Output()
	if err != nil {
		g.t.Fatalf("qemu-img info: %v", err)
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		g.t.Fatal(err)
	}
	return info.VirtualSize >> 30
}

// TestQemuInterfaceHotPlug attaches a network to a running qemu guest:
// the API answers once the guest has a new NIC with the port's MAC (the
// test guest prints its NICs' MACs whenever they change; QMP shows the
// device). The NIC survives a stop and start; a detach unplugs it from
// the running guest, and the port Nova made for it goes.
func TestQemuInterfaceHotPlug(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	s, cli, dataDir, disk := startQemuCloud(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "m1.tiny", "hotplug-vm", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("create: status %s", got)
	}
	g.waitConsole(c, 1, "KUMO-GUEST: nics=")
	ports := func() map[string]string { // port id → MAC
		t.Helper()
		var list []struct {
			ID  string `json:"ID"`
			MAC string `json:"MAC Address"`
		}
		if err := json.Unmarshal([]byte(cli.Run(t, "port", "list", "--server", id, "-f", "json")), &list); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range list {
			out[p.ID] = p.MAC
		}
		return out
	}
	booted := ports()
	if len(booted) != 1 {
		t.Fatalf("ports of the new server: %v", booted)
	}

	var network string
	for p := range booted {
		network = strings.TrimSpace(cli.Run(t, "port", "show", p, "-f", "value", "-c", "network_id"))
	}
	cli.Run(t, "server", "add", "network", id, network)
	var port, mac string
	for p, m := range ports() {
		if _, ok := booted[p]; !ok {
			port, mac = p, m
		}
	}
	if port == "" {
		t.Fatalf("no new port after the attach: %v", ports())
	}
	g.waitNICs(c, 1, func(macs []string) bool { return slices.Contains(macs, mac) && len(macs) == 2 })
	if !g.hasPCIDevice("nic-" + strings.ReplaceAll(mac, ":", "")) {
		t.Errorf("QMP query-pci shows no device for %s", mac)
	}

	cli.Run(t, "server", "stop", id)
	if got := qemuWaitIdle(t, c, id, "SHUTOFF"); got != "SHUTOFF" {
		t.Fatalf("stop: status %s", got)
	}
	cli.Run(t, "server", "start", id)
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("start: status %s", got)
	}
	g.waitNICs(c, 2, func(macs []string) bool { return slices.Contains(macs, mac) && len(macs) == 2 })

	cli.Run(t, "server", "remove", "port", id, port)
	g.waitNICs(c, 2, func(macs []string) bool { return !slices.Contains(macs, mac) && len(macs) == 1 })
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		if _, still := ports()[port]; !still {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %s still on the server after the detach", port)
		}
	}
	if g.hasPCIDevice("nic-" + strings.ReplaceAll(mac, ":", "")) {
		t.Errorf("QMP query-pci still shows the device of %s", mac)
	}
	cli.Run(t, "server", "delete", "--wait", id)
}

// waitNICs polls the console until the guest has booted boots times and
// the last NICs it printed (after the last boot) satisfy ok.
func (g qemuGuest) waitNICs(c *Clients, boots int, ok func(macs []string) bool) {
	g.t.Helper()
	g.waitLastLine(c, boots, "KUMO-GUEST: nics=", ok)
}

// hasPCIDevice reports whether QMP query-pci shows a device with qdev id
// id, on the root bus or behind a bridge (a root port).
func (g qemuGuest) hasPCIDevice(id string) bool {
	g.t.Helper()
	type device struct {
		QdevID string `json:"qdev_id"`
		Bridge *struct {
			Devices []json.RawMessage `json:"devices"`
		} `json:"pci_bridge"`
	}
	var buses []struct {
		Devices []json.RawMessage `json:"devices"`
	}
	if err := json.Unmarshal(g.qmp("query-pci"), &buses); err != nil {
		g.t.Fatalf("query-pci: %v", err)
	}
	var walk func([]json.RawMessage) bool
	walk = func(devs []json.RawMessage) bool {
		for _, raw := range devs {
			var d device
			if json.Unmarshal(raw, &d) != nil {
				continue
			}
			if d.QdevID == id || d.Bridge != nil && walk(d.Bridge.Devices) {
				return true
			}
		}
		return false
	}
	for _, b := range buses {
		if walk(b.Devices) {
			return true
		}
	}
	return false
}

// TestQemuBridgeInterfaceHotPlug hot-plugs a NIC into a guest on bridge
// networking (root only): the new NIC gets a tap on its subnet's bridge
// and a lease from the bridge's dnsmasq, and the guest sees it; the
// detach takes NIC, tap and lease away again.
func TestQemuBridgeInterfaceHotPlug(t *testing.T) {
	s, cli, dataDir, disk, ns := startBridgeCloud(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "m1.tiny", "bridge-hotplug", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("create: status %s", got)
	}
	g.waitConsole(c, 1, "KUMO-GUEST: nics=", "dhcp ip=")
	booted := strings.TrimSpace(cli.Run(t, "port", "list", "--server", id, "-f", "value", "-c", "ID"))
	network := strings.TrimSpace(cli.Run(t, "port", "show", booted, "-f", "value", "-c", "network_id"))
	port := strings.TrimSpace(cli.Run(t, "port", "create", "--network", network, "hot-port", "-f", "value", "-c", "id"))
	mac := strings.TrimSpace(cli.Run(t, "port", "show", port, "-f", "value", "-c", "mac_address"))

	// plugged is the tap the namespace's state gives mac and whether a
	// dnsmasq leases mac an address.
	plugged := func() (tap string, leased bool) {
		t.Helper()
		var ports []struct {
			Tap string `json:"tap"`
			MAC string `json:"mac"`
		}
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dataDir, "netns", "ports.json"))), &ports); err != nil {
			t.Fatal(err)
		}
		for _, p := range ports {
			if p.MAC == mac {
				tap = p.Tap
			}
		}
		pidFiles, _ := filepath.Glob(filepath.Join(dataDir, "netns", "dataplane", "*.pid"))
		for _, f := range pidFiles {
			pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, f)))
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			leased = leased || bytes.Contains(cmdline, []byte("--dhcp-host="+mac+","))
		}
		return tap, leased
	}

	cli.Run(t, "server", "add", "port", id, port)
	g.waitNICs(c, 1, func(macs []string) bool { return slices.Contains(macs, mac) && len(macs) == 2 })
	// The guest may see its NIC before the dataplane's next round
	// (every 500 ms) restarts dnsmasq with the new address.
	var tap string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		var leased bool
		if tap, leased = plugged(); tap != "" && leased {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hot-plugged NIC %s: tap %q, leased %t after a minute", mac, tap, leased)
		}
	}
	if out, err := exec.Command("ip", "-n", ns, "-o", "link", "show", tap).CombinedOutput(); err != nil || !strings.Contains(string(out), "master kb-") {
		t.Errorf("tap %s of the hot-plugged NIC is not on a bridge: %v: %s", tap, err, out)
	}

	cli.Run(t, "server", "remove", "port", id, port)
	g.waitNICs(c, 1, func(macs []string) bool { return !slices.Contains(macs, mac) && len(macs) == 1 })
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		tap, leased := plugged()
		if tap == "" && !leased {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the detach NIC %s still has tap %q, leased %t", mac, tap, leased)
		}
	}
	if out, _ := exec.Command("ip", "-n", ns, "-o", "link", "show").CombinedOutput(); strings.Contains(string(out), " "+tap+":") {
		t.Errorf("tap %s left after the detach:\n%s", tap, out)
	}
	cli.Run(t, "server", "delete", "--wait", id)
}

// startBridgeCloud starts a parallel qemu cloud on bridge networking
// (skipping without qemu, root or dnsmasq), with extra flags, and
// returns it with the network namespace kumo made, removed when the
// test ends.
func startBridgeCloud(t *testing.T, extra ...string) (s qemuCloud, cli *CLI, dataDir, disk, ns string) {
	t.Helper()
	requireQemu(t)
	if os.Geteuid() != 0 {
		t.Skip("bridge networking needs root")
	}
	if _, err := exec.LookPath("dnsmasq"); err != nil {
		t.Skip("dnsmasq not installed (apt-get install dnsmasq-base)")
	}
	t.Parallel()
	s, cli, dataDir, disk = startQemuCloud(t, append([]string{"--qemu-network", "bridge"}, extra...)...)
	m := regexp.MustCompile(`"netns":"(kumo-[0-9a-f]+)"`).FindStringSubmatch(readFile(t, s.LogFile))
	if m == nil {
		t.Fatalf("kumo's log names no network namespace:\n%s", readFile(t, s.LogFile))
	}
	ns = m[1]
	t.Cleanup(func() { removeNamespace(t, s, dataDir, ns) })
	return s, cli, dataDir, disk, ns
}

// TestQemuVolumeHotPlug attaches a volume to a running qemu guest: the
// API answers once the guest has a disk whose serial is the volume id's
// first 20 characters (the test guest prints its disks and their serials
// whenever they change; QMP shows the device). The disk is there again
// after a stop and start; a detach unplugs it from the running guest and
// the volume is available again. A server booted from a volume made of
// the test guest's image boots from it: its first disk is the volume's.
func TestQemuVolumeHotPlug(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	s, cli, dataDir, disk := startQemuCloud(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--flavor", "m1.tiny", "volume-vm", "-f", "value", "-c", "id"))
	g := qemuGuest{t: t, dataDir: dataDir, id: id}
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("create: status %s", got)
	}
	g.waitDisks(c, 1, func(disks []string) bool { return len(disks) == 1 })

	vol := strings.TrimSpace(cli.Run(t, "volume", "create", "--size", "1", "hot-volume", "-f", "value", "-c", "id"))
	waitVolume(t, cli, vol, "available")
	serial := vol[:20]
	withSerial := func(disks []string) bool {
		return slices.ContainsFunc(disks, func(d string) bool { return strings.HasSuffix(d, ":"+serial) })
	}
	cli.Run(t, "server", "add", "volume", id, vol)
	waitVolume(t, cli, vol, "in-use")
	g.waitDisks(c, 1, func(disks []string) bool { return withSerial(disks) && len(disks) == 2 })
	if !g.hasPCIDevice("vdisk-" + serial) {
		t.Errorf("QMP query-pci shows no device for volume %s", vol)
	}

	cli.Run(t, "server", "stop", id)
	if got := qemuWaitIdle(t, c, id, "SHUTOFF"); got != "SHUTOFF" {
		t.Fatalf("stop: status %s", got)
	}
	cli.Run(t, "server", "start", id)
	if got := qemuWaitIdle(t, c, id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("start: status %s", got)
	}
	g.waitDisks(c, 2, func(disks []string) bool { return withSerial(disks) && len(disks) == 2 })

	cli.Run(t, "server", "remove", "volume", id, vol)
	g.waitDisks(c, 2, func(disks []string) bool { return !withSerial(disks) && len(disks) == 1 })
	waitVolume(t, cli, vol, "available")
	if g.hasPCIDevice("vdisk-" + serial) {
		t.Errorf("QMP query-pci still shows the device of volume %s", vol)
	}
	cli.Run(t, "server", "delete", "--wait", id)
	cli.Run(t, "volume", "delete", vol)

	// Booted from a volume the image is copied into: no overlay of the
	// driver's, the volume is the first disk.
	bfv := strings.TrimSpace(cli.Run(t, "server", "create", "--image", disk, "--boot-from-volume", "1", "--flavor", "m1.tiny",
		"bfv-vm", "-f", "value", "-c", "id"))
	g2 := qemuGuest{t: t, dataDir: dataDir, id: bfv}
	if got := qemuWaitIdle(t, c, bfv, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("create from volume: status %s", got)
	}
	var attached []struct {
		ID string `json:"id"`
	}
	var srv struct {
		Volumes json.RawMessage `json:"volumes_attached"`
	}
	cli.JSON(t, &srv, "server", "show", bfv)
	if err := json.Unmarshal(srv.Volumes, &attached); err != nil || len(attached) != 1 {
		t.Fatalf("volumes_attached of the volume-backed server: %s (%v)", srv.Volumes, err)
	}
	g2.waitDisks(c, 1, func(disks []string) bool { return len(disks) == 1 && disks[0] == "vda:"+attached[0].ID[:20] })
	if _, err := os.Stat(filepath.Join(g2.dir(), "disk.qcow2")); !os.IsNotExist(err) {
		t.Errorf("the volume-backed guest has a root disk of the driver's: %v", err)
	}
	cli.Run(t, "server", "delete", "--wait", bfv)
}

// waitDisks polls the console until the guest has booted boots times and
// the last disks it printed after its last boot ("vda vdb:SERIAL")
// satisfy ok.
func (g qemuGuest) waitDisks(c *Clients, boots int, ok func(disks []string) bool) {
	g.t.Helper()
	g.waitLastLine(c, boots, "KUMO-GUEST: disks=", ok)
}
