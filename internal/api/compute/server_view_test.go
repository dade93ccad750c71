package compute_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// serversCloud is the compute test cloud and a client of its API.
type serversCloud struct {
	*computetest.Cloud
	api   *apitest.Client
	user  *auth.Principal // token userToken
	other *auth.Principal // token "u2:p2"
}

func newServersCloud(t *testing.T, database string) *serversCloud {
	t.Helper()
	return newServersCloudWith(t, database, computetest.Options{})
}

// newServersCloudWith is newServersCloud on a cloud opened with o; ports
// have an IPv6 address too, as in Nova's samples.
func newServersCloudWith(t *testing.T, database string, o computetest.Options) *serversCloud {
	t.Helper()
	configure := o.Configure
	o.Configure = func(cfg *app.Config) {
		withIPv6(cfg)
		if configure != nil {
			configure(cfg)
		}
	}
	c, client := newCloud(t, database, o)
	return &serversCloud{
		Cloud: c, api: client,
		user:  &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}},
		other: &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member"}},
	}
}

// boot creates a server for p through the domain (the create API is
// tested on its own) and, when active, waits until it is.
func (sc *serversCloud) boot(t *testing.T, p *auth.Principal, name string, active bool, mutate func(*compute.CreateRequest)) *compute.Server {
	t.Helper()
	res := sc.CreateServer(t, p, name, func(req *compute.CreateRequest) {
		req.MinCount, req.MaxCount = 1, 1
		req.RequestID, req.Networks = "req-"+name, compute.NetworkRequest{Mode: "auto"}
		if mutate != nil {
			mutate(req)
		}
	})
	srv := res.Servers[0]
	if active {
		srv = sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
	}
	return srv
}

// sampleServer boots the server Nova's samples show: metadata, AUTO disk
// config, access IPs, active.
func (sc *serversCloud) sampleServer(t *testing.T, p *auth.Principal) *compute.Server {
	t.Helper()
	return sc.boot(t, p, "new-server-test", true, func(r *compute.CreateRequest) {
		r.Metadata = map[string]string{"My Server Name": "Apache1"}
		r.DiskConfig, r.AccessIPv4, r.AccessIPv6 = "AUTO", "1.2.3.4", "80fe::"
	})
}

// serverSampleOptions relaxes keys whose presence depends on data, not on
// the API: the sample flavor's and image's own extra specs and properties
// and the sample's scheduler hint.
var serverSampleOptions = apisamples.Options{
	Optional: []string{
		"server.flavor.extra_specs.hw:numa_nodes", "servers[].flavor.extra_specs.hw:numa_nodes",
		"server.image.properties.architecture", "servers[].image.properties.architecture",
		"server.image.properties.auto_disk_config", "servers[].image.properties.auto_disk_config",
		"server.scheduler_hints.same_host", "servers[].scheduler_hints.same_host",
		// Nova shows null without certificates (see withoutNulls).
		"server.trusted_image_certificates", "servers[].trusted_image_certificates",
	},
	Extra: []string{"server.image.properties.hw_architecture", "servers[].image.properties.hw_architecture"},
}

// sampleVersions are the servers sample folders with list, show or
// update samples. v2.69 is left out: its samples show servers of a cell
// that is down, which kumo (one cell) never has.
var sampleVersions = []string{"", "2.3", "2.9", "2.16", "2.19", "2.47", "2.52", "2.63", "2.71", "2.73",
	"2.75", "2.90", "2.94", "2.96", "2.98", "2.100", "2.104"}

// assertServerSample compares body with a servers sample. A null
// trusted_image_certificates is dropped first: the samples show a server
// booted with certificates (an array), kumo servers have none (null, as
// Nova shows then).
func assertServerSample(t *testing.T, rel string, body []byte, o apisamples.Options) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	drop := func(m any) {
		if s, ok := m.(map[string]any); ok {
			if c, has := s["trusted_image_certificates"]; has && c == nil {
				delete(s, "trusted_image_certificates")
			}
		}
	}
	drop(v["server"])
	if list, ok := v["servers"].([]any); ok {
		for _, s := range list {
			drop(s)
		}
	}
	b, _ := json.Marshal(v)
	apisamples.Assert(t, rel, b, o)
}

// pageQuery asks for a one-server page when the sample shows a "next"
// link (a full page), for everything otherwise.
func pageQuery(t *testing.T, rel string) string {
	if m, ok := apisamples.Load(t, rel).(map[string]any); ok {
		if _, paged := m["servers_links"]; paged {
			return "?limit=1"
		}
	}
	return ""
}

func sampleExists(t *testing.T, rel string) bool {
	_, err := os.Stat(filepath.Join(apisamples.Root(t), rel))
	return err == nil
}

func TestServerSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		mine := map[string]*compute.Server{adminToken: sc.sampleServer(t, admin), userToken: sc.sampleServer(t, sc.user)}
		for _, v := range sampleVersions {
			dir, version := "nova/api_samples/servers/", "2.1"
			if v != "" {
				dir, version = dir+"v"+v+"/", v
			}
			// Nova's samples are made as admin up to 2.75, as a project
			// member from 2.90 on.
			token := adminToken
			if v == "2.90" || v == "2.94" || v == "2.96" || v == "2.98" || v == "2.100" || v == "2.104" {
				token = userToken
			}
			cl, srv := sc.api.As(token, version), mine[token]
			checked := 0
			if rel := dir + "server-get-resp.json"; sampleExists(t, rel) {
				assertServerSample(t, rel, cl.Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).Body, serverSampleOptions)
				checked++
			}
			if rel := dir + "servers-details-resp.json"; sampleExists(t, rel) {
				assertServerSample(t, rel, cl.Do("GET", "/v2.1/servers/detail"+pageQuery(t, rel), nil).Expect(t, 200).Body, serverSampleOptions)
				checked++
			}
			if rel := dir + "servers-list-resp.json"; sampleExists(t, rel) {
				assertServerSample(t, rel, cl.Do("GET", "/v2.1/servers"+pageQuery(t, rel), nil).Expect(t, 200).Body, serverSampleOptions)
				checked++
			}
			if rel := dir + "server-update-resp.json"; sampleExists(t, rel) {
				body := map[string]any{"server": map[string]any{"name": "new-server-test"}}
				assertServerSample(t, rel, cl.Do("PUT", "/v2.1/servers/"+srv.ID, body).Expect(t, 200).Body, serverSampleOptions)
				checked++
			}
			if checked == 0 {
				t.Errorf("no sample checked for %q", v)
			}
		}
	})
}

func TestServerListSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		db := sc.DB
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		srv := sc.sampleServer(t, admin)
		sc.sampleServer(t, admin)
		if _, err := db.ExecContext(context.Background(), `UPDATE instances SET vm_state = 'error' WHERE id = ?`, srv.ID); err != nil {
			t.Fatal(err)
		}
		cl := sc.api.As(adminToken, "2.1")
		body := cl.Do("GET", "/v2.1/servers?limit=1&status=error", nil).Expect(t, 200)
		apisamples.Assert(t, "nova/api_samples/servers/servers-list-status-resp.json", body.Body, apisamples.Options{})
		next := body.JSON(t)["servers_links"].([]any)[0].(map[string]any)["href"].(string)
		if want := "http://example.com/v2.1/servers?limit=1&status=error&marker=" + srv.ID; next != want {
			t.Errorf("next link %q, want %q", next, want)
		}
		apisamples.Assert(t, "nova/api_samples/servers-sort/server-sort-keys-list-resp.json",
			cl.Do("GET", "/v2.1/servers?sort_key=display_name&sort_dir=asc", nil).Expect(t, 200).Body, apisamples.Options{})

		// Back to ACTIVE: the detail sample shows active servers.
		if _, err := db.ExecContext(context.Background(), `UPDATE instances SET vm_state = 'active' WHERE id = ?`, srv.ID); err != nil {
			t.Fatal(err)
		}
		window := "?changes-since=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)) +
			"&changes-before=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		v266 := sc.api.As(adminToken, "2.66")
		apisamples.Assert(t, "nova/api_samples/servers/v2.66/servers-list-with-changes-before.json",
			v266.Do("GET", "/v2.1/servers"+window, nil).Expect(t, 200).Body, apisamples.Options{})
		assertServerSample(t, "nova/api_samples/servers/v2.66/servers-details-with-changes-before.json",
			v266.Do("GET", "/v2.1/servers/detail"+window, nil).Expect(t, 200).Body, serverSampleOptions)
	})
}
