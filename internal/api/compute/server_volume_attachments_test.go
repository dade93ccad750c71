package compute_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// volumeCloud is a create cloud whose compute uses a fake volume service.
func newVolumeCloud(t *testing.T, database string) (*createCloud, *computetest.Volumes) {
	t.Helper()
	vols := computetest.NewVolumes()
	c, client := newCloud(t, database, computetest.Options{Volumes: vols})
	return &createCloud{Cloud: c, client: client}, vols
}

// waitVolumeStatus waits until the fake volume id has status.
func waitVolumeStatus(t *testing.T, vols *computetest.Volumes, id, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, _ := vols.Get(id); v.Status == status {
			return
		}
		if time.Now().After(deadline) {
			v, _ := vols.Get(id)
			t.Fatalf("volume %s is %q, want %q", id, v.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVolumeAttachments: os-volume_attachments as Nova answers it at
// each microversion (compared with its api_samples), the server views'
// volumes_attached, and Nova's errors.
func TestVolumeAttachments(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc, vols := newVolumeCloud(t, database)
		user := cc.client.As(userToken, "2.1")
		id := user.Do("POST", "/v2.1/servers", cc.body("2.1", nil)).Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ACTIVE")
		base := "/v2.1/servers/" + id + "/os-volume_attachments"
		const samples = "nova/api_samples/os-volume_attachments/"

		first := vols.Add("p1", "first", 1)
		r := user.Do("POST", base, map[string]any{"volumeAttachment": map[string]any{"volumeId": first, "device": "/dev/vdb"}})
		apisamples.Assert(t, samples+"attach-volume-to-server-resp.json", r.Expect(t, http.StatusOK).Body, apisamples.Options{})
		if got := r.JSON(t)["volumeAttachment"].(map[string]any); got["device"] != "/dev/vdb" || got["id"] != first {
			t.Errorf("attached %v", got)
		}
		waitVolumeStatus(t, vols, first, "in-use")
		cc.waitForStatus(t, id, "ACTIVE")

		second := vols.Add("p1", "second", 2)
		v279 := cc.client.As(userToken, "2.79")
		r = v279.Do("POST", base, map[string]any{"volumeAttachment": map[string]any{"volumeId": second, "tag": "foo",
			"delete_on_termination": true}})
		apisamples.Assert(t, samples+"v2.79/attach-volume-to-server-resp.json", r.Expect(t, http.StatusOK).Body, apisamples.Options{})
		waitVolumeStatus(t, vols, second, "in-use")

		for _, v := range []string{"2.1", "2.70", "2.79", "2.89"} {
			dir := samples + "v" + v + "/"
			if v == "2.1" {
				dir = samples
			}
			c := cc.client.As(userToken, v)
			list := c.Do("GET", base, nil).Expect(t, http.StatusOK)
			// The samples' first attachment is untagged, the second tagged.
			apisamples.Assert(t, dir+"list-volume-attachments-resp.json", list.Body, apisamples.Options{})
			show := c.Do("GET", base+"/"+second, nil).Expect(t, http.StatusOK)
			apisamples.Assert(t, dir+"volume-attachment-detail-resp.json", show.Body, apisamples.Options{})
		}
		r = cc.client.As(userToken, "2.101").Do("POST", base, map[string]any{"volumeAttachment": map[string]any{"volumeId": vols.Add("p1", "third", 1)}})
		r.Expect(t, http.StatusAccepted)
		if len(r.Body) != 0 {
			t.Errorf("2.101 attach answered %s, want no body", r.Body)
		}

		// volumes_attached in the server's view.
		srv := cc.client.As(userToken, "2.3").Do("GET", "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		attached := srv["os-extended-volumes:volumes_attached"].([]any)
		if len(attached) != 3 || attached[1].(map[string]any)["id"] != second || attached[1].(map[string]any)["delete_on_termination"] != true {
			t.Errorf("volumes_attached %v", attached)
		}
		srv = user.Do("GET", "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		if a := srv["os-extended-volumes:volumes_attached"].([]any); len(a) != 3 || len(a[0].(map[string]any)) != 1 {
			t.Errorf("2.1 volumes_attached %v, want ids only", a)
		}

		for _, tc := range []struct {
			name, version, method, path string
			body                        any
			status                      int
			msg                         string
		}{
			{"attach a missing volume", "2.1", "POST", base, map[string]any{"volumeAttachment": map[string]any{"volumeId": "7a3f1d2c-0000-4000-8000-000000000001"}},
				404, "Volume 7a3f1d2c-0000-4000-8000-000000000001 could not be found."},
			{"attach an attached volume", "2.1", "POST", base, map[string]any{"volumeAttachment": map[string]any{"volumeId": first}},
				400, "Invalid volume: volume " + first + " is already attached to instances: " + id},
			{"tag before 2.49", "2.48", "POST", base, map[string]any{"volumeAttachment": map[string]any{"volumeId": first, "tag": "x"}},
				400, "Invalid input for field/attribute volumeAttachment. Value: {'tag': 'x', 'volumeId': '" + first + "'}. Additional properties are not allowed ('tag' was unexpected)"},
			{"show a volume not attached", "2.1", "GET", base + "/7a3f1d2c-0000-4000-8000-000000000001", nil,
				404, "Instance " + id + " is not attached to volume 7a3f1d2c-0000-4000-8000-000000000001"},
			{"update device at 2.85", "2.85", "PUT", base + "/" + second, map[string]any{"volumeAttachment": map[string]any{"volumeId": second, "device": "/dev/vdq"}},
				400, "The device property is not mutable"},
			{"swap by a member", "2.1", "PUT", base + "/" + second, map[string]any{"volumeAttachment": map[string]any{"volumeId": first}},
				403, "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed."},
		} {
			r := cc.client.As(userToken, tc.version).Do(tc.method, tc.path, tc.body)
			r.Expect(t, tc.status)
			if msg := faultMessage(t, r); msg != tc.msg {
				t.Errorf("%s: %q, want %q", tc.name, msg, tc.msg)
			}
		}
		admin := cc.client.As(adminToken, "2.1")
		r = admin.Do("PUT", base+"/"+second, map[string]any{"volumeAttachment": map[string]any{"volumeId": first}})
		r.Expect(t, http.StatusConflict)
		if msg := faultMessage(t, r); msg != "volume "+second+" is not migrating; this API should only be called by Cinder" {
			t.Errorf("swap: %q", msg)
		}

		cc.client.As(userToken, "2.85").Do("PUT", base+"/"+first, map[string]any{"volumeAttachment": map[string]any{"volumeId": first,
			"delete_on_termination": true}}).Expect(t, http.StatusAccepted)
		shown := cc.client.As(userToken, "2.89").Do("GET", base+"/"+first, nil).Expect(t, http.StatusOK).JSON(t)["volumeAttachment"].(map[string]any)
		if shown["delete_on_termination"] != true || shown["attachment_id"] == "" || shown["bdm_uuid"] == "" {
			t.Errorf("after the update %v", shown)
		}

		user.Do("DELETE", base+"/"+second, nil).Expect(t, http.StatusAccepted)
		waitVolumeStatus(t, vols, second, "available")
		actions := user.Do("GET", "/v2.1/servers/"+id+"/os-instance-actions", nil).Expect(t, http.StatusOK).JSON(t)["instanceActions"].([]any)
		seen := map[string]bool{}
		for _, a := range actions {
			seen[a.(map[string]any)["action"].(string)] = true
		}
		if !seen["attach_volume"] || !seen["detach_volume"] {
			t.Errorf("instance actions %v, want attach_volume and detach_volume", actions)
		}
	})
}

// TestCreateWithVolumes: POST /servers with block_device_mapping_v2 as
// the openstack CLI sends --boot-from-volume and --volume, and the legacy
// block_device_mapping; a volume-backed server shows image "".
func TestCreateWithVolumes(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc, vols := newVolumeCloud(t, database)
		user := cc.client.As(userToken, "2.67")
		boot := vols.Add("p1", "boot", 1)
		vols.SetBootable(boot, cc.ImageID)
		legacy := vols.Add("p1", "legacy", 1)
		vols.SetBootable(legacy, cc.ImageID)
		for _, tc := range []struct {
			name   string
			server map[string]any
			volume string // the boot volume given, "" when one is made
		}{
			{"--boot-from-volume", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
				"uuid": cc.ImageID, "boot_index": 0, "source_type": "image", "destination_type": "volume", "volume_size": 1,
				"delete_on_termination": true, "volume_type": "__DEFAULT__"}}}, ""},
			{"--volume", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
				"uuid": boot, "boot_index": "0", "source_type": "volume", "destination_type": "volume"}}}, boot},
			{"legacy vda", map[string]any{"imageRef": nil, "block_device_mapping": []any{map[string]any{
				"volume_id": legacy, "device_name": "vda"}}}, legacy},
		} {
			body := cc.body("2.67", tc.server)
			r := user.Do("POST", "/v2.1/servers", body).Expect(t, http.StatusAccepted)
			id := r.JSON(t)["server"].(map[string]any)["id"].(string)
			cc.waitForStatus(t, id, "ACTIVE")
			srv := user.Do("GET", "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
			if srv["image"] != "" {
				t.Errorf("%s: image %v, want \"\"", tc.name, srv["image"])
			}
			attached := srv["os-extended-volumes:volumes_attached"].([]any)
			if len(attached) != 1 || tc.volume != "" && attached[0].(map[string]any)["id"] != tc.volume {
				t.Errorf("%s: volumes_attached %v", tc.name, attached)
			}
			list := user.Do("GET", "/v2.1/servers/"+id+"/os-volume_attachments", nil).Expect(t, http.StatusOK).JSON(t)["volumeAttachments"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["device"] != "/dev/vda" {
				t.Errorf("%s: attachments %v", tc.name, list)
			}
		}
		for _, tc := range []struct {
			name   string
			server map[string]any
			msg    string
		}{
			{"missing volume", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
				"uuid": "7a3f1d2c-0000-4000-8000-000000000001", "boot_index": 0, "source_type": "volume", "destination_type": "volume"}}},
				"Block Device Mapping is Invalid: failed to get volume 7a3f1d2c-0000-4000-8000-000000000001."},
			{"blank without uuid rule", map[string]any{"block_device_mapping_v2": []any{map[string]any{
				"uuid": cc.ImageID, "source_type": "blank", "destination_type": "volume", "volume_size": 1}}},
				"Block Device Mapping is Invalid: Invalid device UUID."},
			{"image to volume without size", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
				"uuid": cc.ImageID, "boot_index": 0, "source_type": "image", "destination_type": "volume"}}},
				"Images with destination_type 'volume' need to have a non-zero size specified"},
			{"missing boot snapshot", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
				"uuid": "7a3f1d2c-0000-4000-8000-000000000002", "boot_index": 0, "source_type": "snapshot", "destination_type": "volume"}}},
				"Snapshot 7a3f1d2c-0000-4000-8000-000000000002 could not be found."},
			{"missing snapshot", map[string]any{"block_device_mapping_v2": []any{map[string]any{
				"uuid": "7a3f1d2c-0000-4000-8000-000000000002", "boot_index": 1, "source_type": "snapshot", "destination_type": "volume"}}},
				"Block Device Mapping is Invalid: failed to get snapshot 7a3f1d2c-0000-4000-8000-000000000002."},
			{"unknown volume type", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
				"uuid": cc.ImageID, "boot_index": 0, "source_type": "image", "destination_type": "volume", "volume_size": 1,
				"volume_type": "no-such-type"}}},
				"Volume type no-such-type could not be found."},
		} {
			r := user.Do("POST", "/v2.1/servers", cc.body("2.67", tc.server)).Expect(t, http.StatusBadRequest)
			if msg := faultMessage(t, r); msg != tc.msg {
				t.Errorf("%s: %q, want %q", tc.name, msg, tc.msg)
			}
		}
	})
}

// TestVolumesBoot: /os-volumes_boot is the servers API under another
// name up to 2.102, as Nova routes it to a subclass of its servers
// controller: a server booted from a volume there is listed, shown,
// renamed, stopped and deleted there, and the alias is gone from 2.103.
func TestVolumesBoot(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc, vols := newVolumeCloud(t, database)
		user := cc.client.As(userToken, "2.102")
		boot := vols.Add("p1", "boot", 1)
		vols.SetBootable(boot, cc.ImageID)
		body := cc.body("2.102", map[string]any{"imageRef": "", "block_device_mapping_v2": []any{map[string]any{
			"uuid": boot, "boot_index": 0, "source_type": "volume", "destination_type": "volume"}}})
		r := user.Do("POST", "/v2.1/os-volumes_boot", body).Expect(t, http.StatusAccepted)
		id := r.JSON(t)["server"].(map[string]any)["id"].(string)
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/servers/"+id) {
			t.Errorf("Location %q, want the server's /servers link", loc)
		}
		cc.waitForStatus(t, id, "ACTIVE")
		waitVolumeStatus(t, vols, boot, "in-use")

		base := "/v2.1/os-volumes_boot/"
		srv := user.Do("GET", base+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		attached := srv["os-extended-volumes:volumes_attached"].([]any)
		if srv["image"] != "" || len(attached) != 1 || attached[0].(map[string]any)["id"] != boot {
			t.Errorf("shown: image %v, volumes_attached %v", srv["image"], attached)
		}
		for _, path := range []string{"/v2.1/os-volumes_boot", "/v2.1/os-volumes_boot/detail"} {
			list := user.Do("GET", path, nil).Expect(t, http.StatusOK).JSON(t)["servers"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["id"] != id {
				t.Errorf("%s: %v", path, list)
			}
		}
		renamed := user.Do("PUT", base+id, map[string]any{"server": map[string]any{"name": "renamed"}}).Expect(t, http.StatusOK)
		if name := renamed.JSON(t)["server"].(map[string]any)["name"]; name != "renamed" {
			t.Errorf("renamed to %v", name)
		}
		user.Do("POST", base+id+"/action", map[string]any{"os-stop": nil}).Expect(t, http.StatusAccepted)
		cc.waitForStatus(t, id, "SHUTOFF")
		// Only the servers controller's own actions are routed here.
		r = user.Do("POST", base+id+"/action", map[string]any{"lock": nil}).Expect(t, http.StatusBadRequest)
		if msg := faultMessage(t, r); msg != "There is no such action: lock" {
			t.Errorf("lock: %q", msg)
		}
		cc.client.As(userToken, "2.103").Do("GET", base+id, nil).Expect(t, http.StatusNotFound)
		user.Do("DELETE", base+id, nil).Expect(t, http.StatusNoContent)
	})
}

// TestVolumeProxies: os-volumes and os-snapshots answer from kumo's
// volume service as Nova's proxies do (compared with Nova's samples) up
// to 2.35, and 404 from 2.36; the volume is attached through
// os-volume_attachments over the same service.
func TestVolumeProxies(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, client := newCloud(t, database, computetest.Options{})
		cc := &createCloud{Cloud: c, client: client}
		user := cc.client.As(userToken, "2.35")
		server := user.Do("POST", "/v2.1/servers", cc.body("2.35", nil)).Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, server, "ACTIVE")
		const samples = "nova/api_samples/"
		r := user.Do("POST", "/v2.1/os-volumes", map[string]any{"volume": map[string]any{"size": 1, "display_name": "Volume Name",
			"display_description": "Volume Description", "availability_zone": "nova"}}).Expect(t, http.StatusOK)
		apisamples.Assert(t, samples+"os-volumes/os-volumes-post-resp.json", r.Body, apisamples.Options{Optional: []string{
			"volume.attachments[].device", "volume.attachments[].id", "volume.attachments[].serverId", "volume.attachments[].volumeId"}})
		id := r.JSON(t)["volume"].(map[string]any)["id"].(string)
		waitProxy := func(status string) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				v := user.Do("GET", "/v2.1/os-volumes/"+id, nil).Expect(t, http.StatusOK).JSON(t)["volume"].(map[string]any)
				if v["status"] == status {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("volume %v, want %s", v, status)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitProxy("available")
		user.Do("POST", "/v2.1/servers/"+server+"/os-volume_attachments", map[string]any{"volumeAttachment": map[string]any{"volumeId": id}}).
			Expect(t, http.StatusOK)
		waitProxy("in-use")
		apisamples.Assert(t, samples+"os-volumes/os-volumes-get-resp.json",
			user.Do("GET", "/v2.1/os-volumes/"+id, nil).Expect(t, http.StatusOK).Body, apisamples.Options{})
		for path, sample := range map[string]string{"/v2.1/os-volumes": "os-volumes-index-resp.json", "/v2.1/os-volumes/detail": "os-volumes-detail-resp.json"} {
			apisamples.Assert(t, samples+"os-volumes/"+sample, user.Do("GET", path, nil).Expect(t, http.StatusOK).Body, apisamples.Options{})
		}
		r = user.Do("POST", "/v2.1/os-snapshots", map[string]any{"snapshot": map[string]any{"display_name": "snap-001",
			"display_description": "Daily backup", "volume_id": id, "force": true}}).Expect(t, http.StatusOK)
		apisamples.Assert(t, samples+"os-snapshots/snapshot-create-resp.json", r.Body, apisamples.Options{})
		snap := r.JSON(t)["snapshot"].(map[string]any)["id"].(string)
		apisamples.Assert(t, samples+"os-snapshots/snapshots-show-resp.json",
			user.Do("GET", "/v2.1/os-snapshots/"+snap, nil).Expect(t, http.StatusOK).Body, apisamples.Options{})
		apisamples.Assert(t, samples+"os-snapshots/snapshots-list-resp.json",
			user.Do("GET", "/v2.1/os-snapshots", nil).Expect(t, http.StatusOK).Body, apisamples.Options{})

		r = user.Do("GET", "/v2.1/os-volumes/7a3f1d2c-0000-4000-8000-000000000001", nil).Expect(t, http.StatusNotFound)
		if msg := faultMessage(t, r); msg != "Volume 7a3f1d2c-0000-4000-8000-000000000001 could not be found." {
			t.Errorf("missing volume: %q", msg)
		}
		cc.client.As(userToken, "2.36").Do("GET", "/v2.1/os-volumes", nil).Expect(t, http.StatusNotFound)
		cc.client.As(userToken, "2.36").Do("GET", "/v2.1/os-snapshots", nil).Expect(t, http.StatusNotFound)
	})
}
