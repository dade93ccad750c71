package apisamples

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	sample := map[string]any{"flavor": map[string]any{"id": "1", "ram": 512.0, "links": []any{map[string]any{"href": "x", "rel": "self"}}, "description": nil}}
	cases := []struct {
		name string
		got  string
		opts Options
		want []string
	}{
		{"same shape", `{"flavor": {"id": "7", "ram": 1, "links": [{"href": "y", "rel": "self"}], "description": "d"}}`, Options{}, nil},
		{"wrong type", `{"flavor": {"id": 7, "ram": 1, "links": [], "description": null}}`, Options{}, []string{"flavor.id: type number, sample has string"}},
		{"missing key", `{"flavor": {"id": "7", "links": [], "description": null}}`, Options{}, []string{"flavor.ram: missing"}},
		{"optional key", `{"flavor": {"id": "7", "links": [], "description": null}}`, Options{Optional: []string{"flavor.ram"}}, nil},
		{"extra key", `{"flavor": {"id": "7", "ram": 1, "links": [], "description": null, "swap": 0}}`, Options{}, []string{"flavor.swap: not in sample"}},
		{"array element", `{"flavor": {"id": "7", "ram": 1, "links": [{"href": 1, "rel": "self"}], "description": null}}`, Options{}, []string{"flavor.links[].href: type number, sample has string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			if err := json.Unmarshal([]byte(tc.got), &got); err != nil {
				t.Fatal(err)
			}
			diffs := Compare(sample, got, tc.opts)
			if strings.Join(diffs, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("diffs = %q, want %q", diffs, tc.want)
			}
		})
	}
}

// TestCompareValues: values the API fixes must match and enumeration
// values must be spelled as the sample spells them; values the cloud or
// the test chooses may differ.
func TestCompareValues(t *testing.T) {
	sample := map[string]any{"server": map[string]any{
		"id": "9168b536-cd40-4630-b43f-b259807c6e87", "name": "new-server-test", "hostId": "2091634baaccdc4c",
		"status": "ACTIVE", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": nil, "OS-EXT-STS:power_state": 1.0,
		"locked": false, "created": "2013-09-03T04:01:32Z", "progress": 0.0,
		"links":     []any{map[string]any{"href": "http://openstack.example.com/v2.1/servers/9168", "rel": "self"}, map[string]any{"href": "http://openstack.example.com/servers/9168", "rel": "bookmark"}},
		"addresses": map[string]any{"private": []any{map[string]any{"addr": "192.168.1.30", "OS-EXT-IPS:type": "fixed", "version": 4.0}}},
		"fault":     map[string]any{"code": 500.0, "message": "boom"},
	}}
	const same = `{"server": {"id": "%s", "name": "%s", "hostId": "%s", "status": "%s", "OS-EXT-STS:vm_state": "%s", "OS-EXT-STS:task_state": %s,
		"OS-EXT-STS:power_state": %s, "locked": %s, "created": "%s", "progress": %s,
		"links": [{"href": "%s", "rel": "self"}, {"href": "http://127.0.0.1:1/servers/x", "rel": "%s"}],
		"addresses": {"private": [{"addr": "10.0.0.3", "OS-EXT-IPS:type": "%s", "version": 6}]},
		"fault": {"code": %s, "message": "other"}}}`
	type fields struct {
		id, name, hostID, status, vmState, taskState, powerState, locked, created, progress, href, rel, ipType, code string
	}
	base := fields{"0b8b7a3e-0000-4000-8000-000000000001", "mine", "abc", "ACTIVE", "active", "null", "1", "false",
		"2026-12-06T17:00:00Z", "100", "http://127.0.0.1:1/v2.1/servers/x", "bookmark", "fixed", "500"}
	render := func(f fields) string {
		return fmt.Sprintf(same, f.id, f.name, f.hostID, f.status, f.vmState, f.taskState, f.powerState, f.locked,
			f.created, f.progress, f.href, f.rel, f.ipType, f.code)
	}
	cases := []struct {
		name   string
		change func(*fields)
		want   []string
	}{
		{"instance-specific values differ", func(*fields) {}, nil},
		{"a task state where the sample has none", func(f *fields) { f.taskState = `"rebooting"` }, nil},
		{"another state, spelled alike", func(f *fields) { f.status, f.vmState = "SHELVED_OFFLOADED", "stopped" }, nil},
		{"another power state and flag", func(f *fields) { f.powerState, f.locked = "4", "true" }, nil},
		{"another address type", func(f *fields) { f.ipType = "floating" }, nil},
		{"status in the wrong case", func(f *fields) { f.status = "active" }, []string{`server.status: spelling of "active", sample has "ACTIVE"`}},
		{"vm_state in the wrong case", func(f *fields) { f.vmState = "Active" }, []string{`server.OS-EXT-STS:vm_state: spelling of "Active", sample has "active"`}},
		{"another word separator", func(f *fields) { f.ipType = "fixed_ip" }, nil},
		{"a link rel", func(f *fields) { f.rel = "Bookmark" }, []string{`server.links[].rel: value "Bookmark", sample has "self" or "bookmark"`}},
		{"a link rel the sample lacks", func(f *fields) { f.rel = "alternate" }, []string{`server.links[].rel: value "alternate", sample has "self" or "bookmark"`}},
		{"list elements in another order", func(f *fields) { f.rel = "self" }, nil},
		{"a fault code", func(f *fields) { f.code = "404" }, []string{`server.fault.code: value 404, sample has 500`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			tc.change(&f)
			var got any
			if err := json.Unmarshal([]byte(render(f)), &got); err != nil {
				t.Fatal(err)
			}
			diffs := Compare(sample, got, Options{})
			if strings.Join(diffs, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("diffs = %q, want %q", diffs, tc.want)
			}
		})
	}
}

// TestSpelling: members of one enumeration are spelled alike when their
// letter case matches and, if both have one, their word separator.
func TestSpelling(t *testing.T) {
	cases := []struct {
		sample, got string
		want        bool
	}{
		{"ACTIVE", "SHUTOFF", true},
		{"ACTIVE", "SHELVED_OFFLOADED", true},
		{"ACTIVE", "active", false},
		{"active", "soft-delete", true},
		{"in-use", "in_use", false},
		{"in-use", "available", true},
		{"anti-affinity", "soft-anti-affinity", true},
		{"bookmark", "Bookmark", false},
		{"2.1", "2.96", true},
	}
	for _, tc := range cases {
		if got := sameSpelling(tc.sample, tc.got); got != tc.want {
			t.Errorf("sameSpelling(%q, %q) = %v, want %v", tc.sample, tc.got, got, tc.want)
		}
	}
}
