package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestVolumeCLI drives the block storage API with the openstack CLI,
// which finds it in the catalog (block-storage / volumev3) and negotiates
// its microversion from the version document: volumes, snapshots, types
// and quotas.
func TestVolumeCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t, "--volume-capacity-gb", "20")

	var vol obj
	cli.JSON(t, &vol, "volume", "create", "--size", "1", "--property", "purpose=e2e", "cli-vol")
	id := vol.str(t, "id")
	waitVolume(t, cli, id, "available")

	var vols []obj
	cli.JSON(t, &vols, "volume", "list")
	if row := findBy(vols, "ID", id); row == nil || row.str(t, "Name") != "cli-vol" || row.num(t, "Size") != 1 {
		t.Fatalf("volume list %v", vols)
	}
	cli.Run(t, "volume", "set", "--name", "cli-vol2", "--description", "described", "--size", "2", "--property", "k=v", id)
	waitVolume(t, cli, id, "available")
	var shown obj
	cli.JSON(t, &shown, "volume", "show", id)
	if shown.str(t, "name") != "cli-vol2" || shown.str(t, "description") != "described" || shown.num(t, "size") != 2 {
		t.Errorf("volume show %v", shown)
	}
	// The CLI names the metadata "properties" or, through the SDK,
	// "metadata".
	if p := fmt.Sprint(shown["properties"], shown["metadata"]); !strings.Contains(p, "k") || !strings.Contains(p, "purpose") {
		t.Errorf("volume show %v: no metadata", shown)
	}

	var snap obj
	cli.JSON(t, &snap, "volume", "snapshot", "create", "--volume", id, "cli-snap")
	sid := snap.str(t, "id")
	waitFor(t, func() bool {
		var s obj
		cli.JSON(t, &s, "volume", "snapshot", "show", sid)
		return s.str(t, "status") == "available"
	})
	var snaps []obj
	cli.JSON(t, &snaps, "volume", "snapshot", "list")
	if findBy(snaps, "ID", sid) == nil {
		t.Errorf("snapshot list %v", snaps)
	}
	// A volume with snapshots cannot go.
	if msg := cli.Fail(t, "volume", "delete", id); !strings.Contains(msg, "snapshots") {
		t.Errorf("delete with snapshots: %s", msg)
	}
	cli.Run(t, "volume", "snapshot", "delete", sid)

	var typ obj
	cli.JSON(t, &typ, "volume", "type", "create", "--property", "volume_backend_name=kumo", "--private", "gold")
	var types []obj
	cli.JSON(t, &types, "volume", "type", "list")
	if findBy(types, "Name", "__DEFAULT__") == nil {
		t.Errorf("type list %v", types)
	}
	var all []obj
	cli.JSON(t, &all, "volume", "type", "list", "--long", "--private")
	if findBy(all, "Name", "gold") == nil {
		t.Errorf("private types %v", all)
	}

	// quota show asks compute, block storage and networking; the
	// volume rows are Cinder's.
	out := cli.Run(t, "quota", "show", "-f", "json")
	for _, want := range []string{"volumes", "gigabytes", "snapshots"} {
		if !strings.Contains(out, want) {
			t.Errorf("quota show lacks %s: %s", want, out)
		}
	}

	waitFor(t, func() bool { return cli.Exec("volume", "delete", id).Err == nil })
	waitFor(t, func() bool {
		var vols []obj
		cli.JSON(t, &vols, "volume", "list")
		return findBy(vols, "ID", id) == nil
	})
	cli.Run(t, "volume", "type", "delete", "gold")
}

// waitVolume waits until the CLI shows the volume in status.
func waitVolume(t *testing.T, cli *CLI, id, status string) {
	t.Helper()
	waitFor(t, func() bool {
		var v obj
		cli.JSON(t, &v, "volume", "show", id)
		if s := v.str(t, "status"); s == "error" {
			t.Fatalf("volume %s went to error", id)
		}
		return v.str(t, "status") == status
	})
}

// waitFor polls cond for a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
