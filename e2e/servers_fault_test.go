package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestSpawnFailureCLI boots from an image the fake driver fails to spawn
// (image property kumo_fake_fail=spawn): the server ends in ERROR with a
// fault, its create action records the failure, and it can be deleted.
func TestSpawnFailureCLI(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion

	file := filepath.Join(t.TempDir(), "fails.raw")
	if err := os.WriteFile(file, imageData, 0o600); err != nil {
		t.Fatal(err)
	}
	var img obj
	cli.JSON(t, &img, "image", "create", "--property", "kumo_fake_fail=spawn", "--file", file, "--disk-format", "raw", "--container-format", "bare", "fails-to-spawn")
	if img.property(t, "kumo_fake_fail") != "spawn" {
		t.Fatalf("image create printed %v, want property kumo_fake_fail=spawn", img)
	}

	// The CLI's --wait sees the build fail and says so.
	r := cli.Exec(osc("server", "create", "--flavor", "m1.tiny", "--image", "fails-to-spawn", "--nic", "none", "--wait", "bad")...)
	if !strings.Contains(r.Stdout+r.Stderr, "Error creating server") {
		t.Errorf("server create --wait from the failing image printed:\nstdout:\n%s\nstderr:\n%s\nwant \"Error creating server\"", r.Stdout, r.Stderr)
	}
	var good obj
	cli.JSON(t, &good, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "good")...)
	goodID := good.str(t, "id")
	listed := gcListAll(t, c.Compute, servers.ListOpts{Name: "^bad$"})
	if len(listed) != 1 {
		t.Fatalf("servers named bad: %v, want one", serverNames(listed))
	}
	badID := listed[0].ID
	if srv := gcWaitStatus(t, c.Compute, badID, "ERROR", "ACTIVE"); srv.Status != "ERROR" {
		t.Fatalf("bad is %s, want ERROR", statusOf(srv))
	}
	gcWaitStatus(t, c.Compute, goodID, "ERROR", "ACTIVE")

	t.Run("server show has the fault", func(t *testing.T) {
		var srv obj
		cli.JSON(t, &srv, "server", "show", "bad")
		if srv["status"] != "ERROR" || srv["OS-EXT-STS:vm_state"] != "error" || srv["OS-EXT-STS:task_state"] != nil {
			t.Fatalf("server show bad: status %v vm_state %v task_state %v, want ERROR, error, null", srv["status"], srv["OS-EXT-STS:vm_state"], srv["OS-EXT-STS:task_state"])
		}
		fault, ok := srv["fault"].(map[string]any)
		if !ok {
			t.Fatalf("server show bad: fault is %T (%v), want an object", srv["fault"], srv["fault"])
		}
		msg, _ := fault["message"].(string)
		if msg == "" || fmt.Sprint(fault["code"]) != "500" || fault["created"] == nil {
			t.Errorf("fault %v, want code 500, a message and a created time", fault)
		}
		t.Logf("fault message: %q", msg)
		var ok2 obj
		cli.JSON(t, &ok2, "server", "show", "good")
		if ok2["status"] != "ACTIVE" {
			t.Errorf("the good server is %v, want ACTIVE", ok2["status"])
		}
		if _, has := ok2["fault"]; has {
			t.Errorf("an ACTIVE server shows a fault: %v", ok2["fault"])
		}
	})

	t.Run("list by status", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "server", "list", "--status", "ERROR")
		if len(rows) != 1 || rows[0].str(t, "ID") != badID {
			t.Errorf("server list --status ERROR = %v, want only bad", rows)
		}
		cli.JSON(t, &rows, "server", "list", "--status", "ACTIVE")
		if len(rows) != 1 || rows[0].str(t, "ID") != goodID {
			t.Errorf("server list --status ACTIVE = %v, want only good", rows)
		}
	})

	t.Run("the create action records the failure", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "server", "event", "list", badID)
		if len(rows) != 1 || rows[0].str(t, "Action") != "create" {
			t.Fatalf("server event list bad = %v, want one create", rows)
		}
		var detail obj
		cli.JSON(t, &detail, "server", "event", "show", badID, rows[0].str(t, "Request ID"))
		// Nova marks an action whose event failed with the message "Error".
		if detail["message"] != "Error" {
			t.Errorf("server event show: message %v, want Error", detail["message"])
		}
		if events := fmt.Sprint(detail["events"]); !strings.Contains(events, "Error") {
			t.Errorf("server event show: events %s, want a failed event (result Error)", events)
		}
	})

	t.Run("an ERROR server can be deleted", func(t *testing.T) {
		cli.Run(t, "server", "delete", "--wait", "bad")
		var rows []obj
		cli.JSON(t, &rows, "server", "list")
		if len(rows) != 1 || rows[0].str(t, "ID") != goodID {
			t.Errorf("server list after deleting bad = %v, want only good", rows)
		}
	})
}
