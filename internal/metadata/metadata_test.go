package metadata

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// fakeServer is one server as the fake Source holds it.
type fakeServer struct {
	files    map[string][]byte
	facts    EC2Facts
	password string
	err      error // returned by every call
	setErr   error // returned by SetPassword
}

type fakeSource struct {
	mu      sync.Mutex
	servers map[string]*fakeServer
	sets    int // SetPassword calls that stored
}

func (f *fakeSource) get(id string) (*fakeServer, error) {
	s, ok := f.servers[id]
	if !ok {
		return nil, fmt.Errorf("server %s: %w", id, ErrNotFound)
	}
	return s, s.err
}

func (f *fakeSource) Files(_ context.Context, id string) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(id)
	if err != nil {
		return nil, err
	}
	return s.files, nil
}

func (f *fakeSource) Password(_ context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(id)
	if err != nil {
		return "", err
	}
	return s.password, nil
}

func (f *fakeSource) SetPassword(_ context.Context, id, pw string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(id)
	if err != nil {
		return err
	}
	if s.setErr != nil {
		return s.setErr
	}
	s.password = pw
	f.sets++
	return nil
}

func (f *fakeSource) EC2(_ context.Context, id string) (EC2Facts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(id)
	if err != nil {
		return EC2Facts{}, err
	}
	return s.facts, nil
}

const userData = "#!/bin/sh\necho hello\n"

func newFake() *fakeSource {
	metaA := `{"uuid":"aaaa","name":"vm-a","hostname":"vm-a","launch_index":2,"availability_zone":"nova",` +
		`"project_id":"p1","public_keys":{"mykey":"ssh-ed25519 AAAAkey me@here"},` +
		`"keys":[{"name":"mykey","type":"ssh","data":"ssh-ed25519 AAAAkey me@here"}],` +
		`"meta":{"role":"web"},"admin_pass":"s3cret","devices":[]}`
	metaB := `{"uuid":"bbbb","name":"vm-b","hostname":"vm-b","launch_index":0,"availability_zone":"az2","project_id":"p2","meta":{}}`
	return &fakeSource{servers: map[string]*fakeServer{
		"srv-a": {
			files: map[string][]byte{
				"openstack/latest/meta_data.json":    []byte(metaA),
				"openstack/latest/network_data.json": []byte(`{"links":[],"networks":[],"services":[]}`),
				"openstack/latest/vendor_data.json":  []byte(`{"v":1}`),
				"openstack/latest/user_data":         []byte(userData),
				"openstack/content/0000":             []byte("injected"),
			},
			facts: EC2Facts{
				Number: 0x2a, ImageID: "11111111-2222-3333-4444-555555555555", ReservationID: "r-abcd1234",
				FlavorName: "m1.small", FixedIPv4: "10.0.0.5", FloatingIPv4: "203.0.113.9",
				SecurityGroups: []string{"default", "web"}, RootDeviceName: "/dev/vda",
				SwapDevice: "/dev/vdc", VolumeDevices: []string{"/dev/vde", "/dev/vdd"},
			},
		},
		"srv-b": {
			files: map[string][]byte{"openstack/latest/meta_data.json": []byte(metaB)},
			facts: EC2Facts{Number: 7, FlavorName: "tiny"},
		},
		"srv-broken":  {err: errors.New("database is down")},
		"srv-nofiles": {files: map[string][]byte{}},
	}}
}

var addrs = map[netip.Addr]string{
	netip.MustParseAddr("10.0.0.5"): "srv-a",
	netip.MustParseAddr("10.0.0.6"): "srv-b",
	netip.MustParseAddr("10.0.0.7"): "srv-gone", // resolved, but the Source has no such server
	netip.MustParseAddr("10.0.0.8"): "srv-broken",
	netip.MustParseAddr("10.0.0.9"): "srv-nofiles",
}

func resolver(_ context.Context, remote netip.Addr) (string, bool) {
	id, ok := addrs[remote]
	return id, ok
}

type call struct {
	method, path, remote string
	body                 string
	contentLength        int64 // when not 0, replaces the request's
}

func (c call) do(h http.Handler) *httptest.ResponseRecorder {
	m := c.method
	if m == "" {
		m = http.MethodGet
	}
	req := httptest.NewRequest(m, "http://169.254.169.254"+c.path, strings.NewReader(c.body))
	req.RemoteAddr = c.remote + ":40000"
	if c.contentLength != 0 {
		req.ContentLength = c.contentLength
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const (
	srvA       = "10.0.0.5"
	srvB       = "10.0.0.6"
	osLatest   = "meta_data.json\nuser_data\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json"
	ec2Listing = "ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nhostname\ninstance-action\n" +
		"instance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\npublic-hostname\npublic-ipv4\n" +
		"public-keys/\nreservation-id\nsecurity-groups"
)

func TestHandler(t *testing.T) {
	h := Handler(newFake(), resolver, nil)
	tests := []struct {
		name   string
		call   call
		status int
		ctype  string // prefix of Content-Type
		body   *string
	}{
		// The root answers before any lookup, as Nova's handler does.
		{"root", call{path: "/", remote: "192.0.2.1"}, 200, "text/plain",
			ptr("1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest")},
		{"root normalised", call{path: "/foo/../", remote: srvA}, 200, "text/plain", nil},
		{"root POST", call{method: "POST", path: "/", remote: srvA}, 405, "text/plain", nil},

		// The resolver refusing: 404 everywhere but the root.
		{"unknown address", call{path: "/openstack", remote: "10.0.0.99"}, 404, "text/plain",
			ptr("404 Not Found\n\nThe resource could not be found.\n")},
		{"unknown address ec2", call{path: "/latest/meta-data/", remote: "10.0.0.99"}, 404, "text/plain", nil},
		{"server gone", call{path: "/openstack/latest/meta_data.json", remote: "10.0.0.7"}, 404, "text/plain", nil},
		{"source fails", call{path: "/openstack/latest/meta_data.json", remote: "10.0.0.8"}, 500, "text/plain", nil},
		{"source without meta_data.json", call{path: "/openstack/latest/", remote: "10.0.0.9"}, 500, "text/plain", nil},

		// OpenStack layout.
		{"openstack versions", call{path: "/openstack", remote: srvA}, 200, "text/plain",
			ptr("2012-08-10\n2013-04-04\n2013-10-17\n2015-10-15\n2016-06-30\n2016-10-06\n2017-02-22\n2018-08-27\n2020-10-14\n2025-04-04\nlatest")},
		{"openstack versions slash", call{path: "/openstack/", remote: srvA}, 200, "text/plain", nil},
		{"openstack latest", call{path: "/openstack/latest", remote: srvA}, 200, "text/plain", ptr(osLatest)},
		{"openstack latest slash", call{path: "/openstack/latest/", remote: srvA}, 200, "text/plain", ptr(osLatest)},
		{"openstack folsom", call{path: "/openstack/2012-08-10/", remote: srvA}, 200, "text/plain", ptr("meta_data.json\nuser_data")},
		{"openstack havana", call{path: "/openstack/2013-10-17", remote: srvA}, 200, "text/plain",
			ptr("meta_data.json\nuser_data\npassword\nvendor_data.json")},
		{"openstack latest no user data", call{path: "/openstack/latest/", remote: srvB}, 200, "text/plain",
			ptr("meta_data.json\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json")},
		{"openstack unknown version", call{path: "/openstack/2099-01-01/", remote: srvA}, 404, "text/plain", nil},
		{"openstack unknown file", call{path: "/openstack/latest/nope.json", remote: srvA}, 404, "text/plain", nil},
		{"openstack file below a file", call{path: "/openstack/latest/meta_data.json/x", remote: srvA}, 404, "text/plain", nil},
		{"user_data", call{path: "/openstack/latest/user_data", remote: srvA}, 200, "text/plain", ptr(userData)},
		{"user_data absent", call{path: "/openstack/latest/user_data", remote: srvB}, 404, "text/plain", nil},
		{"network_data", call{path: "/openstack/latest/network_data.json", remote: srvA}, 200, "application/json",
			ptr(`{"links":[],"networks":[],"services":[]}`)},
		{"network_data absent", call{path: "/openstack/latest/network_data.json", remote: srvB}, 200, "application/json", ptr("{}")},
		{"vendor_data", call{path: "/openstack/latest/vendor_data.json", remote: srvA}, 200, "application/json", ptr(`{"v":1}`)},
		{"vendor_data before havana", call{path: "/openstack/2013-04-04/vendor_data.json", remote: srvA}, 404, "text/plain", nil},
		{"vendor_data2", call{path: "/openstack/latest/vendor_data2.json", remote: srvA}, 200, "application/json", ptr(`{"static": {"v":1}}`)},
		{"vendor_data2 absent", call{path: "/openstack/latest/vendor_data2.json", remote: srvB}, 200, "application/json", ptr(`{"static": {}}`)},
		{"vendor_data2 before newton", call{path: "/openstack/2016-06-30/vendor_data2.json", remote: srvA}, 404, "text/plain", nil},
		{"content", call{path: "/openstack/content/0000", remote: srvA}, 200, "text/plain", ptr("injected")},
		{"content listing", call{path: "/openstack/content", remote: srvA}, 404, "text/plain", nil},
		{"content missing", call{path: "/openstack/content/0001", remote: srvA}, 404, "text/plain", nil},
		{"meta_data POST", call{method: "POST", path: "/openstack/latest/meta_data.json", remote: srvA}, 405, "text/plain", nil},
		{"listing DELETE", call{method: "DELETE", path: "/openstack/latest/", remote: srvA}, 405, "text/plain", nil},
		{"unknown path 404 before 405", call{method: "PUT", path: "/openstack/latest/nope", remote: srvA}, 404, "text/plain", nil},

		// EC2 layout.
		{"ec2 prefix root", call{path: "/ec2", remote: srvA}, 200, "text/plain", nil},
		{"ec2 version", call{path: "/latest", remote: srvA}, 200, "text/plain", ptr("meta-data/\nuser-data")},
		{"ec2 version no user data", call{path: "/2009-04-04/", remote: srvB}, 200, "text/plain", ptr("meta-data/")},
		{"ec2 unknown version", call{path: "/9999-99-99/meta-data/", remote: srvA}, 404, "text/plain", nil},
		{"ec2 meta-data", call{path: "/latest/meta-data/", remote: srvA}, 200, "text/plain", ptr(ec2Listing)},
		{"ec2 prefixed meta-data", call{path: "/ec2/latest/meta-data", remote: srvA}, 200, "text/plain", ptr(ec2Listing)},
		{"ec2 meta-data 1.0", call{path: "/1.0/meta-data/", remote: srvA}, 200, "text/plain",
			ptr("ami-id\nami-launch-index\nami-manifest-path\nhostname\ninstance-id\nlocal-ipv4\npublic-keys/\nreservation-id\nsecurity-groups")},
		{"ec2 meta-data without key", call{path: "/latest/meta-data/", remote: srvB}, 200, "text/plain",
			ptr(strings.Replace(ec2Listing, "public-keys/\n", "", 1))},
		{"ami-id", call{path: "/latest/meta-data/ami-id", remote: srvA}, 200, "text/plain",
			ptr(ec2ID("ami", "11111111-2222-3333-4444-555555555555"))},
		{"ami-id from volume", call{path: "/latest/meta-data/ami-id", remote: srvB}, 200, "text/plain", ptr("")},
		{"ami-launch-index", call{path: "/latest/meta-data/ami-launch-index", remote: srvA}, 200, "text/plain", ptr("2")},
		{"ami-manifest-path", call{path: "/latest/meta-data/ami-manifest-path", remote: srvA}, 200, "text/plain", ptr("FIXME")},
		{"hostname", call{path: "/latest/meta-data/hostname", remote: srvA}, 200, "text/plain", ptr("vm-a")},
		{"local-hostname", call{path: "/latest/meta-data/local-hostname", remote: srvA}, 200, "text/plain", ptr("vm-a")},
		{"public-hostname", call{path: "/latest/meta-data/public-hostname", remote: srvA}, 200, "text/plain", ptr("vm-a")},
		{"instance-action", call{path: "/latest/meta-data/instance-action", remote: srvA}, 200, "text/plain", ptr("none")},
		{"instance-id", call{path: "/latest/meta-data/instance-id", remote: srvA}, 200, "text/plain", ptr("i-0000002a")},
		{"instance-type", call{path: "/latest/meta-data/instance-type", remote: srvA}, 200, "text/plain", ptr("m1.small")},
		{"instance-type before 2007-08-29", call{path: "/2007-03-01/meta-data/instance-type", remote: srvA}, 404, "text/plain", nil},
		{"local-ipv4", call{path: "/latest/meta-data/local-ipv4", remote: srvA}, 200, "text/plain", ptr("10.0.0.5")},
		{"local-ipv4 falls back to the address", call{path: "/latest/meta-data/local-ipv4", remote: srvB}, 200, "text/plain", ptr("10.0.0.6")},
		{"public-ipv4", call{path: "/latest/meta-data/public-ipv4", remote: srvA}, 200, "text/plain", ptr("203.0.113.9")},
		{"public-ipv4 none", call{path: "/latest/meta-data/public-ipv4", remote: srvB}, 200, "text/plain", ptr("")},
		{"reservation-id", call{path: "/latest/meta-data/reservation-id", remote: srvA}, 200, "text/plain", ptr("r-abcd1234")},
		{"security-groups", call{path: "/latest/meta-data/security-groups", remote: srvA}, 200, "text/plain", ptr("default\nweb")},
		{"placement", call{path: "/latest/meta-data/placement/", remote: srvA}, 200, "text/plain", ptr("availability-zone")},
		{"availability-zone", call{path: "/latest/meta-data/placement/availability-zone", remote: srvB}, 200, "text/plain", ptr("az2")},
		{"block-device-mapping", call{path: "/latest/meta-data/block-device-mapping/", remote: srvA}, 200, "text/plain",
			ptr("ami\nebs0\nebs1\nroot\nswap")},
		{"block-device-mapping ebs0 sorted", call{path: "/latest/meta-data/block-device-mapping/ebs0", remote: srvA}, 200, "text/plain", ptr("/dev/vdd")},
		{"block-device-mapping ami", call{path: "/latest/meta-data/block-device-mapping/ami", remote: srvA}, 200, "text/plain", ptr("vda")},
		{"block-device-mapping default", call{path: "/latest/meta-data/block-device-mapping", remote: srvB}, 200, "text/plain",
			ptr("ami\nephemeral0\nroot\nswap")},
		{"block-device-mapping default root", call{path: "/latest/meta-data/block-device-mapping/root", remote: srvB}, 200, "text/plain", ptr("/dev/sda1")},
		{"public-keys", call{path: "/latest/meta-data/public-keys/", remote: srvA}, 200, "text/plain", ptr("0=mykey")},
		{"public-keys 0", call{path: "/latest/meta-data/public-keys/0/", remote: srvA}, 200, "text/plain", ptr("openssh-key")},
		{"openssh-key", call{path: "/latest/meta-data/public-keys/0/openssh-key", remote: srvA}, 200, "text/plain",
			ptr("ssh-ed25519 AAAAkey me@here")},
		{"public-keys 0=name is no path", call{path: "/latest/meta-data/public-keys/0=mykey", remote: srvA}, 404, "text/plain", nil},
		{"public-keys absent", call{path: "/latest/meta-data/public-keys/", remote: srvB}, 404, "text/plain", nil},
		{"user-data", call{path: "/latest/user-data", remote: srvA}, 200, "text/plain", ptr(userData)},
		{"user-data old version", call{path: "/1.0/user-data", remote: srvA}, 200, "text/plain", ptr(userData)},
		{"user-data absent", call{path: "/latest/user-data", remote: srvB}, 404, "text/plain", nil},
		{"ec2 unknown key", call{path: "/latest/meta-data/kernel-id", remote: srvA}, 404, "text/plain", nil},
		{"ec2 below a leaf", call{path: "/latest/meta-data/hostname/x", remote: srvA}, 404, "text/plain", nil},
		{"ec2 below a list", call{path: "/latest/meta-data/security-groups/0", remote: srvA}, 404, "text/plain", nil},
		{"unknown top", call{path: "/nothing/here", remote: srvA}, 404, "text/plain", nil},
		{"ec2 POST", call{method: "POST", path: "/latest/meta-data/hostname", remote: srvA}, 405, "text/plain", nil},
		{"ec2 source fails", call{path: "/latest/meta-data/", remote: "10.0.0.8"}, 500, "text/plain", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.call.do(h)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.status, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tt.ctype)
			}
			if tt.body != nil && rec.Body.String() != *tt.body {
				t.Errorf("body %q, want %q", rec.Body.String(), *tt.body)
			}
			if tt.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestMetaDataJSON(t *testing.T) {
	h := Handler(newFake(), resolver, nil)
	tests := []struct {
		version string
		present []string
		absent  []string
	}{
		{"latest", []string{"uuid", "name", "hostname", "launch_index", "availability_zone", "public_keys", "keys", "meta",
			"random_seed", "project_id", "devices", "dedicated_cpus"}, []string{"admin_pass"}},
		{"2012-08-10", []string{"uuid", "public_keys", "meta"}, []string{"admin_pass", "random_seed", "project_id", "devices", "dedicated_cpus"}},
		{"2013-04-04", []string{"random_seed"}, []string{"admin_pass", "project_id", "devices"}},
		{"2015-10-15", []string{"random_seed", "project_id"}, []string{"admin_pass", "devices"}},
		{"2016-06-30", []string{"project_id", "devices"}, []string{"admin_pass", "dedicated_cpus"}},
	}
	seeds := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			rec := call{path: "/openstack/" + tt.version + "/meta_data.json", remote: srvA}.do(h)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.present {
				if _, ok := m[k]; !ok {
					t.Errorf("no %q in %s", k, rec.Body)
				}
			}
			for _, k := range tt.absent {
				if _, ok := m[k]; ok {
					t.Errorf("%q in %s", k, rec.Body)
				}
			}
			if s, ok := m["random_seed"]; ok {
				var seed string
				_ = json.Unmarshal(s, &seed)
				if b, err := base64.StdEncoding.DecodeString(seed); err != nil || len(b) != 512 {
					t.Errorf("random_seed %q: %d bytes, %v", seed, len(b), err)
				}
				if seeds[seed] {
					t.Errorf("random_seed repeated")
				}
				seeds[seed] = true
			}
			if string(m["uuid"]) != `"aaaa"` || string(m["launch_index"]) != "2" {
				t.Errorf("uuid %s launch_index %s", m["uuid"], m["launch_index"])
			}
		})
	}
}

// TestPassword runs Nova's password rules in order on one server.
func TestPassword(t *testing.T) {
	src := newFake()
	h := Handler(src, resolver, nil)
	const path = "/openstack/latest/password"
	long := strings.Repeat("a", MaxPasswordSize+1)
	full := strings.Repeat("b", MaxPasswordSize)
	steps := []struct {
		name   string
		call   call
		status int
		body   *string
		sets   int // stored passwords after the step
	}{
		{"get none", call{path: path, remote: srvA}, 200, ptr(""), 0},
		{"before grizzly", call{path: "/openstack/2012-08-10/password", remote: srvA}, 404, nil, 0},
		{"put", call{method: "PUT", path: path, remote: srvA, body: "x"}, 400, nil, 0},
		{"delete", call{method: "DELETE", path: path, remote: srvA}, 400, nil, 0},
		{"too large body", call{method: "POST", path: path, remote: srvA, body: long}, 400, nil, 0},
		{"too large by Content-Length", call{method: "POST", path: path, remote: srvA, body: "x", contentLength: MaxPasswordSize + 1}, 400, nil, 0},
		{"too large unknown length", call{method: "POST", path: path, remote: srvA, body: long, contentLength: -1}, 400, nil, 0},
		{"not utf-8", call{method: "POST", path: path, remote: srvA, body: "\xff\xfe"}, 400, nil, 0},
		{"unknown server", call{method: "POST", path: path, remote: "10.0.0.99", body: "x"}, 404, nil, 0},
		{"post at the limit", call{method: "POST", path: path, remote: srvA, body: full}, 200, ptr(""), 1},
		{"get", call{path: path, remote: srvA}, 200, &full, 1},
		{"head", call{method: "HEAD", path: path, remote: srvA}, 200, ptr(""), 1},
		{"post again", call{method: "POST", path: path, remote: srvA, body: "other"}, 409, nil, 1},
		{"get unchanged", call{path: "/openstack/2013-04-04/password", remote: srvA}, 200, &full, 1},
		{"other server", call{method: "POST", path: path, remote: srvB, body: "pw-b"}, 200, nil, 2},
		{"other server get", call{path: path, remote: srvB}, 200, ptr("pw-b"), 2},
		{"source fails", call{method: "POST", path: path, remote: "10.0.0.8", body: "x"}, 500, nil, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			rec := s.call.do(h)
			if rec.Code != s.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, s.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q", ct)
			}
			if s.body != nil && rec.Body.String() != *s.body {
				t.Errorf("body %q, want %q", rec.Body, *s.body)
			}
			if src.sets != s.sets {
				t.Errorf("%d passwords stored, want %d", src.sets, s.sets)
			}
		})
	}
}

// TestPasswordStoreConflict: a Source that finds a password set meanwhile
// makes the POST a 409.
func TestPasswordStoreConflict(t *testing.T) {
	src := newFake()
	src.servers["srv-a"].setErr = fmt.Errorf("store: %w", ErrConflict)
	rec := call{method: "POST", path: "/openstack/latest/password", remote: srvA, body: "x"}.do(Handler(src, resolver, nil))
	if rec.Code != http.StatusConflict {
		t.Fatalf("status %d, want 409", rec.Code)
	}
}

// TestServer goes through a real listener: the remote address reaches the
// resolver, HEAD has no body, the root needs no resolving.
func TestServer(t *testing.T) {
	var seen []netip.Addr
	var mu sync.Mutex
	resolve := func(_ context.Context, a netip.Addr) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, a)
		return "srv-a", a.IsLoopback()
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(Handler(newFake(), resolve, nil), nil)
	srv.Start()
	t.Cleanup(srv.Close)

	get := func(method, path string) (int, string, http.Header) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := get("GET", "/latest/meta-data/hostname"); code != 200 || body != "vm-a" {
		t.Errorf("hostname: %d %q", code, body)
	}
	code, body, hd := get("HEAD", "/openstack/latest/user_data")
	if code != 200 || body != "" || hd.Get("Content-Length") != fmt.Sprint(len(userData)) {
		t.Errorf("HEAD user_data: %d %q length %s", code, body, hd.Get("Content-Length"))
	}
	mu.Lock()
	n := len(seen)
	ok := n == 2 && seen[0].IsLoopback()
	mu.Unlock()
	if !ok {
		t.Errorf("resolver saw %v", seen)
	}
	if code, _, _ := get("GET", "/"); code != 200 {
		t.Errorf("root: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("the root asked the resolver")
	}
}

func ptr(s string) *string { return &s }
