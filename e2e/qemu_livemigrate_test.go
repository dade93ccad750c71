package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var guestCountRE = regexp.MustCompile(`KUMO-GUEST: count=(\d+)`)

// guestCounts are the counts the counting test guest printed in log.
func guestCounts(log string) []int {
	var out []int
	for _, m := range guestCountRE.FindAllStringSubmatch(log, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// TestQemuLiveMigration live-migrates a running test guest between two
// kumo compute hosts on the qemu driver (data dirs apart, one cloud on
// PostgreSQL) with the openstack CLI: the migration completes, the
// server is on the destination, one qemu runs it there and none is left
// on the source, and the count the guest prints on its console goes on
// from where it was (the guest moved, it did not boot again).
func TestQemuLiveMigration(t *testing.T) {
	requireQemu(t)
	t.Parallel()
	qemuClouds <- struct{}{}
	t.Cleanup(func() { <-qemuClouds })
	guest := buildTestGuest(t)
	f := startFleet(t, 1)
	for _, h := range []string{"qemu-1", "qemu-2"} {
		s := f.startHost(t, h, "--driver", "qemu")
		t.Cleanup(func() { killGuests(t, s.DataDir) })
	}
	cli := f.clis[0]
	imp := exec.Command("../scripts/import-test-guest", guest, "qemu-disk")
	imp.Env = cli.env
	out, err := imp.Output()
	if err != nil {
		t.Fatalf("import test guest: %v\n%s", err, out)
	}
	userData := filepath.Join(t.TempDir(), "user-data")
	if err := os.WriteFile(userData, []byte("kumo-count\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(cli.Run(t, "server", "create", "--image", strings.TrimSpace(string(out)), "--flavor", "m1.tiny",
		"--config-drive", "true", "--user-data", userData, "counting-vm", "-f", "value", "-c", "id"))
	if got := qemuWaitIdle(t, f.admins[0], id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("server %s is %s", id, got)
	}
	from := f.hostOf(t, id)
	to := map[string]string{"qemu-1": "qemu-2", "qemu-2": "qemu-1"}[from]
	src := qemuGuest{t: t, dataDir: f.hosts[from].DataDir, id: id}
	log := src.waitConsoleCount(f.admins[0], "count=", 3)
	before := guestCounts(log)

	start := time.Now()
	cli.Run(t, "--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--host", to, "--wait", id)
	if got := qemuWaitIdle(t, f.admins[0], id, "ACTIVE"); got != "ACTIVE" {
		t.Fatalf("after the live migration server %s is %s", id, got)
	}
	t.Logf("live-migrated from %s to %s in %v", from, to, time.Since(start).Round(time.Second))
	if got := f.hostOf(t, id); got != to {
		t.Fatalf("live-migrated from %s to %s: the server is on %q", from, to, got)
	}
	var migs []obj
	cli.JSON(t, &migs, "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", id)
	if len(migs) != 1 || migs[0].str(t, "Status") != "completed" || migs[0].str(t, "Type") != "live-migration" {
		t.Errorf("migrations of %s: %v, want one completed live-migration", id, migs)
	}
	dst := qemuGuest{t: t, dataDir: f.hosts[to].DataDir, id: id}
	if n := dst.processes(); n != 1 || dst.pid() == 0 {
		t.Errorf("%d qemu processes run the guest (the destination's pid %d), want the destination's alone", n, dst.pid())
	}
	if got := guestDirs(t, f.hosts[from], id); got != 0 {
		t.Errorf("the source %s still holds the guest", from)
	}
	// The console is the destination's now: the count goes on there.
	log = dst.waitConsoleCount(f.admins[0], "count=", 2)
	after := guestCounts(log)
	if strings.Contains(log, guestReady) || after[0] <= before[len(before)-1] || after[len(after)-1] <= after[0] {
		t.Errorf("counts before the move %v, after %v: want them to go on\n%s", before, after, log)
	}
}
