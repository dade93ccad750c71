package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// diskQMP is QEMU's side of a guest with the given virtio-blk-pci
// devices (id: serial) and block nodes, which lets a device go
// (DEVICE_DELETED) only when release; failing names commands that fail.
func diskQMP(devices map[string]string, nodes map[string]bool, release bool, failing ...string) qmpScript {
	var mu sync.Mutex
	errReply := func(desc string) []string {
		b, _ := json.Marshal(map[string]any{"error": map[string]string{"class": "GenericError", "desc": desc}})
		return []string{string(b)}
	}
	return func(command string, args map[string]any) []string {
		mu.Lock()
		defer mu.Unlock()
		if slices.Contains(failing, command) {
			return errReply(command + " failed")
		}
		switch command {
		case "qom-list":
			children := []map[string]string{{"name": "nicport0", "type": "child<pcie-root-port>"}}
			for id := range devices {
				children = append(children, map[string]string{"name": id, "type": "child<virtio-blk-pci>"})
			}
			b, _ := json.Marshal(map[string]any{"return": children})
			return []string{string(b)}
		case "qom-get":
			b, _ := json.Marshal(map[string]any{"return": devices[strings.TrimPrefix(args["path"].(string), "/machine/peripheral/")]})
			return []string{string(b)}
		case "blockdev-add":
			name := args["node-name"].(string)
			if nodes[name] {
				return errReply("Duplicate nodes with node-name='" + name + "'")
			}
			nodes[name] = true
		case "blockdev-del":
			name := args["node-name"].(string)
			if !nodes[name] {
				return errReply("Failed to find node with node-name='" + name + "'")
			}
			delete(nodes, name)
		case "device_add":
			devices[args["id"].(string)] = args["serial"].(string)
		case "device_del":
			if !release {
				return []string{`{"return": {}}`}
			}
			id := args["id"].(string)
			delete(devices, id)
			return []string{`{"event": "DEVICE_DELETED", "data": {"path": "/machine/peripheral/` + id + `/virtio-backend"}}`,
				`{"event": "DEVICE_DELETED", "data": {"device": "` + id + `", "path": "/machine/peripheral/` + id + `"}}`, `{"return": {}}`}
		}
		return []string{`{"return": {}}`}
	}
}

const testVolumeID = "3f2b9c1e-8d7a-4e6f-b5c4-a1b2c3d4e5f6" // serial 3f2b9c1e-8d7a-4e6f-b

func TestAttachVolumeQMP(t *testing.T) {
	const (
		fileNode = `{"driver":"file","filename":"%s","node-name":"vol-3f2b9c1e-8d7a-4e6f-b-file","read-only":true}`
		fmtNode  = `{"driver":"qcow2","file":"vol-3f2b9c1e-8d7a-4e6f-b-file","node-name":"vol-3f2b9c1e-8d7a-4e6f-b","read-only":true}`
		device   = `device_add {"bus":"nicport%d","drive":"vol-3f2b9c1e-8d7a-4e6f-b","driver":"virtio-blk-pci","id":"vdisk-3f2b9c1e-8d7a-4e6f-b","serial":"3f2b9c1e-8d7a-4e6f-b"}`
		delFmt   = `blockdev-del {"node-name":"vol-3f2b9c1e-8d7a-4e6f-b"}`
		delFile  = `blockdev-del {"node-name":"vol-3f2b9c1e-8d7a-4e6f-b-file"}`
	)
	key := volumeKey(testVolumeID)
	tests := []struct {
		name      string
		devices   map[string]string
		nodes     []string
		ports     []string
		failing   []string
		want      []string // commands after the device lookup, %s the volume's file, %d the port it gets
		wantErr   string
		wantPorts []string
	}{
		{"into the first free port", nil, nil, []string{"fa:16:3e:00:00:01", "", ""}, nil,
			[]string{"blockdev-add " + fileNode, "blockdev-add " + fmtNode, device}, "", []string{"fa:16:3e:00:00:01", key, ""}},
		{"plugged already", map[string]string{"vdisk-3f2b9c1e-8d7a-4e6f-b": "3f2b9c1e-8d7a-4e6f-b"}, nil, []string{key, ""}, nil,
			nil, "", []string{key, ""}},
		{"nodes left by an interrupted attach", nil, []string{"vol-3f2b9c1e-8d7a-4e6f-b-file"}, []string{""}, nil,
			[]string{"blockdev-add " + fileNode, "blockdev-add " + fmtNode, device}, "", []string{key}},
		{"no free port", nil, nil, []string{"fa:16:3e:00:00:01"}, nil, nil, "no free PCIe port", []string{"fa:16:3e:00:00:01"}},
		{"started before hot-plug ports", nil, nil, nil, nil, nil, "started without hot-plug ports", nil},
		{"device refused: the nodes go again", nil, nil, []string{""}, []string{"device_add"},
			[]string{"blockdev-add " + fileNode, "blockdev-add " + fmtNode, device, delFmt, delFile}, "device_add failed", []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir()}, locks: map[string]*sync.Mutex{}}
			runningGuest(t, d, "g", tc.ports)
			file := filepath.Join(t.TempDir(), "volume")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			nodes := map[string]bool{}
			for _, n := range tc.nodes {
				nodes[n] = true
			}
			if tc.devices == nil {
				tc.devices = map[string]string{}
			}
			seen := scriptedQMP(t, d.qmpSocket("g"), diskQMP(tc.devices, nodes, true, tc.failing...))
			vol := virt.Volume{ID: testVolumeID, Path: file, Format: "qcow2", ReadOnly: true, BootIndex: -1}
			err := d.AttachVolume(context.Background(), &virt.Guest{ID: "g", Volumes: []virt.Volume{vol}}, vol)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("attach: %v, want %q", err, tc.wantErr)
			}
			var want []string
			for _, w := range tc.want {
				port := max(slices.Index(tc.wantPorts, key), 0) // a refused device leaves its port free
				w = strings.Replace(strings.Replace(w, "%s", file, 1), "%d", fmt.Sprint(port), 1)
				want = append(want, w)
			}
			if got := afterLookup(seen()); !slices.Equal(got, want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if ports, _ := d.loadPorts("g"); !slices.Equal(ports, tc.wantPorts) {
				t.Errorf("ports %q, want %q", ports, tc.wantPorts)
			}
		})
	}
}

func TestDetachVolumeQMP(t *testing.T) {
	const dev = "vdisk-3f2b9c1e-8d7a-4e6f-b"
	nodes := []string{"vol-3f2b9c1e-8d7a-4e6f-b", "vol-3f2b9c1e-8d7a-4e6f-b-file"}
	dels := []string{`blockdev-del {"node-name":"vol-3f2b9c1e-8d7a-4e6f-b"}`, `blockdev-del {"node-name":"vol-3f2b9c1e-8d7a-4e6f-b-file"}`}
	key := volumeKey(testVolumeID)
	tests := []struct {
		name      string
		devices   map[string]string
		nodes     []string
		release   bool
		want      []string
		wantErr   string
		wantPorts []string
	}{
		{"guest lets it go", map[string]string{dev: "3f2b9c1e-8d7a-4e6f-b", "vdisk-other": "other"}, nodes, true,
			append([]string{`device_del {"id":"` + dev + `"}`}, dels...), "", []string{"fa:16:3e:00:00:01", ""}},
		{"not plugged: its nodes go if left", nil, nodes[1:], true, dels, "", []string{"fa:16:3e:00:00:01", ""}},
		{"guest keeps it", map[string]string{dev: "3f2b9c1e-8d7a-4e6f-b"}, nodes, false,
			[]string{`device_del {"id":"` + dev + `"}`}, "detach volume " + testVolumeID + " from guest", []string{"fa:16:3e:00:00:01", key}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir(), DetachTimeout: 500 * time.Millisecond}, locks: map[string]*sync.Mutex{}}
			runningGuest(t, d, "g", []string{"fa:16:3e:00:00:01", key})
			have := map[string]bool{}
			for _, n := range tc.nodes {
				have[n] = true
			}
			if tc.devices == nil {
				tc.devices = map[string]string{}
			}
			seen := scriptedQMP(t, d.qmpSocket("g"), diskQMP(tc.devices, have, tc.release))
			err := d.DetachVolume(context.Background(), "g", testVolumeID)
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

// A guest without a process needs no QMP: it boots with its spec's
// volumes; a missing guest is virt.ErrNotFound; a volume without its
// file is refused.
func TestVolumesStoppedGuest(t *testing.T) {
	d := &Driver{opts: Options{DataDir: t.TempDir()}, locks: map[string]*sync.Mutex{}}
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "volume")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	vol := virt.Volume{ID: "v2", Path: file, BootIndex: -1}
	g := &virt.Guest{ID: "g", Volumes: []virt.Volume{vol}}
	if err := d.AttachVolume(ctx, g, vol); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("attach to a missing guest: %v", err)
	}
	if err := d.DetachVolume(ctx, "g", vol.ID); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("detach from a missing guest: %v", err)
	}
	if err := os.MkdirAll(d.dir("g"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir("g"), rootVolumeFile), []byte(`{"ID":"root"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.savePorts("g", []string{volumeKey("v1"), ""}); err != nil {
		t.Fatal(err)
	}
	if err := d.AttachVolume(ctx, g, vol); err != nil {
		t.Fatal(err)
	}
	if err := d.DetachVolume(ctx, "g", "v1"); err != nil {
		t.Fatal(err)
	}
	if ports, _ := d.loadPorts("g"); !slices.Equal(ports, []string{"", ""}) {
		t.Errorf("ports %q: the detached volume's port is free, the attached one takes one at boot", ports)
	}
	if err := d.AttachVolume(ctx, g, virt.Volume{ID: "v3", Path: file + ".missing"}); err == nil || !strings.Contains(err.Error(), "volume v3") {
		t.Errorf("attach of a volume without its file: %v", err)
	}
	if ids, err := d.List(ctx); err != nil || !slices.Equal(ids, []string{"g"}) {
		t.Errorf("a volume-backed guest is listed: %v, %v", ids, err)
	}
}

func TestExtendVolumeQMP(t *testing.T) {
	tests := []struct {
		name    string
		devices map[string]string
		want    []string
	}{
		{"plugged: QEMU grows it", map[string]string{"vdisk-3f2b9c1e-8d7a-4e6f-b": "3f2b9c1e-8d7a-4e6f-b"},
			[]string{`block_resize {"node-name":"vol-3f2b9c1e-8d7a-4e6f-b","size":2147483648}`}},
		{"not plugged: nothing to grow", map[string]string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: Options{DataDir: t.TempDir()}, locks: map[string]*sync.Mutex{}}
			runningGuest(t, d, "g", []string{""})
			seen := scriptedQMP(t, d.qmpSocket("g"), diskQMP(tc.devices, map[string]bool{}, true))
			if err := d.ExtendVolume(context.Background(), "g", testVolumeID, 2<<30); err != nil {
				t.Fatal(err)
			}
			if got := afterLookup(seen()); !slices.Equal(got, tc.want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
