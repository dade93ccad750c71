package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestServersCLI drives the server life cycle with the openstack CLI:
// create without and with networking, list with filters and paging, show,
// rename, properties, instance actions, limits and delete.
func TestServersCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)

	pub, _ := sshKeygen(t, "server-key")
	cli.Run(t, "keypair", "create", "--public-key", pub, "kp")

	var s1, s2 obj
	t.Run("create with --nic none and --key-name", func(t *testing.T) {
		cli.JSON(t, &s1, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "--key-name", "kp", "--wait", "s1")...)
		checkCreated(t, s1, "s1")
		if s1["key_name"] != "kp" {
			t.Errorf("key_name = %v, want kp", s1["key_name"])
		}
		if n := len(addressMap(t, s1)); n != 0 {
			t.Errorf("a server created with --nic none has addresses: %v", s1["addresses"])
		}
	})
	if s1 == nil {
		t.Fatal("no server to go on with")
	}
	t.Run("create with --nic auto", func(t *testing.T) {
		cli.JSON(t, &s2, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "auto", "--wait", "s2")...)
		checkCreated(t, s2, "s2")
		if s2["key_name"] != nil {
			t.Errorf("key_name = %v, want null", s2["key_name"])
		}
		checkOneIPv4(t, addressMap(t, s2))
	})
	if s2 == nil {
		t.Fatal("no server to go on with")
	}
	id1, id2 := s1.str(t, "id"), s2.str(t, "id")

	t.Run("list", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "server", "list")
		if len(rows) != 2 {
			t.Fatalf("server list = %v, want s1 and s2", rows)
		}
		// Nova lists the newest first.
		if rows[0].str(t, "ID") != id2 || rows[1].str(t, "ID") != id1 {
			t.Errorf("server list order %v, want s2 (%s) then s1 (%s)", rows, id2, id1)
		}
		for _, r := range rows {
			if r.str(t, "Status") != "ACTIVE" || r.str(t, "Image") != "kumo-tiny" || r.str(t, "Flavor") != "m1.tiny" {
				t.Errorf("server list row %v, want ACTIVE kumo-tiny m1.tiny", r)
			}
		}
		if n := networksOf(t, rows[1]); len(n) != 0 {
			t.Errorf("s1 lists networks %v, want none", n)
		}
		if got, want := fmt.Sprint(networksOf(t, rows[0])), fmt.Sprint(addressMap(t, s2)); got != want {
			t.Errorf("s2 lists networks %s, want %s as server create printed", got, want)
		}
	})

	t.Run("list filters", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "server", "list", "--name", "s1")
		if len(rows) != 1 || rows[0].str(t, "ID") != id1 {
			t.Errorf("server list --name s1 = %v, want only s1", rows)
		}
		cli.JSON(t, &rows, "server", "list", "--name", "^s")
		if len(rows) != 2 {
			t.Errorf("server list --name ^s (a regular expression, as in Nova) = %v, want s1 and s2", rows)
		}
		cli.JSON(t, &rows, "server", "list", "--status", "ACTIVE")
		if len(rows) != 2 {
			t.Errorf("server list --status ACTIVE = %v, want s1 and s2", rows)
		}
		cli.JSON(t, &rows, "server", "list", "--status", "ERROR")
		if len(rows) != 0 {
			t.Errorf("server list --status ERROR = %v, want none", rows)
		}
	})

	t.Run("list paging", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "server", "list", "--limit", "1")
		if len(rows) != 1 || rows[0].str(t, "ID") != id2 {
			t.Errorf("server list --limit 1 = %v, want only the newest, s2", rows)
		}
		cli.JSON(t, &rows, "server", "list", "--limit", "1", "--marker", id2)
		if len(rows) != 1 || rows[0].str(t, "ID") != id1 {
			t.Errorf("server list --limit 1 --marker s2 = %v, want only s1", rows)
		}
		cli.JSON(t, &rows, "server", "list", "--limit", "1", "--marker", id1)
		if len(rows) != 0 {
			t.Errorf("server list --limit 1 --marker s1 = %v, want none", rows)
		}
	})

	t.Run("show", func(t *testing.T) {
		var s obj
		cli.JSON(t, &s, "server", "show", "s2")
		want := map[string]any{
			"id": id2, "name": "s2", "status": "ACTIVE", "OS-EXT-STS:vm_state": "active",
			"OS-EXT-STS:task_state": nil, "key_name": nil, "OS-DCF:diskConfig": "MANUAL",
			"OS-EXT-AZ:availability_zone": "nova", "flavor": "m1.tiny (1)",
		}
		for k, v := range want {
			if s[k] != v {
				t.Errorf("server show: %s = %v, want %v", k, s[k], v)
			}
		}
		if p := fmt.Sprint(s["OS-EXT-STS:power_state"]); p != "1" && p != "Running" {
			t.Errorf("server show: power_state = %v, want Running (1)", p)
		}
		if img := s.str(t, "image"); !strings.HasPrefix(img, "kumo-tiny (") {
			t.Errorf("server show: image = %q, want kumo-tiny (<id>)", img)
		}
		if got, want := fmt.Sprint(addressMap(t, s)), fmt.Sprint(addressMap(t, s2)); got != want {
			t.Errorf("server show: addresses %s, want %s", got, want)
		}
		if _, ok := s["adminPass"]; ok {
			t.Errorf("server show prints an adminPass: only the create response carries it")
		}
		var withKey obj
		cli.JSON(t, &withKey, "server", "show", id1)
		if withKey["key_name"] != "kp" || withKey["name"] != "s1" {
			t.Errorf("server show s1: key_name %v name %v, want kp and s1", withKey["key_name"], withKey["name"])
		}
	})

	t.Run("set name", func(t *testing.T) {
		cli.Run(t, "server", "set", "--name", "s1-renamed", "s1")
		var s obj
		cli.JSON(t, &s, "server", "show", id1)
		if s["name"] != "s1-renamed" {
			t.Errorf("name after server set --name: %v", s["name"])
		}
		if stderr := cli.Fail(t, "server", "show", "s1"); !strings.Contains(stderr, "No server with a name or ID of 's1' exists") {
			t.Errorf("server show of the old name failed with:\n%s", stderr)
		}
	})

	t.Run("set and unset property", func(t *testing.T) {
		cli.Run(t, "server", "set", "--property", "a=b", "--property", "c=d", id1)
		var s obj
		cli.JSON(t, &s, "server", "show", id1)
		if s.property(t, "a") != "b" || s.property(t, "c") != "d" {
			t.Errorf("properties after server set: %v, want a=b and c=d", s["properties"])
		}
		cli.Run(t, "server", "unset", "--property", "a", id1)
		cli.JSON(t, &s, "server", "show", id1)
		if props, _ := s["properties"].(map[string]any); props == nil || props["a"] != nil || props["c"] != "d" {
			t.Errorf("properties after server unset --property a: %v, want only c=d", s["properties"])
		}
	})

	t.Run("event list and show", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "server", "event", "list", id2)
		if len(rows) != 1 {
			t.Fatalf("server event list = %v, want exactly the create", rows)
		}
		ev := rows[0]
		if ev.str(t, "Action") != "create" || ev.str(t, "Server ID") != id2 || !strings.HasPrefix(ev.str(t, "Request ID"), "req-") {
			t.Errorf("server event list row %v, want a create of %s with a req- request id", ev, id2)
		}
		var detail obj
		cli.JSON(t, &detail, "server", "event", "show", id2, ev.str(t, "Request ID"))
		if detail["action"] != "create" || detail["request_id"] != ev["Request ID"] || detail["instance_uuid"] != id2 {
			t.Errorf("server event show = %v, want the create %s of %s", detail, ev["Request ID"], id2)
		}
		if detail["message"] != nil {
			t.Errorf("server event show: message %v, want null for a create that worked", detail["message"])
		}
		if events := fmt.Sprint(detail["events"]); !strings.Contains(events, "Success") {
			t.Errorf("server event show: events %s, want the build's events with result Success (admin sees them)", events)
		}
	})

	t.Run("limits show counts the servers", func(t *testing.T) {
		limits := absoluteLimits(t, cli)
		want := map[string]float64{"totalInstancesUsed": 2, "totalCoresUsed": 2, "totalRAMUsed": 1024, "maxTotalInstances": 10, "maxTotalCores": 20, "maxTotalRAMSize": 51200}
		for k, v := range want {
			if limits[k] != v {
				t.Errorf("limits show --absolute: %s = %v, want %v (all: %v)", k, limits[k], v, limits)
			}
		}
	})

	t.Run("delete --wait", func(t *testing.T) {
		cli.Run(t, "server", "delete", "--wait", id1, "s2")
		var rows []obj
		cli.JSON(t, &rows, "server", "list")
		if len(rows) != 0 {
			t.Errorf("server list after delete = %v, want none", rows)
		}
		if stderr := cli.Fail(t, "server", "show", id2); !strings.Contains(stderr, "No server with a name or ID of '"+id2+"' exists") {
			t.Errorf("server show of a deleted server failed with:\n%s", stderr)
		}
		if used := absoluteLimits(t, cli)["totalInstancesUsed"]; used != 0 {
			t.Errorf("totalInstancesUsed = %v after deleting every server, want 0", used)
		}
	})
}

// checkCreated checks what `server create --wait -f json` printed.
func checkCreated(t *testing.T, s obj, name string) {
	t.Helper()
	if s.str(t, "name") != name || s.str(t, "status") != "ACTIVE" || s.str(t, "id") == "" {
		t.Errorf("server create printed name %v status %v id %v, want %s ACTIVE with an id", s["name"], s["status"], s["id"], name)
	}
	if s["OS-EXT-STS:vm_state"] != "active" || s["OS-EXT-STS:task_state"] != nil {
		t.Errorf("server create: vm_state %v task_state %v, want active and null", s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:task_state"])
	}
	if s["flavor"] != "m1.tiny (1)" {
		t.Errorf("server create: flavor %v, want m1.tiny (1)", s["flavor"])
	}
	if img, _ := s["image"].(string); !strings.HasPrefix(img, "kumo-tiny (") {
		t.Errorf("server create: image %v, want kumo-tiny (<id>)", s["image"])
	}
	if pw, _ := s["adminPass"].(string); pw == "" {
		t.Errorf("server create printed no adminPass")
	}
}

// addressMap decodes the "addresses" a server show prints: an object of
// network name to addresses (OSC 6 with -f json), or "" when empty.
func addressMap(t *testing.T, s obj) map[string][]string {
	t.Helper()
	return networkColumn(t, s["addresses"])
}

// networksOf decodes the Networks column of a server list row.
func networksOf(t *testing.T, row obj) map[string][]string {
	t.Helper()
	return networkColumn(t, row["Networks"])
}

func networkColumn(t *testing.T, v any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	switch a := v.(type) {
	case nil:
	case string:
		// Older formatters: "net=ip1, ip2; net2=ip3".
		for _, part := range strings.Split(a, ";") {
			name, ips, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			for _, ip := range strings.Split(ips, ",") {
				out[name] = append(out[name], strings.TrimSpace(ip))
			}
		}
	case map[string]any:
		for name, ips := range a {
			list, ok := ips.([]any)
			if !ok {
				t.Fatalf("addresses of network %s are %T (%v), want a list", name, ips, ips)
			}
			for _, ip := range list {
				out[name] = append(out[name], fmt.Sprint(ip))
			}
		}
	default:
		t.Fatalf("addresses are %T (%v), want an object", v, v)
	}
	return out
}

// checkOneIPv4 checks a server has exactly one network with one IPv4
// address (and possibly an IPv6 one), as auto networking gives.
func checkOneIPv4(t *testing.T, addrs map[string][]string) {
	t.Helper()
	if len(addrs) != 1 {
		t.Errorf("addresses %v, want exactly one network", addrs)
		return
	}
	for name, ips := range addrs {
		v4 := 0
		for _, ip := range ips {
			p := net.ParseIP(ip)
			if p == nil {
				t.Errorf("network %s has %q, not an IP address", name, ip)
			} else if p.To4() != nil {
				v4++
			}
		}
		if v4 != 1 {
			t.Errorf("network %s has addresses %v, want exactly one IPv4", name, ips)
		}
	}
}

// absoluteLimits runs `limits show --absolute` and returns name -> value.
func absoluteLimits(t *testing.T, cli *CLI) map[string]float64 {
	t.Helper()
	var rows []obj
	cli.JSON(t, &rows, "limits", "show", "--absolute")
	out := map[string]float64{}
	for _, r := range rows {
		out[r.str(t, "Name")] = r.num(t, "Value")
	}
	return out
}
