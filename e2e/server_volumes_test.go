package e2e

import (
	"testing"
	"time"
)

// waitVolumeCLI polls `openstack volume show` until the volume has status.
func waitVolumeCLI(t *testing.T, cli *CLI, name, status string) obj {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v obj
		cli.JSON(t, &v, "volume", "show", name)
		if v["status"] == status {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume %s is %v, want %s", name, v["status"], status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServerVolumesCLI: Nova's volume calls as the openstack CLI makes
// them, over kumo's own volume service: `server add volume` attaches a
// volume (in-use, listed by `server volume list` and in volumes_attached),
// `server remove volume` detaches it; `server create --boot-from-volume`
// boots from a volume made from the image, `--volume` from a bootable
// volume; createImage of a volume-backed server snapshots its volume, and
// a server booted from that image gets a volume from the snapshot; a
// deleted server's volumes are available again.
func TestServerVolumesCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)
	cli.Run(t, "volume", "create", "--size", "1", "data")
	cli.Run(t, "server", "create", "--image", "kumo-tiny", "--flavor", "1", "--wait", "vm")
	waitVolumeCLI(t, cli, "data", "available")

	cli.Run(t, "server", "add", "volume", "vm", "data")
	attached := waitVolumeCLI(t, cli, "data", "in-use")
	var vm obj
	cli.JSON(t, &vm, "server", "show", "vm")
	if list, _ := vm["volumes_attached"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != attached.str(t, "id") {
		t.Fatalf("volumes_attached %v, want the data volume", vm["volumes_attached"])
	}
	var rows []obj
	cli.JSON(t, &rows, "server", "volume", "list", "vm")
	if len(rows) != 1 || rows[0]["Device"] != "/dev/vdb" {
		t.Fatalf("server volume list %v, want the data volume on /dev/vdb", rows)
	}
	cli.Run(t, "server", "remove", "volume", "vm", "data")
	waitVolumeCLI(t, cli, "data", "available")

	var bfv obj
	cli.JSON(t, &bfv, "server", "create", "--image", "kumo-tiny", "--boot-from-volume", "1", "--flavor", "1", "--wait", "bfv")
	if bfv["status"] != "ACTIVE" {
		t.Fatalf("boot from volume: %v", bfv["status"])
	}
	cli.Run(t, "volume", "create", "--size", "1", "--image", "kumo-tiny", "--bootable", "boot")
	waitVolumeCLI(t, cli, "boot", "available")
	var fromVolume obj
	cli.JSON(t, &fromVolume, "server", "create", "--volume", "boot", "--flavor", "1", "--wait", "fromvol")
	if fromVolume["status"] != "ACTIVE" || fromVolume["image"] != "N/A (booted from volume)" {
		t.Fatalf("server from a volume: %v, image %v", fromVolume["status"], fromVolume["image"])
	}
	waitVolumeCLI(t, cli, "boot", "in-use")

	cli.Run(t, "server", "image", "create", "--name", "snap", "--wait", "fromvol")
	var img obj
	cli.JSON(t, &img, "image", "show", "snap")
	if img["status"] != "active" || img.property(t, "bdm_v2") != "True" || img.property(t, "block_device_mapping") == "" {
		t.Fatalf("volume-backed snapshot image %v", img)
	}
	var snaps []obj
	cli.JSON(t, &snaps, "volume", "snapshot", "list")
	if len(snaps) != 1 {
		t.Fatalf("volume snapshots %v, want the boot volume's", snaps)
	}
	var clone obj
	cli.JSON(t, &clone, "server", "create", "--image", "snap", "--flavor", "1", "--wait", "clone")
	if clone["status"] != "ACTIVE" {
		t.Fatalf("server from the snapshot image: %v", clone["status"])
	}

	cli.Run(t, "server", "delete", "--wait", "fromvol", "clone", "bfv")
	waitVolumeCLI(t, cli, "boot", "available")
}
