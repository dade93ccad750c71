package compute_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/image"
)

// sampleText is a request sample as a JSON string.
func sampleText(t *testing.T, rel string) string {
	t.Helper()
	return string(sampleBody(t, "nova/api_samples/"+rel))
}

// TestCreateImageAndBackupAPI sends Nova's createImage and createBackup
// samples at 2.1 (202, Location, no body) and 2.45 (202 with image_id),
// and checks the schema, metadata quota and policy refusals.
func TestCreateImageAndBackupAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "imaged", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/action"
		idle := func() {
			t.Helper()
			sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == "" })
		}
		user := sc.api.As("u1:p1", "2.1")

		r := user.Do("POST", path, sampleText(t, "servers/server-action-create-image.json")).Expect(t, http.StatusAccepted)
		loc := r.Header.Get("Location")
		if len(r.Body) != 0 || !strings.Contains(loc, "/image/images/") {
			t.Fatalf("2.1 createImage: Location %q body %q", loc, r.Body)
		}
		imageID := loc[strings.LastIndex(loc, "/")+1:]
		idle()
		img := sc.api.As("u1:p1", "2.1").Do("GET", "/v2.1/images/"+imageID, nil).Expect(t, http.StatusOK).JSON(t)["image"].(map[string]any)
		meta := img["metadata"].(map[string]any)
		if img["name"] != "foo-image" || img["status"] != "ACTIVE" || meta["meta_var"] != "meta_val" || meta["image_type"] != "snapshot" {
			t.Fatalf("snapshot image %v", img)
		}

		r = sc.api.As("u1:p1", "2.45").Do("POST", path, sampleText(t, "servers/v2.45/server-action-create-image.json")).Expect(t, http.StatusAccepted)
		apisamples.Assert(t, "nova/api_samples/servers/v2.45/server-action-create-image-resp.json", r.Body, apisamples.Options{})
		if r.Header.Get("Location") != "" {
			t.Fatalf("2.45 createImage has a Location header")
		}
		idle()

		r = user.Do("POST", path, sampleText(t, "os-create-backup/create-backup-req.json")).Expect(t, http.StatusAccepted)
		if loc := r.Header.Get("Location"); !strings.Contains(loc, "/v2.1/images/") {
			t.Fatalf("2.1 createBackup Location %q", loc)
		}
		idle()
		r = user.Do("POST", path, `{"createBackup": {"name": "b0", "backup_type": "daily", "rotation": "0"}}`).Expect(t, http.StatusAccepted)
		if loc := r.Header.Get("Location"); loc != "" {
			t.Fatalf("createBackup with rotation 0 has Location %q", loc)
		}
		idle()
		r = sc.api.As("u1:p1", "2.45").Do("POST", path, sampleText(t, "os-create-backup/v2.45/create-backup-req.json")).Expect(t, http.StatusAccepted)
		apisamples.Assert(t, "nova/api_samples/os-create-backup/v2.45/create-backup-resp.json", r.Body, apisamples.Options{})
		idle()

		tooMany := map[string]string{}
		for i := 0; i < 129; i++ {
			tooMany[fmt.Sprintf("k%d", i)] = "v"
		}
		manyJSON, _ := json.Marshal(tooMany)
		refusals := []struct {
			name, token, version, body string
			status                     int
			fault                      string
		}{
			{"image without name", "u1:p1", "2.1", `{"createImage": {}}`, 400,
				"Invalid input for field/attribute createImage. Value: {}. 'name' is a required property"},
			{"image extra key", "u1:p1", "2.1", `{"createImage": {"name": "x", "foo": 1}}`, 400,
				"Invalid input for field/attribute createImage. Value: {'name': 'x', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
			{"backup negative rotation", "u1:p1", "2.1", `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}`, 400, ""},
			{"backup without type", "u1:p1", "2.1", `{"createBackup": {"name": "b", "rotation": 1}}`, 400,
				"Invalid input for field/attribute createBackup. Value: {'name': 'b', 'rotation': 1}. 'backup_type' is a required property"},
			{"image metadata over quota", "u1:p1", "2.1", `{"createImage": {"name": "x", "metadata": ` + string(manyJSON) + `}}`, 403,
				"Image metadata limit exceeded"},
			{"backup by a reader", "reader:p1", "2.1", `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}`, 403,
				"Policy doesn't allow os_compute_api:os-create-backup to be performed."},
			{"image of another project", "u2:p2", "2.1", `{"createImage": {"name": "x"}}`, 404,
				"Instance " + srv.ID + " could not be found."},
		}
		for _, tc := range refusals {
			r := sc.api.As(tc.token, tc.version).Do("POST", path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			}
			if tc.fault != "" {
				if got := faultMessage(t, r); got != tc.fault {
					t.Errorf("%s: message %q, want %q", tc.name, got, tc.fault)
				}
			}
		}
	})
}

// TestShelveAPI shelves (offloaded at once: shelved_offload_time 0),
// checks the offloaded server's view, Nova's unshelve validation at 2.77
// and 2.91 with its samples, then unshelves.
func TestShelveAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "shelved", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/action"
		idle := func() *compute.Server {
			t.Helper()
			return sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == "" })
		}
		r := sc.api.As("u1:p1", "2.1").Do("POST", path, sampleText(t, "os-shelve/os-shelve-offload.json"))
		if r.Status != http.StatusForbidden || faultMessage(t, r) != "Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed." {
			t.Fatalf("member shelveOffload: %d %s", r.Status, r.Body)
		}
		r = sc.api.As("u1:p1", "2.1").Do("POST", path, sampleText(t, "os-shelve/os-unshelve.json"))
		if r.Status != http.StatusConflict || faultMessage(t, r) != fmt.Sprintf("Cannot 'unshelve' instance %s while it is in vm_state active", srv.ID) {
			t.Fatalf("unshelve of an active server: %d %s", r.Status, r.Body)
		}
		sc.api.As("u1:p1", "2.77").Do("POST", path, sampleText(t, "os-shelve/v2.77/os-shelve.json")).Expect(t, http.StatusAccepted)
		if s := idle(); s.Status() != "SHELVED_OFFLOADED" {
			t.Fatalf("after shelve: %s", s.Status())
		}
		view := sc.api.As("admin:admin", "2.91").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		if view["status"] != "SHELVED_OFFLOADED" || view["OS-EXT-SRV-ATTR:host"] != nil ||
			view["OS-EXT-SRV-ATTR:hypervisor_hostname"] != nil || view["OS-EXT-AZ:availability_zone"] != "" {
			t.Fatalf("offloaded server view: status %v host %v node %v az %v", view["status"], view["OS-EXT-SRV-ATTR:host"],
				view["OS-EXT-SRV-ATTR:hypervisor_hostname"], view["OS-EXT-AZ:availability_zone"])
		}
		steps := []struct {
			name, token, version, body string
			status                     int
			fault                      string
		}{
			{"2.77 empty object", "u1:p1", "2.77", `{"unshelve": {}}`, 400,
				"Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property"},
			{"2.77 host not yet", "admin:admin", "2.77", `{"unshelve": {"availability_zone": "nova", "host": "h"}}`, 400, ""},
			{"2.77 unknown zone", "u1:p1", "2.77", sampleText(t, "os-shelve/v2.77/os-unshelve-az.json"), 400,
				"The requested availability zone is not available"},
			{"2.91 host as member", "u1:p1", "2.91", sampleText(t, "os-shelve/v2.91/os-unshelve-host.json"), 403,
				"Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed."},
			{"2.91 unknown host", "admin:admin", "2.91", sampleText(t, "os-shelve/v2.91/os-unshelve-host-and-unpin-az.json"), 400,
				"Compute host host01 could not be found."},
			{"2.91 extra key", "u1:p1", "2.91", `{"unshelve": {"foo": "bar"}}`, 400, ""},
			{"2.91 unknown zone", "u1:p1", "2.91", sampleText(t, "os-shelve/v2.91/os-unshelve-az.json"), 400,
				"The requested availability zone is not available"},
			{"2.91 zone and unknown host", "admin:admin", "2.91", sampleText(t, "os-shelve/v2.91/os-unshelve-az-host.json"), 400,
				"Compute host host01 could not be found."},
			{"2.91 shelve again", "u1:p1", "2.91", sampleText(t, "os-shelve/v2.91/os-shelve.json"), 409,
				fmt.Sprintf("Cannot 'shelve' instance %s while it is in vm_state shelved_offloaded", srv.ID)},
			{"2.91 unpin", "u1:p1", "2.91", sampleText(t, "os-shelve/v2.91/os-unshelve-unpin-az.json"), 202, ""},
		}
		for _, st := range steps {
			r := sc.api.As(st.token, st.version).Do("POST", path, st.body)
			if r.Status != st.status {
				t.Fatalf("%s: status %d, want %d: %s", st.name, r.Status, st.status, r.Body)
			}
			if st.fault != "" {
				if got := faultMessage(t, r); got != st.fault {
					t.Errorf("%s: message %q, want %q", st.name, got, st.fault)
				}
			}
		}
		if s := idle(); s.Status() != "ACTIVE" || s.Host == "" {
			t.Fatalf("after unshelve: %s host %q", s.Status(), s.Host)
		}
		actions := sc.api.As("u1:p1", "2.1").Do("GET", "/v2.1/servers/"+srv.ID+"/os-instance-actions", nil).Expect(t, http.StatusOK).JSON(t)
		names := []string{}
		for _, a := range actions["instanceActions"].([]any) {
			names = append(names, a.(map[string]any)["action"].(string))
		}
		if got := strings.Join(names, ","); got != "unshelve,shelve,create" {
			t.Fatalf("instance actions %s", got)
		}
	})
}

// TestShelveSamplesEachVersion sends the shelve, shelveOffload and
// unshelve request samples of every sample folder (2.1, 2.77, 2.91) and
// follows the server through SHELVED, SHELVED_OFFLOADED and ACTIVE.
func TestShelveSamplesEachVersion(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		// kept on the host until shelveOffload
		sc := newServersCloudWith(t, database, computetest.Options{Settings: compute.Settings{ShelvedOffloadTime: -1}})
		srv := sc.boot(t, sc.user, "sampled", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/action"
		settle := func(status string) {
			t.Helper()
			sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == "" && s.Status() == status })
		}
		for _, v := range []struct{ version, dir string }{{"2.1", "os-shelve/"}, {"2.77", "os-shelve/v2.77/"}, {"2.91", "os-shelve/v2.91/"}} {
			sc.api.As("u1:p1", v.version).Do("POST", path, sampleText(t, v.dir+"os-shelve.json")).Expect(t, http.StatusAccepted)
			settle("SHELVED")
			sc.api.As("admin:admin", v.version).Do("POST", path, sampleText(t, "os-shelve/os-shelve-offload.json")).Expect(t, http.StatusAccepted)
			settle("SHELVED_OFFLOADED")
			sc.api.As("u1:p1", v.version).Do("POST", path, sampleText(t, v.dir+"os-unshelve.json")).Expect(t, http.StatusAccepted)
			settle("ACTIVE")
		}
		sc.api.As("u1:p1", "2.1").Do("POST", path, sampleText(t, "os-shelve/os-shelve.json")).Expect(t, http.StatusAccepted)
		settle("SHELVED")
		sc.api.As("u1:p1", "2.77").Do("POST", path, sampleText(t, "os-shelve/v2.77/os-unshelve.json")).Expect(t, http.StatusAccepted)
		settle("ACTIVE")
	})
}

// TestSnapshotsOverImageQuota: a createImage, createBackup or shelve
// whose image the image service refuses for the project's image quota
// is Nova's 413 overLimit with webob's text, and the server is left as
// it was.
func TestSnapshotsOverImageQuota(t *testing.T) {
	t.Parallel()
	sc := newServersCloud(t, "")
	ctx, ids := context.Background(), sc.App.Identity
	full, err := ids.CreateProject(ctx, identity.Project{Name: "full", DomainID: "default", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.CreateLimits(ctx, []identity.Limit{{ProjectID: full.ID, ServiceID: identity.ServiceID("image"),
		ResourceName: image.QuotaImageCountTotal, ResourceLimit: 0}}); err != nil {
		t.Fatal(err)
	}
	owner := &auth.Principal{UserID: "u1", ProjectID: full.ID, Roles: []string{"member"}}
	srv := sc.boot(t, owner, "full", true, nil)
	path := "/v2.1/servers/" + srv.ID + "/action"
	for _, body := range []string{
		`{"createImage": {"name": "snap"}}`,
		`{"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}`,
		`{"shelve": null}`,
	} {
		r := sc.api.As("u1:"+full.ID, "2.1").Do("POST", path, body)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: status %d: %s", body, r.Status, r.Body)
		}
		var fault map[string]struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(r.Body, &fault); err != nil || fault["overLimit"].Code != 413 ||
			fault["overLimit"].Message != "The body of your request was too large for this server." {
			t.Fatalf("%s: fault %s", body, r.Body)
		}
	}
	if s := sc.WaitFor(t, srv.ID, func(*compute.Server) bool { return true }); s.Status() != "ACTIVE" || s.TaskState != "" {
		t.Fatalf("server after the refusals: %s task %q", s.Status(), s.TaskState)
	}
	// The admin project's quota is its own.
	sc.api.As("admin:admin", "2.1").Do("POST", path, `{"createImage": {"name": "by-admin"}}`).Expect(t, http.StatusAccepted)
}
