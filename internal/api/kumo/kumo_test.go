package kumo_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

func addFault(t *testing.T, c *apptest.Cloud, fault map[string]any) string {
	t.Helper()
	r := c.Admin.Do("POST", "/kumo/v1/faults", map[string]any{"fault": fault}).Expect(t, http.StatusCreated)
	var got struct {
		Fault struct {
			ID string `json:"id"`
		} `json:"fault"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || got.Fault.ID == "" {
		t.Fatalf("create reply %s: %v", r.Body, err)
	}
	return got.Fault.ID
}

func TestFaultsAPI(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	// Admins only.
	for _, call := range []struct{ method, path string }{
		{"GET", "/kumo/v1/faults"}, {"POST", "/kumo/v1/faults"}, {"GET", "/kumo/v1/faults/events"},
		{"GET", "/kumo/v1/faults/x"}, {"DELETE", "/kumo/v1/faults/x"},
	} {
		r := c.Member.Do(call.method, call.path, map[string]any{"fault": map[string]any{"name": "x", "action": map[string]any{"type": "reset"}}})
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "kumo:faults:") {
			t.Errorf("member %s %s: %d %s, want 403 naming the rule", call.method, call.path, r.Status, r.Body)
		}
		if r := c.Admin.As("", "").Do(call.method, call.path, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("no token %s %s: %d", call.method, call.path, r.Status)
		}
	}
	// Validation.
	for _, bad := range []struct {
		body any
		want string
	}{
		{map[string]any{"fault": map[string]any{"action": map[string]any{"type": "reset"}}}, "name is required"},
		{map[string]any{"fault": map[string]any{"name": "a", "action": map[string]any{"type": "status", "status": 200}}}, "400-599"},
		{map[string]any{"fault": map[string]any{"name": "a", "path": "(", "action": map[string]any{"type": "reset"}}}, "regular expression"},
		{map[string]any{"fault": map[string]any{"name": "a", "probabilty": 0.5, "action": map[string]any{"type": "reset"}}}, "probabilty"},
		{map[string]any{"fault": map[string]any{"name": "a", "count": "two", "action": map[string]any{"type": "reset"}}}, "count"},
		{map[string]any{"rule": map[string]any{}}, "rule"},
		{"{", "Malformed"},
	} {
		r := c.Admin.Do("POST", "/kumo/v1/faults", bad.body)
		var e struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(r.Body, &e)
		if r.Status != http.StatusBadRequest || e.Error.Code != 400 || !strings.Contains(e.Error.Message, bad.want) {
			t.Errorf("POST %v: %d %s, want 400 about %q", bad.body, r.Status, r.Body, bad.want)
		}
	}
	id := addFault(t, c, map[string]any{"name": "img", "service": "image", "method": "get", "path": "^/v2/images$",
		"count": 2, "action": map[string]any{"type": "status", "status": 503, "retry_after": 4, "message": "Try later"}})
	var show struct {
		Fault map[string]any `json:"fault"`
	}
	if err := json.Unmarshal(c.Admin.Do("GET", "/kumo/v1/faults/"+id, nil).Expect(t, http.StatusOK).Body, &show); err != nil {
		t.Fatal(err)
	}
	f := show.Fault
	action, _ := f["action"].(map[string]any)
	if f["name"] != "img" || f["method"] != "GET" || f["count"] != 2.0 || f["probability"] != 1.0 || f["hits"] != 0.0 ||
		action["type"] != "status" || action["status"] != 503.0 || action["retry_after"] != 4.0 || f["created_at"] == nil {
		t.Fatalf("shown %v", f)
	}
	c.Admin.Do("GET", "/kumo/v1/faults/nope", nil).Expect(t, http.StatusNotFound)
	c.Admin.Do("DELETE", "/kumo/v1/faults/nope", nil).Expect(t, http.StatusNotFound)

	// The rule fires twice, then the image list is served again.
	for i := range 3 {
		r := c.Member.Do("GET", "/image/v2/images", nil)
		if want := map[bool]int{true: 503, false: 200}[i < 2]; r.Status != want {
			t.Fatalf("list %d: %d, want %d", i, r.Status, want)
		}
	}
	var events struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(c.Admin.Do("GET", "/kumo/v1/faults/events", nil).Expect(t, http.StatusOK).Body, &events); err != nil {
		t.Fatal(err)
	}
	if len(events.Events) != 2 {
		t.Fatalf("events %v", events.Events)
	}
	ev := events.Events[0]
	for k, want := range map[string]any{"fault_id": id, "fault_name": "img", "service": "image", "method": "GET",
		"path": "/v2/images", "project_id": c.MemberProject, "action": "status"} {
		if ev[k] != want {
			t.Errorf("event %s = %v, want %v", k, ev[k], want)
		}
	}
	if rid, _ := ev["request_id"].(string); !strings.HasPrefix(rid, "req-") {
		t.Errorf("event request id %q", rid)
	}
	var list struct {
		Faults []map[string]any `json:"faults"`
	}
	if err := json.Unmarshal(c.Admin.Do("GET", "/kumo/v1/faults", nil).Expect(t, http.StatusOK).Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Faults) != 1 || list.Faults[0]["hits"] != 2.0 || list.Faults[0]["count"] != 0.0 {
		t.Fatalf("listed %v", list.Faults)
	}
	c.Admin.Do("DELETE", "/kumo/v1/faults/"+id, nil).Expect(t, http.StatusNoContent)
	c.Admin.Do("GET", "/kumo/v1/faults/"+id, nil).Expect(t, http.StatusNotFound)
}

// TestStatusFaultBodies: a status fault answers with the service's own
// error body, exactly as its errors look.
func TestStatusFaultBodies(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	for _, tc := range []struct {
		name, service, path string
		status, retryAfter  int
		wantType, wantBody  string
	}{
		{"nova 503", "compute", "/v2.1/flavors", 503, 0, "application/json; charset=UTF-8",
			`{"serviceUnavailable":{"code":503,"message":"boom"}}`},
		{"nova 500", "compute", "/v2.1/flavors", 500, 0, "application/json; charset=UTF-8",
			`{"computeFault":{"code":500,"message":"boom"}}`},
		{"nova 429", "compute", "/v2.1/flavors", 429, 7, "application/json; charset=UTF-8",
			`{"overLimit":{"code":429,"message":"boom","retryAfter":"7"}}`},
		{"nova 413", "compute", "/v2.1/flavors", 413, 0, "application/json; charset=UTF-8",
			`{"overLimit":{"code":413,"message":"boom"}}`},
		{"nova 409", "compute", "/v2.1/flavors", 409, 0, "application/json; charset=UTF-8",
			`{"conflictingRequest":{"code":409,"message":"boom"}}`},
		{"keystone 503", "identity", "/identity/v3/projects", 503, 0, "application/json",
			`{"error":{"code":503,"message":"boom","title":"Service Unavailable"}}`},
		{"keystone 429", "identity", "/identity/v3/projects", 429, 2, "application/json",
			`{"error":{"code":429,"message":"boom","title":"Too Many Requests"}}`},
		{"glance 503", "image", "/image/v2/images", 503, 0, "text/plain; charset=UTF-8",
			"503 Service Unavailable\n\nboom\n\n   "},
		{"neutron 503", "network", "/networking/v2.0/networks", 503, 0, "application/json",
			`{"NeutronError":{"detail":"","message":"boom","type":"HTTPServiceUnavailable"}}`},
		{"neutron 404", "network", "/networking/v2.0/networks", 404, 0, "application/json",
			`{"NeutronError":{"detail":"","message":"boom","type":"HTTPNotFound"}}`},
		{"cinder 413", "volume", "/volume/v3/volumes", 413, 3, "application/json; charset=UTF-8",
			`{"overLimit":{"code":413,"message":"boom","retryAfter":"3"}}`},
		{"cinder 503", "volume", "/volume/v3/volumes", 503, 0, "application/json; charset=UTF-8",
			`{"serviceUnavailable":{"code":503,"message":"boom"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action := map[string]any{"type": "status", "status": tc.status, "message": "boom"}
			if tc.retryAfter > 0 {
				action["retry_after"] = tc.retryAfter
			}
			id := addFault(t, c, map[string]any{"name": tc.name, "service": tc.service, "action": action})
			defer func() { c.Admin.Do("DELETE", "/kumo/v1/faults/"+id, nil).Expect(t, http.StatusNoContent) }()
			r := c.Member.Do("GET", tc.path, nil)
			if r.Status != tc.status || r.Header.Get("Content-Type") != tc.wantType || string(r.Body) != tc.wantBody {
				t.Fatalf("got %d %q %s\nwant %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body, tc.status, tc.wantType, tc.wantBody)
			}
			if got := r.Header.Get("Retry-After"); tc.retryAfter > 0 && got != strconv.Itoa(tc.retryAfter) {
				t.Fatalf("Retry-After %q, want %d", got, tc.retryAfter)
			}
			if r.Header.Get("X-Openstack-Request-Id") == "" {
				t.Fatal("no request id")
			}
			// Another service is untouched.
			if tc.service != "image" {
				c.Member.Do("GET", "/image/v2/images", nil).Expect(t, http.StatusOK)
			}
		})
	}
}

// TestFaultsMatchAndWriteNothing: a status fault answers before the handler
// runs, and rules match by method, project and microversion.
func TestFaultsMatchAndWriteNothing(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	addFault(t, c, map[string]any{"name": "kp", "service": "compute", "method": "POST", "path": "^/os-keypairs$",
		"project_id": c.MemberProject, "action": map[string]any{"type": "status", "status": 500}})
	c.Member.Do("POST", "/v2.1/os-keypairs", map[string]any{"keypair": map[string]any{"name": "k1"}}).Expect(t, 500)
	if r := c.Member.Do("GET", "/v2.1/os-keypairs", nil).Expect(t, 200); strings.Contains(string(r.Body), "k1") {
		t.Fatalf("the faulted create made the key pair: %s", r.Body)
	}
	// The admin's project is not the rule's.
	c.Admin.Do("POST", "/v2.1/os-keypairs", map[string]any{"keypair": map[string]any{"name": "k1"}}).Expect(t, 200)

	addFault(t, c, map[string]any{"name": "mv", "service": "compute", "path": "^/flavors", "microversion": "2.79",
		"action": map[string]any{"type": "status", "status": 503}})
	c.Member.As(c.Member.Token, "2.79").Do("GET", "/v2.1/flavors", nil).Expect(t, 503)
	c.Member.As(c.Member.Token, "2.78").Do("GET", "/v2.1/flavors", nil).Expect(t, 200)
	// The project id segment is not part of the matched path.
	c.Member.As(c.Member.Token, "2.79").Do("GET", "/v2.1/"+c.MemberProject+"/flavors", nil).Expect(t, 503)
}

// TestLatencyAndReset run over a real connection.
func TestLatencyAndReset(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	url := c.URL()
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("X-Auth-Token", c.Member.Token)
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	id := addFault(t, c, map[string]any{"name": "slow", "service": "network", "action": map[string]any{"type": "latency", "delay_ms": 300}})
	start := time.Now()
	resp, err := get("/networking/v2.0/networks")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("slow request: %v %v", resp, err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("answered in %v, want at least the rule's 300 ms", d)
	}
	c.Admin.Do("DELETE", "/kumo/v1/faults/"+id, nil).Expect(t, http.StatusNoContent)

	id = addFault(t, c, map[string]any{"name": "rst", "service": "volume", "action": map[string]any{"type": "reset"}})
	_, err = get("/volume/v3/volumes")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reset fault: error %v, want ECONNRESET", err)
	}
	c.Admin.Do("DELETE", "/kumo/v1/faults/"+id, nil).Expect(t, http.StatusNoContent)
	if resp, err := get("/volume/v3/volumes"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the rule's removal: %v %v", resp, err)
	}
}
