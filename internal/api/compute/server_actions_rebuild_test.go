package compute_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/keypair"
)

// sampleRebuildImage is the image Nova's rebuild samples name.
const sampleRebuildImage = "70a599e0-31e7-49b7-b260-868f441e862b"

// rebuildAPICloud is the servers cloud, with helpers for rebuilds.
type rebuildAPICloud struct{ *serversCloud }

func newRebuildAPICloud(t *testing.T, database string) *rebuildAPICloud {
	t.Helper()
	return &rebuildAPICloud{newServersCloud(t, database)}
}

// image registers an active public image with the given id.
func (rc *rebuildAPICloud) image(t *testing.T, id, name string) {
	t.Helper()
	admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
	raw, bare := "raw", "bare"
	if _, err := rc.Images.CreateFromReader(context.Background(), admin, image.CreateRequest{ID: id, Name: &name,
		Visibility: image.Public, DiskFormat: &raw, ContainerFormat: &bare}, strings.NewReader("disk")); err != nil {
		t.Fatalf("image %s: %v", id, err)
	}
}

// key imports a key pair named name for user.
func (rc *rebuildAPICloud) key(t *testing.T, user, name string) {
	t.Helper()
	pub := sampleSSHKey
	if _, _, err := rc.App.Keypairs.Create(context.Background(), keypair.CreateInput{UserID: user, ProjectID: "p1", Name: name, PublicKey: &pub}); err != nil {
		t.Fatalf("key %s: %v", name, err)
	}
}

// server boots an active server for p.
func (rc *rebuildAPICloud) server(t *testing.T, p *auth.Principal, name string) *compute.Server {
	t.Helper()
	srv := rc.CreateServer(t, p, name, func(r *compute.CreateRequest) {
		r.Networks = compute.NetworkRequest{Mode: "auto"}
		r.Metadata = map[string]string{"My Server Name": "Apache1"}
		r.DiskConfig, r.AccessIPv4, r.AccessIPv6 = "AUTO", "1.2.3.4", "80fe::"
	}).Servers[0]
	return rc.WaitFor(t, srv.ID, computetest.Active)
}

// settled waits for the server's rebuild to end.
func (rc *rebuildAPICloud) settled(t *testing.T, id string) *compute.Server {
	t.Helper()
	return rc.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
}

// loadSample reads a request sample as a generic JSON object.
func loadSample(t *testing.T, rel string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apisamples.Root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRebuildSamples posts every rebuild request sample at its
// microversion and compares the answer with the response sample.
func TestRebuildSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRebuildAPICloud(t, database)
		rc.image(t, sampleRebuildImage, "sample")
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		rc.key(t, "admin", "new-key")
		rc.key(t, "u1", "new-key")
		mine := map[string]*compute.Server{adminToken: rc.server(t, admin, "new-server-test"), userToken: rc.server(t, rc.user, "new-server-test")}
		folders := []struct{ dir, version, req, resp string }{
			{"servers/", "2.1", "", ""},
			{"os-preserve-ephemeral-rebuild/", "2.1", "server-action-rebuild-preserve-ephemeral.json", "server-action-rebuild-preserve-ephemeral-resp.json"},
		}
		for _, v := range []string{"2.19", "2.26", "2.47", "2.54", "2.57", "2.63", "2.71", "2.73", "2.75", "2.90", "2.94", "2.96", "2.98", "2.100"} {
			folders = append(folders, struct{ dir, version, req, resp string }{"servers/v" + v + "/", v, "", ""})
		}
		for _, f := range folders {
			t.Run(f.dir, func(t *testing.T) {
				if f.req == "" {
					f.req, f.resp = "server-action-rebuild.json", "server-action-rebuild-resp.json"
				}
				base := "nova/api_samples/" + f.dir
				// Nova's samples are made as admin up to 2.75, as a project member after.
				token := adminToken
				if v := f.version; v == "2.90" || v == "2.94" || v == "2.96" || v == "2.98" || v == "2.100" {
					token = userToken
				}
				srv := mine[token]
				r := rc.api.As(token, f.version).Do("POST", "/v2.1/servers/"+srv.ID+"/action", loadSample(t, base+f.req)).Expect(t, http.StatusAccepted)
				assertServerSample(t, base+f.resp, r.Body, serverSampleOptions)
				if got, want := r.Header.Get("Location"), "/v2.1/servers/"+srv.ID; !strings.HasSuffix(got, want) {
					t.Errorf("Location %q, want ...%s", got, want)
				}
				done := rc.settled(t, srv.ID)
				if done.ImageRef != sampleRebuildImage || done.Name != "foobar" || done.Status() != "ACTIVE" {
					t.Errorf("after the %s sample: image %s name %q status %s", f.dir, done.ImageRef, done.Name, done.Status())
				}
			})
		}
	})
}

// TestRebuildValidation checks the rebuild schema of each microversion:
// Nova's 400 messages for wrong types, unknown keys and fields the
// version does not have yet (or any more).
func TestRebuildValidation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRebuildAPICloud(t, database)
		srv := rc.server(t, rc.user, "strict")
		img := rc.ImageID
		// unexpected is Nova's message for an extra key beside imageRef.
		unexpected := func(key, repr string) string {
			return fmt.Sprintf("Invalid input for field/attribute rebuild. Value: {'imageRef': '%s', '%s': %s}. "+
				"Additional properties are not allowed ('%s' was unexpected)", img, key, repr, key)
		}
		url := "http://openstack.example.com/v2/32278/images/" + img
		cases := []struct {
			name, version, body, msg string
		}{
			{"null", "2.1", `{"rebuild": null}`, "Invalid input for field/attribute rebuild. Value: None. None is not of type 'object'"},
			{"no image", "2.1", `{"rebuild": {}}`, "Invalid input for field/attribute rebuild. Value: {}. 'imageRef' is a required property"},
			{"image not a uuid", "2.1", `{"rebuild": {"imageRef": "kumo-tiny"}}`,
				"Invalid input for field/attribute imageRef. Value: kumo-tiny. 'kumo-tiny' is not a 'uuid'"},
			{"image as a URL", "2.1", `{"rebuild": {"imageRef": "` + url + `"}}`,
				"Invalid input for field/attribute imageRef. Value: " + url + ". '" + url + "' is not a 'uuid'"},
			{"unknown key", "2.1", `{"rebuild": {"imageRef": "` + img + `", "flavorRef": "1"}}`,
				unexpected("flavorRef", "'1'")},
			{"unknown root key", "2.1", `{"rebuild": {"imageRef": "` + img + `"}, "resize": {}}`,
				"Malformed request body"},
			{"name blank", "2.1", `{"rebuild": {"imageRef": "` + img + `", "name": " x"}}`,
				"An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
			{"admin pass number", "2.1", `{"rebuild": {"imageRef": "` + img + `", "adminPass": 5}}`,
				"Invalid input for field/attribute adminPass. Value: 5. 5 is not of type 'string'"},
			{"preserve_ephemeral not boolean", "2.1", `{"rebuild": {"imageRef": "` + img + `", "preserve_ephemeral": "maybe"}}`,
				"Invalid input for field/attribute preserve_ephemeral. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
			{"disk config", "2.1", `{"rebuild": {"imageRef": "` + img + `", "OS-DCF:diskConfig": "auto"}}`,
				"Invalid input for field/attribute OS-DCF:diskConfig. Value: auto. 'auto' is not one of ['AUTO', 'MANUAL']"},
			{"access ip", "2.1", `{"rebuild": {"imageRef": "` + img + `", "accessIPv4": "1.2.3"}}`,
				"Invalid input for field/attribute accessIPv4. Value: 1.2.3. '1.2.3' is not a 'ipv4'"},
			{"metadata value", "2.1", `{"rebuild": {"imageRef": "` + img + `", "metadata": {"a": 1}}}`,
				"Invalid input for field/attribute a. Value: 1. 1 is not of type 'string'"},
			{"personality contents", "2.56", `{"rebuild": {"imageRef": "` + img + `", "personality": [{"path": "/a", "contents": "a"}]}}`,
				"Invalid input for field/attribute contents. Value: a. 'a' is not a 'base64'"},
			{"description before 2.19", "2.18", `{"rebuild": {"imageRef": "` + img + `", "description": "d"}}`,
				unexpected("description", "'d'")},
			{"key_name before 2.54", "2.53", `{"rebuild": {"imageRef": "` + img + `", "key_name": "k"}}`,
				unexpected("key_name", "'k'")},
			{"key_name empty", "2.54", `{"rebuild": {"imageRef": "` + img + `", "key_name": ""}}`,
				"Invalid input for field/attribute key_name. Value: . '' is not valid under any of the given schemas"},
			{"user_data before 2.57", "2.56", `{"rebuild": {"imageRef": "` + img + `", "user_data": "aGk="}}`,
				unexpected("user_data", "'aGk='")},
			{"personality from 2.57", "2.57", `{"rebuild": {"imageRef": "` + img + `", "personality": []}}`,
				unexpected("personality", "[]")},
			{"user_data not base64", "2.57", `{"rebuild": {"imageRef": "` + img + `", "user_data": "a"}}`,
				"Invalid input for field/attribute user_data. Value: a. 'a' is not a 'base64'"},
			{"trusted certs before 2.63", "2.62", `{"rebuild": {"imageRef": "` + img + `", "trusted_image_certificates": ["c"]}}`,
				unexpected("trusted_image_certificates", "['c']")},
			{"trusted certs empty", "2.63", `{"rebuild": {"imageRef": "` + img + `", "trusted_image_certificates": []}}`,
				"Invalid input for field/attribute trusted_image_certificates. Value: []. [] should be non-empty"},
			{"hostname before 2.90", "2.89", `{"rebuild": {"imageRef": "` + img + `", "hostname": "h1"}}`,
				unexpected("hostname", "'h1'")},
			{"hostname with a dot at 2.90", "2.90", `{"rebuild": {"imageRef": "` + img + `", "hostname": "a.b"}}`,
				"Invalid input for field/attribute hostname. Value: a.b. 'a.b' does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'"},
			{"hostname not an fqdn at 2.94", "2.94", `{"rebuild": {"imageRef": "` + img + `", "hostname": "a b"}}`,
				"Invalid input for field/attribute hostname. Value: a b. 'a b' does not match '^[a-zA-Z0-9-._]*$'"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := rc.api.As(userToken, tc.version).Do("POST", "/v2.1/servers/"+srv.ID+"/action", tc.body)
				if r.Status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
				}
				if got := faultMessage(t, r); got != tc.msg {
					t.Fatalf("message\n %q\nwant\n %q", got, tc.msg)
				}
			})
		}
		if s := rc.settled(t, srv.ID); s.ImageRef != img || s.Name != "strict" {
			t.Fatalf("refused rebuilds changed the server: %+v", s)
		}
	})
}

// TestRebuildAPI checks the refusals that come after the schema, the
// answer at several microversions and what each field changes.
func TestRebuildAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRebuildAPICloud(t, database)
		other := "2f4b5a8e-9a9e-4f5b-8d5e-6c1e0b7c9a10"
		rc.image(t, other, "other")
		rc.key(t, "u1", "mine")
		srv := rc.server(t, rc.user, "subject")
		path := "/v2.1/servers/" + srv.ID + "/action"
		rebuild := func(version string, fields map[string]any) *apitest.Response {
			body := map[string]any{"imageRef": other}
			for k, v := range fields {
				body[k] = v
			}
			return rc.api.As(userToken, version).Do("POST", path, map[string]any{"rebuild": body})
		}
		tooMany := map[string]any{}
		for i := 0; i <= 128; i++ {
			tooMany[fmt.Sprintf("k%d", i)] = "v"
		}
		refusals := []struct {
			name    string
			version string
			fields  map[string]any
			status  int
			msg     string
		}{
			{"missing image", "2.1", map[string]any{"imageRef": "5d0a4a46-a4c2-4c70-8b2b-49d1b2e8c2b1"}, 400, "Cannot find image for rebuild"},
			{"unknown key pair", "2.54", map[string]any{"key_name": "theirs"}, 400, "Invalid key_name provided."},
			{"metadata over quota", "2.1", map[string]any{"metadata": tooMany}, 403, "Maximum number of metadata items exceeds 128"},
		}
		for _, tc := range refusals {
			r := rebuild(tc.version, tc.fields)
			if r.Status != tc.status || faultMessage(t, r) != tc.msg {
				t.Fatalf("%s: %d %s, want %d %q", tc.name, r.Status, r.Body, tc.status, tc.msg)
			}
		}
		if r := rc.api.As("u2:p2", "2.1").Do("POST", path, map[string]any{"rebuild": map[string]any{"imageRef": other}}); r.Status != 404 {
			t.Fatalf("another project's rebuild: %d, want 404", r.Status)
		}
		if r := rc.api.As("reader:p1", "2.1").Do("POST", path, map[string]any{"rebuild": map[string]any{"imageRef": other}}); r.Status != 403 {
			t.Fatalf("a reader's rebuild: %d, want 403", r.Status)
		}

		// 2.1: the trimmed view, a generated password, no key_name or user_data.
		r := rebuild("2.1", map[string]any{"name": "renamed", "metadata": map[string]any{"only": "this"}}).Expect(t, 202)
		s := r.JSON(t)["server"].(map[string]any)
		if pass, _ := s["adminPass"].(string); len(pass) != 12 {
			t.Fatalf("generated adminPass %q", s["adminPass"])
		}
		if s["status"] != "REBUILD" || s["name"] != "renamed" || s["image"].(map[string]any)["id"] != other {
			t.Fatalf("2.1 answer %v", s)
		}
		for _, k := range []string{"key_name", "user_data", "OS-EXT-STS:vm_state", "locked"} {
			if _, has := s[k]; has {
				t.Fatalf("2.1 answer shows %s", k)
			}
		}
		done := rc.settled(t, srv.ID)
		if len(done.Metadata) != 1 || done.Metadata["only"] != "this" || done.Status() != "ACTIVE" {
			t.Fatalf("rebuilt server %s metadata %v", done.Status(), done.Metadata)
		}

		// 2.57: key and user data set, shown in the answer.
		r = rebuild("2.57", map[string]any{"key_name": "mine", "user_data": "aGVsbG8=", "description": nil}).Expect(t, 202)
		s = r.JSON(t)["server"].(map[string]any)
		if s["key_name"] != "mine" || s["user_data"] != "aGVsbG8=" || s["description"] != nil {
			t.Fatalf("2.57 answer key %v user_data %v description %v", s["key_name"], s["user_data"], s["description"])
		}
		if _, has := s["OS-EXT-SRV-ATTR:user_data"]; has {
			t.Fatal("2.57 answer shows OS-EXT-SRV-ATTR:user_data")
		}
		rc.settled(t, srv.ID)

		// 2.90: null removes the key and the user data; the hostname changes.
		r = rebuild("2.90", map[string]any{"key_name": nil, "user_data": nil, "hostname": "new-host"}).Expect(t, 202)
		s = r.JSON(t)["server"].(map[string]any)
		if s["key_name"] != nil || s["user_data"] != nil || s["OS-EXT-SRV-ATTR:hostname"] != "new-host" || s["OS-EXT-STS:task_state"] != "rebuilding" {
			t.Fatalf("2.90 answer %v", s)
		}
		done = rc.settled(t, srv.ID)
		if done.KeyName != "" || done.UserData != "" || done.Hostname != "new-host" {
			t.Fatalf("after 2.90: key %q user data %q hostname %q", done.KeyName, done.UserData, done.Hostname)
		}

		// Locked by an admin: 409 for the owner.
		rc.api.As(adminToken, "2.1").Do("POST", path, `{"lock": null}`).Expect(t, 202)
		r = rebuild("2.1", nil)
		if r.Status != 409 || faultMessage(t, r) != "Instance "+srv.ID+" is locked" {
			t.Fatalf("locked: %d %s", r.Status, r.Body)
		}
		rc.api.As(adminToken, "2.1").Do("POST", path, `{"unlock": null}`).Expect(t, 202)
		rc.api.As(userToken, "2.1").Do("POST", path, `{"pause": null}`).Expect(t, 202)
		rc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "PAUSED" && s.TaskState == "" })
		r = rebuild("2.1", nil)
		if want := fmt.Sprintf("Cannot 'rebuild' instance %s while it is in vm_state paused", srv.ID); r.Status != 409 || faultMessage(t, r) != want {
			t.Fatalf("paused: %d %s", r.Status, r.Body)
		}
	})
}

// The vendor examples in shared/seeds, posted as their documents write
// them.
const (
	conohaImage   = "fcf90f5a-1fcb-4ec0-8114-39aafd4e9e4b"
	conohaCurl    = "fb1d084f-357f-40e2-a2c3-59b8ecc1f6f2"
	rackspaceImg  = "70a599e0-31e7-49b7-b260-868f441e862b"
	huaweiImage   = "3ed456f5-3d8f-4383-a6c9-312032afcd1a"
	conohaBody    = `{"rebuild": {"imageRef": "fcf90f5a-1fcb-4ec0-8114-39aafd4e9e4b", "adminPass": "mt1293sxgdS", "key_name": "xxxxxx-key-01"}}`
	conohaCurlBdy = `{"rebuild": {"imageRef": "fb1d084f-357f-40e2-a2c3-59b8ecc1f6f2", "adminPass":"72LY2hf38Kf84vCy4,Ur"}}`
	rackspaceBody = `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "name": "foobar", "adminPass": "seekr3t",
		"accessIPv4": "1.2.3.4", "accessIPv6": "fe80::100", "metadata": {"meta var": "meta val"}}}`
	rackspaceV11Body = `{ "rebuild": { "imageRef": "http://openstack.example.com/v2/32278/images/70a599e0-31e7-49b7-b260-868f441e862b", "name": "foobar", "adminPass": "seekr3t", "accessIPv4": "1.2.3.4", "accessIPv6": "fe80::100", "metadata": { "meta var": "meta val" }, "personality": [ { "path": "/etc/banner.txt", "contents": "ICAgICAgDQoiQSBjbG91ZCBkb2VzIG5vdCBrbm93IHdoeSBp dCBtb3ZlcyBpbiBqdXN0IHN1Y2ggYSBkaXJlY3Rpb24gYW5k IGF0IHN1Y2ggYSBzcGVlZC4uLkl0IGZlZWxzIGFuIGltcHVs c2lvbi4uLnRoaXMgaXMgdGhlIHBsYWNlIHRvIGdvIG5vdy4g QnV0IHRoZSBza3kga25vd3MgdGhlIHJlYXNvbnMgYW5kIHRo ZSBwYXR0ZXJucyBiZWhpbmQgYWxsIGNsb3VkcywgYW5kIHlv dSB3aWxsIGtub3csIHRvbywgd2hlbiB5b3UgbGlmdCB5b3Vy c2VsZiBoaWdoIGVub3VnaCB0byBzZWUgYmV5b25kIGhvcml6 b25zLiINCg0KLVJpY2hhcmQgQmFjaA==" } ] } }`
	huaweiBody       = `{
        "rebuild" : {
            "imageRef" : "3ed456f5-3d8f-4383-a6c9-312032afcd1a",
            "name" : "rebuildName",
           "metadata" : {
                "rebuild" : "rebuild vm"
            }
        }
    }`
)

// TestRebuildVendorExamples posts each vendor's documented rebuild body
// and checks the answer carries every field the vendor's example answer
// shows and the server ends up as the body asked.
func TestRebuildVendorExamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRebuildAPICloud(t, database)
		for id, name := range map[string]string{conohaImage: "conoha", conohaCurl: "conoha-curl", rackspaceImg: "rackspace", huaweiImage: "huawei"} {
			rc.image(t, id, name)
		}
		rc.key(t, "u1", "xxxxxx-key-01")
		conohaKeys := []string{"OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "addresses", "adminPass", "created", "flavor",
			"hostId", "id", "image", "links", "metadata", "name", "status", "tenant_id", "updated", "user_id"}
		withProgress := append([]string{"progress"}, conohaKeys...)
		cases := []struct {
			name    string
			path    string // "" = /v2.1/servers/{id}/action
			version string
			body    string
			stopped bool
			keys    []string // fields of the vendor's example answer
			check   func(t *testing.T, s map[string]any, srv *compute.Server)
		}{
			{name: "ConoHa at 2.54 sets the key pair", version: "2.54", body: conohaBody, stopped: true, keys: conohaKeys,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if s["adminPass"] != "mt1293sxgdS" || s["key_name"] != "xxxxxx-key-01" || srv.KeyName != "xxxxxx-key-01" || srv.ImageRef != conohaImage {
						t.Errorf("adminPass %v key %v/%q image %s", s["adminPass"], s["key_name"], srv.KeyName, srv.ImageRef)
					}
				}},
			{name: "ConoHa on /v2 drops the key as legacy v2 does", path: "/v2/p1/servers/%s/action", body: conohaBody, stopped: true, keys: conohaKeys,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if srv.KeyName != "" || srv.ImageRef != conohaImage {
						t.Errorf("key %q image %s", srv.KeyName, srv.ImageRef)
					}
				}},
			{name: "ConoHa curl example on /v2", path: "/v2/p1/servers/%s/action", body: conohaCurlBdy, stopped: true, keys: conohaKeys,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if s["adminPass"] != "72LY2hf38Kf84vCy4,Ur" || srv.ImageRef != conohaCurl {
						t.Errorf("adminPass %v image %s", s["adminPass"], srv.ImageRef)
					}
				}},
			{name: "Rackspace on /v2", path: "/v2/p1/servers/%s/action", body: rackspaceBody, keys: withProgress,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if s["adminPass"] != "seekr3t" || srv.Name != "foobar" || srv.AccessIPv4 != "1.2.3.4" || srv.AccessIPv6 != "fe80::100" ||
						len(srv.Metadata) != 1 || srv.Metadata["meta var"] != "meta val" || srv.ImageRef != rackspaceImg {
						t.Errorf("rebuilt %+v", srv)
					}
				}},
			{name: "Huawei at 2.54", version: "2.54", body: huaweiBody, keys: withProgress,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if srv.Name != "rebuildName" || srv.Metadata["rebuild"] != "rebuild vm" || len(srv.Metadata) != 1 || srv.ImageRef != huaweiImage {
						t.Errorf("rebuilt %+v", srv)
					}
				}},
			{name: "Huawei at 2.57", version: "2.57", body: huaweiBody, keys: withProgress,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if _, has := s["user_data"]; !has || srv.Name != "rebuildName" {
						t.Errorf("2.57 answer %v", s)
					}
				}},
			{name: "Huawei's documented 2.54 and 2.57 fields", version: "2.57",
				body: `{"rebuild": {"imageRef": "` + huaweiImage + `", "name": "rebuildName", "metadata": {"rebuild": "rebuild vm"},
					"adminPass": "ignored-by-huawei", "OS-DCF:diskConfig": "MANUAL", "preserve_ephemeral": false,
					"key_name": null, "user_data": "IyEvYmluL3NoCmVjaG8gaGk="}}`, keys: withProgress,
				check: func(t *testing.T, s map[string]any, srv *compute.Server) {
					if s["key_name"] != nil || srv.UserData != "IyEvYmluL3NoCmVjaG8gaGk=" || srv.DiskConfig != "MANUAL" {
						t.Errorf("key %v user data %q disk %s", s["key_name"], srv.UserData, srv.DiskConfig)
					}
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				srv := rc.server(t, rc.user, "vendor")
				if tc.stopped {
					rc.api.As(userToken, "2.1").Do("POST", "/v2.1/servers/"+srv.ID+"/action", `{"os-stop": null}`).Expect(t, 202)
					rc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" && s.TaskState == "" })
				}
				path := "/v2.1/servers/" + srv.ID + "/action"
				if tc.path != "" {
					path = fmt.Sprintf(tc.path, srv.ID)
				}
				r := rc.api.As(userToken, tc.version).Do("POST", path, tc.body).Expect(t, http.StatusAccepted)
				if !strings.HasSuffix(r.Header.Get("Location"), "/servers/"+srv.ID) {
					t.Errorf("Location %q", r.Header.Get("Location"))
				}
				s := r.JSON(t)["server"].(map[string]any)
				for _, k := range tc.keys {
					if _, has := s[k]; !has {
						t.Errorf("answer lacks %s: %v", k, s)
					}
				}
				done := rc.settled(t, srv.ID)
				want := "ACTIVE"
				if tc.stopped {
					want = "SHUTOFF" // ConoHa's example answer: a stopped server stays stopped
				}
				if done.Status() != want {
					t.Errorf("rebuilt server is %s, want %s", done.Status(), want)
				}
				tc.check(t, s, done)
			})
		}
		// The older Rackspace (API v1.1) document names the image by URL
		// and injects a file; Nova's rebuild schema takes only an image
		// uuid on /v2 and /v2.1, so the body is refused as Nova refuses it.
		srv := rc.server(t, rc.user, "v11")
		r := rc.api.As(userToken, "").Do("POST", "/v2/p1/servers/"+srv.ID+"/action", rackspaceV11Body)
		url := "http://openstack.example.com/v2/32278/images/70a599e0-31e7-49b7-b260-868f441e862b"
		if want := "Invalid input for field/attribute imageRef. Value: " + url + ". '" + url + "' is not a 'uuid'"; r.Status != 400 || faultMessage(t, r) != want {
			t.Fatalf("v1.1 body: %d %s", r.Status, r.Body)
		}
	})
}

// TestRebuildVolumeBackedAPI rebuilds a volume-backed server with another
// image over the whole stack (the block storage service re-imaging the
// root volume): Nova's 400 before 2.93; from 2.93 a 202 showing no
// image, and the server ACTIVE again on the same volume, in-use, made
// from the new image.
func TestRebuildVolumeBackedAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRebuildAPICloud(t, database)
		ctx := context.Background()
		other := "3c1d9a6e-5b7f-4e2a-9c3d-7f0e1a2b3c4d"
		rc.image(t, other, "other")
		zero := 0
		srv := rc.CreateServer(t, rc.user, "bfv", func(r *compute.CreateRequest) {
			r.Networks = compute.NetworkRequest{Mode: "auto"}
			r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "image", DestinationType: "volume", UUID: r.ImageRef,
				BootIndex: &zero, VolumeSize: 1, DeleteOnTermination: true}}
			r.ImageRef = ""
		}).Servers[0]
		rc.WaitFor(t, srv.ID, computetest.Active)
		bs, err := rc.Compute.BlockDevices(ctx, rc.user, srv.ID)
		if err != nil || len(bs) != 1 {
			t.Fatalf("mappings %+v, %v", bs, err)
		}
		volID := bs[0].VolumeID
		path := "/v2.1/servers/" + srv.ID + "/action"
		body := map[string]any{"rebuild": map[string]any{"imageRef": other, "name": "rebuilt"}}

		r := rc.api.As(userToken, "2.92").Do("POST", path, body)
		if want := "Image " + other + " is unacceptable: Unable to rebuild with a different image for a volume-backed server."; r.Status != 400 || faultMessage(t, r) != want {
			t.Fatalf("2.92: %d %s", r.Status, r.Body)
		}

		s := rc.api.As(userToken, "2.93").Do("POST", path, body).Expect(t, 202).JSON(t)["server"].(map[string]any)
		if s["image"] != "" || s["status"] != "REBUILD" || s["name"] != "rebuilt" {
			t.Fatalf("2.93 answer image %v status %v name %v", s["image"], s["status"], s["name"])
		}
		done := rc.settled(t, srv.ID)
		if done.Status() != "ACTIVE" || done.SystemMetadata["image_base_image_ref"] != other {
			t.Fatalf("rebuilt server %s, fault %+v, system metadata %v", done.Status(), done.Fault, done.SystemMetadata)
		}
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		vol, err := rc.App.Volumes.Get(ctx, admin, volID)
		if err != nil {
			t.Fatal(err)
		}
		if vol.Status != "in-use" || vol.ImageMetadata["image_id"] != other || len(vol.Attachments) != 1 ||
			vol.Attachments[0].InstanceUUID == nil || *vol.Attachments[0].InstanceUUID != srv.ID {
			t.Fatalf("root volume after the rebuild: status %s image %v attachments %+v", vol.Status, vol.ImageMetadata, vol.Attachments)
		}
		shown := rc.api.As(userToken, "2.93").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		attached, _ := shown["os-extended-volumes:volumes_attached"].([]any)
		if shown["image"] != "" || len(attached) != 1 || attached[0].(map[string]any)["id"] != volID {
			t.Fatalf("shown image %v volumes %v", shown["image"], shown["os-extended-volumes:volumes_attached"])
		}
		if g, err := rc.Driver.Inspect(srv.ID); err != nil || len(g.Volumes) != 1 || g.Volumes[0] != volID {
			t.Fatalf("guest %+v, %v", g, err)
		}
	})
}
