package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// qmpScript answers one QMP command (its name and arguments) with the
// lines QEMU would send: events, then the reply.
type qmpScript func(command string, args map[string]any) []string

// scriptedQMP serves QMP clients on socket from script and records every
// command after qmp_capabilities as "command {arguments}".
func scriptedQMP(t *testing.T, socket string, script qmpScript) func() []string {
	t.Helper()
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var seen []string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(`{"QMP": {"version": {}, "capabilities": []}}` + "\n"))
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadBytes('\n')
				if err != nil {
					break
				}
				var req struct {
					Execute   string          `json:"execute"`
					Arguments json.RawMessage `json:"arguments"`
				}
				json.Unmarshal(line, &req)
				if req.Execute == "qmp_capabilities" {
					c.Write([]byte(`{"return": {}}` + "\n"))
					continue
				}
				var args map[string]any
				json.Unmarshal(req.Arguments, &args)
				mu.Lock()
				seen = append(seen, strings.TrimSpace(req.Execute+" "+string(req.Arguments)))
				mu.Unlock()
				c.Write([]byte(strings.Join(script(req.Execute, args), "\n") + "\n"))
			}
			c.Close()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// runningGuest makes guest id of d look running: a root disk, a process
// whose command line names it, the given port layout.
func runningGuest(t *testing.T, d *Driver, id string, ports []string) {
	t.Helper()
	if err := os.MkdirAll(d.dir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir(id), "disk.qcow2"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "sleep 60; true", "guest="+id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := os.WriteFile(filepath.Join(d.dir(id), "qemu.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	// Until the child has exec'd, its command line is the test's.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, ok := d.pid(id); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stand-in qemu process does not show its command line")
		}
	}
	if ports != nil {
		if err := d.savePorts(id, ports); err != nil {
			t.Fatal(err)
		}
	}
}

// guestQMP is QEMU's side of a guest with the given virtio-net-pci
// devices (name: MAC), which lets a device go (DEVICE_DELETED) only when
// release; failing names commands that fail.
func guestQMP(devices map[string]string, release bool, failing ...string) qmpScript {
	var mu sync.Mutex
	return func(command string, args map[string]any) []string {
		mu.Lock()
		defer mu.Unlock()
		if slices.Contains(failing, command) {
			return []string{`{"error": {"class": "GenericError", "desc": "` + command + ` failed"}}`}
		}
		switch command {
		case "qom-list":
			var children []map[string]string
			if args["path"] == "/machine/peripheral" {
				for name := range devices {
					children = append(children, map[string]string{"name": name, "type": "child<virtio-net-pci>"})
				}
				children = append(children, map[string]string{"name": "nicport0", "type": "child<pcie-root-port>"})
			}
			b, _ := json.Marshal(map[string]any{"return": children})
			return []string{string(b)}
		case "qom-get":
			name := strings.TrimPrefix(args["path"].(string), "/machine/peripheral/")
			v := devices[name]
			if args["property"] == "netdev" {
				v = "net-" + strings.TrimPrefix(name, "nic-")
			}
			b, _ := json.Marshal(map[string]any{"return": v})
			return []string{string(b)}
		case "device_del":
			if !release {
				return []string{`{"return": {}}`}
			}
			path := args["id"].(string)
			delete(devices, strings.TrimPrefix(path, "/machine/peripheral/"))
			// QEMU may send the event before the reply.
			return []string{`{"event": "DEVICE_DELETED", "data": {"path": "` + path + `/virtio-backend"}}`,
				`{"event": "DEVICE_DELETED", "data": {"path": "` + path + `"}}`, `{"return": {}}`}
		}
		return []string{`{"return": {}}`}
	}
}

func TestAttachInterfaceQMP(t *testing.T) {
	nic := virt.NIC{MAC: "FA:16:3E:00:00:02", IPv4: "10.0.0.7", CIDR: "10.0.0.0/24"}
	tests := []struct {
		name      string
		devices   map[string]string
		ports     []string
		failing   []string
		want      []string // commands after the device lookup
		wantErr   string
		wantPorts []string
	}{
		{"into the first free port", map[string]string{"nic-fa163e000001": "fa:16:3e:00:00:01"}, []string{"fa:16:3e:00:00:01", "", ""}, nil,
			[]string{`netdev_add {"dhcpstart":"10.0.0.7","dns":"10.0.0.254","host":"10.0.0.1","id":"net-fa163e000002","net":"10.0.0.0/24","type":"user"}`,
				`device_add {"bus":"nicport1","driver":"virtio-net-pci","id":"nic-fa163e000002","mac":"fa:16:3e:00:00:02","netdev":"net-fa163e000002","romfile":""}`},
			"", []string{"fa:16:3e:00:00:01", "fa:16:3e:00:00:02", ""}},
		{"plugged already", map[string]string{"nic-fa163e000002": "fa:16:3e:00:00:02"}, []string{"fa:16:3e:00:00:02", ""}, nil,
			nil, "", []string{"fa:16:3e:00:00:02", ""}},
		{"no free port", nil, []string{"fa:16:3e:00:00:01"}, nil, nil, "no free PCIe port", []string{"fa:16:3e:00:00:01"}},
		{"started before hot-plug ports", nil, nil, nil, nil, "started without hot-plug ports", nil},
		{"device refused: the netdev goes again", nil, []string{""}, []string{"device_add"},
			[]string{`netdev_add {"dhcpstart":"10.0.0.7","dns":"10.0.0.254","host":"10.0.0.1","id":"net-fa163e000002","net":"10.0.0.0/24","type":"user"}`,
				`device_add {"bus":"nicport0","driver":"virtio-net-pci","id":"nic-fa163e000002","mac":"fa:16:3e:00:00:02","netdev":"net-fa163e000002","romfile":""}`,
				`netdev_del {"id":"net-fa163e000002"}`},
			"device_add failed", []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir()}, locks: map[string]*sync.Mutex{}}
			runningGuest(t, d, "g", tc.ports)
			seen := scriptedQMP(t, d.qmpSocket("g"), guestQMP(tc.devices, true, tc.failing...))
			err := d.AttachInterface(context.Background(), &virt.Guest{ID: "g", NICs: []virt.NIC{nic}}, nic)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("attach: %v, want %q", err, tc.wantErr)
			}
			if got := afterLookup(seen()); !slices.Equal(got, tc.want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if ports, _ := d.loadPorts("g"); !slices.Equal(ports, tc.wantPorts) {
				t.Errorf("ports %q, want %q", ports, tc.wantPorts)
			}
		})
	}
}

func TestDetachInterfaceQMP(t *testing.T) {
	tests := []struct {
		name      string
		devices   map[string]string
		release   bool
		want      []string
		wantErr   string
		wantPorts []string
	}{
		{"guest lets it go", map[string]string{"nic-fa163e000001": "fa:16:3e:00:00:01", "nic-fa163e000002": "fa:16:3e:00:00:02"}, true,
			[]string{`device_del {"id":"/machine/peripheral/nic-fa163e000002"}`, `netdev_del {"id":"net-fa163e000002"}`},
			"", []string{"fa:16:3e:00:00:01", ""}},
		{"not plugged: its netdev goes if left", map[string]string{"nic-fa163e000001": "fa:16:3e:00:00:01"}, true,
			[]string{`netdev_del {"id":"net-fa163e000002"}`}, "", []string{"fa:16:3e:00:00:01", ""}},
		{"guest keeps it", map[string]string{"nic-fa163e000002": "fa:16:3e:00:00:02"}, false,
			[]string{`device_del {"id":"/machine/peripheral/nic-fa163e000002"}`}, "did not release it in time",
			[]string{"fa:16:3e:00:00:01", "fa:16:3e:00:00:02"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir(), DetachTimeout: 500 * time.Millisecond}, locks: map[string]*sync.Mutex{}}
			runningGuest(t, d, "g", []string{"fa:16:3e:00:00:01", "fa:16:3e:00:00:02"})
			seen := scriptedQMP(t, d.qmpSocket("g"), guestQMP(tc.devices, tc.release))
			err := d.DetachInterface(context.Background(), "g", "FA:16:3E:00:00:02")
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("detach: %v, want %q", err, tc.wantErr)
			}
			if got := afterLookup(seen()); !slices.Equal(got, tc.want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if ports, _ := d.loadPorts("g"); !slices.Equal(ports, tc.wantPorts) {
				t.Errorf("ports %q, want %q", ports, tc.wantPorts)
			}
		})
	}
}

// A guest without a process needs no QMP: it boots with its spec's NICs.
func TestHotPlugStoppedGuest(t *testing.T) {
	d := &Driver{opts: Options{DataDir: t.TempDir()}, locks: map[string]*sync.Mutex{}}
	if err := os.MkdirAll(d.dir("g"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir("g"), "disk.qcow2"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.savePorts("g", []string{"fa:16:3e:00:00:01", ""}); err != nil {
		t.Fatal(err)
	}
	nic := virt.NIC{MAC: "fa:16:3e:00:00:02"}
	if err := d.AttachInterface(context.Background(), &virt.Guest{ID: "g", NICs: []virt.NIC{nic}}, nic); err != nil {
		t.Fatal(err)
	}
	if err := d.DetachInterface(context.Background(), "g", "fa:16:3e:00:00:01"); err != nil {
		t.Fatal(err)
	}
	if ports, _ := d.loadPorts("g"); !slices.Equal(ports, []string{"", ""}) {
		t.Errorf("ports %q: the detached NIC's port is free, the attached one takes one at boot", ports)
	}
}

// afterLookup drops the device lookup (qom-list, qom-get) from commands.
func afterLookup(commands []string) []string {
	var out []string
	for _, c := range commands {
		if !strings.HasPrefix(c, "qom-") {
			out = append(out, c)
		}
	}
	return out
}
