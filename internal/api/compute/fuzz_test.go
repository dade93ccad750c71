package compute_test

// Fuzz targets of the compute API's request decoding and validation,
// through kumo's whole handler (internal/apifuzz): each input is one
// request, and every answer must be below 500 and, when a 4xx, Nova's
// fault. KUMO_FUZZ_ENGINE=postgres runs them on PostgreSQL. The seeds
// are testdata/fuzz/<target>/ and the reference API samples.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apifuzz"
	"github.com/kumocloud/kumo/internal/mv"
)

// FuzzServerCreate: POST /servers bodies at every microversion, as the
// member or the admin. Servers an input creates are deleted after it.
func FuzzServerCreate(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "nova/api_samples/servers/server-create-req*.json",
		"nova/api_samples/servers/v2.*/server-create-req*.json", "nova/api_samples/os-multiple-create/*.json",
		"nova/api_samples/os-multiple-create/v2.*/*.json") {
		f.Add(uint8(s.Minor), false, s.Body)
	}
	f.Fuzz(func(t *testing.T, minor uint8, admin bool, body []byte) {
		r := c.Send(t, apifuzz.Request{Method: "POST", Target: "/v2.1/servers", Token: c.Token(admin),
			Version: c.Minor(minor), Body: c.FillBytes(t, body)})
		if r != nil && r.Status < 300 {
			c.DropServers(t)
		}
	})
}

// serverStates are the states FuzzServerAction puts its server in before
// the input's action (its prelude byte picks one), by the actions that
// lead there.
var serverStates = []string{
	"",                                    // ACTIVE
	`{"os-stop":null}`,                    // SHUTOFF
	`{"pause":null}`,                      // PAUSED
	`{"suspend":null}`,                    // SUSPENDED
	`{"rescue":null}`,                     // RESCUE
	`{"shelve":null}`,                     // SHELVED_OFFLOADED
	`{"resize":{"flavorRef":"2"}}`,        // VERIFY_RESIZE
	`{"lock":null}`,                       // ACTIVE, locked by the admin
	`{"os-resetState":{"state":"error"}}`, // ERROR
}

// FuzzServerAction: POST /servers/{id}/action bodies (every action), as
// the member or the admin, on a server of the member's in one of
// serverStates. A server an input leaves other than ACTIVE is replaced.
// The seeds are testdata's alone: they hold every action of the
// reference samples and more, and each costs a server on PostgreSQL.
func FuzzServerAction(f *testing.F) {
	c := apifuzz.Open(f)
	f.Fuzz(func(t *testing.T, minor uint8, admin bool, prelude uint8, body []byte) {
		if st := serverStates[int(prelude)%len(serverStates)]; st != "" {
			c.Act(t, st)
		}
		c.Send(t, apifuzz.Request{Method: "POST", Target: "/v2.1/servers/" + c.Server(t) + "/action",
			Token: c.Token(admin), Version: c.Minor(minor), Body: c.FillBytes(t, body)})
		c.Settle(t)
		c.DropServers(t) // none unless an action made one
	})
}

// FuzzFlavorCreate: POST /flavors bodies as the admin; a flavor an input
// creates is deleted after it.
func FuzzFlavorCreate(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "nova/api_samples/flavor-manage/flavor-create-post-req.json",
		"nova/api_samples/flavor-manage/v2.*/flavor-create-post-req.json") {
		f.Add(uint8(s.Minor), s.Body)
	}
	f.Fuzz(func(t *testing.T, minor uint8, body []byte) {
		r := c.Send(t, apifuzz.Request{Method: "POST", Target: "/v2.1/flavors", Token: c.Admin,
			Version: c.Minor(minor), Body: c.FillBytes(t, body)})
		if r == nil || r.Status >= 300 {
			return
		}
		var created struct{ Flavor struct{ ID string } }
		if err := json.Unmarshal(r.Body, &created); err != nil || created.Flavor.ID == "" {
			t.Fatalf("flavor create answered %d without a flavor id: %s", r.Status, r.Body)
		}
		c.Expect(t, apifuzz.Request{Method: "DELETE", Target: "/v2.1/flavors/" + url.PathEscape(created.Flavor.ID),
			Token: c.Admin}, http.StatusAccepted)
	})
}

// FuzzKeypairCreate: POST /os-keypairs bodies (generated and imported
// keys, ssh and x509), as the member or the admin (who may name another
// user from 2.10); a key pair an input creates is deleted after it.
func FuzzKeypairCreate(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "nova/api_samples/os-keypairs/*.json", "nova/api_samples/os-keypairs/v2.*/*.json") {
		f.Add(uint8(s.Minor), false, s.Body)
	}
	f.Fuzz(func(t *testing.T, minor uint8, admin bool, body []byte) {
		r := c.Send(t, apifuzz.Request{Method: "POST", Target: "/v2.1/os-keypairs", Token: c.Token(admin),
			Version: c.Minor(minor), Body: c.FillBytes(t, body)})
		if r == nil || r.Status >= 300 {
			return
		}
		var created struct {
			Keypair struct {
				Name   string `json:"name"`
				UserID string `json:"user_id"`
			} `json:"keypair"`
		}
		if err := json.Unmarshal(r.Body, &created); err != nil || created.Keypair.Name == "" {
			t.Fatalf("key pair create answered %d without a name: %s", r.Status, r.Body)
		}
		// The creator deletes it, naming the owner from 2.10 (the admin
		// may have created it for the member).
		target := "/v2.1/os-keypairs/" + url.PathEscape(created.Keypair.Name)
		v, _ := mv.Parse(c.Minor(minor))
		if v.AtLeast(mv.V2_10) && created.Keypair.UserID != "" {
			target += "?user_id=" + url.QueryEscape(created.Keypair.UserID)
		}
		want := http.StatusAccepted
		if v.AtLeast(mv.V2_2) {
			want = http.StatusNoContent
		}
		c.Expect(t, apifuzz.Request{Method: "DELETE", Target: target, Token: c.Token(admin), Version: v.String()}, want)
	})
}

// FuzzQuotaSetUpdate: PUT /os-quota-sets/{project} bodies as the admin,
// for the member's project or (user set) its member; quotas an input sets
// are reset after it.
func FuzzQuotaSetUpdate(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "nova/api_samples/os-quota-sets/*-req.json", "nova/api_samples/os-quota-sets/v2.*/*-req.json") {
		f.Add(uint8(s.Minor), strings.HasPrefix(s.Path, "user-"), s.Body)
	}
	f.Fuzz(func(t *testing.T, minor uint8, user bool, body []byte) {
		target := "/v2.1/os-quota-sets/" + c.Project
		if user {
			target += "?user_id=" + c.User
		}
		r := c.Send(t, apifuzz.Request{Method: "PUT", Target: target, Token: c.Admin, Version: c.Minor(minor), Body: c.FillBytes(t, body)})
		if r != nil && r.Status < 300 {
			c.Expect(t, apifuzz.Request{Method: "DELETE", Target: target, Token: c.Admin}, http.StatusAccepted)
		}
	})
}

// metadataCalls are the metadata bodies FuzzMetadata sends: a server's
// (the member's), flavor extra specs and image metadata through the
// images proxy (both the admin's). KEY is the fuzzed key, escaped.
var metadataCalls = []struct {
	method, target string
	admin          bool
	maxMinor       int // 0: all
}{
	{"PUT", "/v2.1/servers/$SERVER/metadata", false, 0},
	{"POST", "/v2.1/servers/$SERVER/metadata", false, 0},
	{"PUT", "/v2.1/servers/$SERVER/metadata/KEY", false, 0},
	{"POST", "/v2.1/flavors/1/os-extra_specs", true, 0},
	{"PUT", "/v2.1/flavors/1/os-extra_specs/KEY", true, 0},
	{"PUT", "/v2.1/images/$IMAGE/metadata", true, 38},
	{"POST", "/v2.1/images/$IMAGE/metadata", true, 38},
	{"PUT", "/v2.1/images/$IMAGE/metadata/KEY", true, 38},
}

// FuzzMetadata: metadata bodies and keys of servers, flavors (extra
// specs) and images (the images proxy, up to 2.38).
func FuzzMetadata(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "nova/api_samples/server-metadata/*.json") {
		f.Add(uint8(1), uint8(0), "foo", s.Body)
		f.Add(uint8(1), uint8(2), "foo", s.Body)
	}
	for _, s := range apifuzz.Samples(f, "nova/api_samples/flavor-extra-specs/*-req.json") {
		f.Add(uint8(1), uint8(3), "hw:numa_nodes", s.Body)
	}
	for _, s := range apifuzz.Samples(f, "nova/api_samples/images/*metadata*-req.json") {
		f.Add(uint8(1), uint8(5), "Label", s.Body)
	}
	f.Fuzz(func(t *testing.T, minor, call uint8, key string, body []byte) {
		mc := metadataCalls[int(call)%len(metadataCalls)]
		m := minor
		if mc.maxMinor != 0 {
			m = 1 + minor%uint8(mc.maxMinor)
		}
		target := c.Fill(t, strings.Replace(mc.target, "KEY", url.PathEscape(key), 1))
		c.Send(t, apifuzz.Request{Method: mc.method, Target: target, Token: c.Token(mc.admin),
			Version: c.Minor(m), Body: c.FillBytes(t, body)})
	})
}

// FuzzServerList: query strings of GET /servers and /servers/detail, as
// the member or the admin, with the fixture server to list.
func FuzzServerList(f *testing.F) {
	c := apifuzz.Open(f)
	f.Fuzz(func(t *testing.T, minor uint8, detail, admin bool, query string) {
		c.Server(t) // one to list
		target := "/v2.1/servers"
		if detail {
			target += "/detail"
		}
		c.Send(t, apifuzz.Request{Method: "GET", Target: target + "?" + c.Fill(t, query), Token: c.Token(admin), Version: c.Minor(minor)})
	})
}

// FuzzVersionHeader: the microversion headers (OpenStack-API-Version and
// the legacy X-OpenStack-Nova-API-Version) on a compute call. What the
// answer says must be what internal/mv negotiates: 200 with that version
// in both response headers, 400 for a malformed one, 406 for one outside
// the served range.
func FuzzVersionHeader(f *testing.F) {
	c := apifuzz.Open(f)
	f.Fuzz(func(t *testing.T, current, legacy string) {
		var hdr []string
		if current != "" {
			hdr = append(hdr, "OpenStack-API-Version", current)
		}
		if legacy != "" {
			hdr = append(hdr, "X-OpenStack-Nova-API-Version", legacy)
		}
		req := apifuzz.Request{Method: "GET", Target: "/v2.1/flavors", Token: c.Member, Header: hdr}
		r := c.Send(t, req)
		if r == nil {
			return
		}
		sent := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			sent.Set(hdr[i], strings.Trim(hdr[i+1], " \t"))
		}
		v, err := mv.Supported().Negotiate(mv.Requested(sent))
		switch {
		case err == nil && r.Status == http.StatusOK:
			if got := r.Header.Get(mv.HeaderNew); got != "compute "+v.String() || r.Header.Get(mv.HeaderLegacy) != v.String() {
				t.Fatalf("headers %q %q: answered at %q / %q, want %s", current, legacy, got, r.Header.Get(mv.HeaderLegacy), v)
			}
		case errors.Is(err, mv.ErrMalformed) && r.Status == http.StatusBadRequest:
		case errors.Is(err, mv.ErrUnsupported) && r.Status == http.StatusNotAcceptable:
		default:
			t.Fatalf("headers %q %q: status %d, want the answer to %v", current, legacy, r.Status, err)
		}
	})
}

// TestEveryActionHasASeed keeps FuzzServerAction's corpus whole: each
// server action the API serves is the key of at least one seed body.
func TestEveryActionHasASeed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/fuzz/FuzzServerAction/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	seeded := map[string]bool{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		last := lines[len(lines)-1] // the body: []byte("...")
		body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(last, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: body %q: %v", name, last, err)
		}
		var v map[string]any
		if json.Unmarshal([]byte(body), &v) == nil {
			for k := range v {
				seeded[k] = true
			}
		}
	}
	for _, a := range computeapi.Actions() {
		if a.Path == "/servers/{server_id}/action" && !seeded[a.Name] {
			t.Errorf("action %s has no seed in testdata/fuzz/FuzzServerAction", a.Name)
		}
	}
}
