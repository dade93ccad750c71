package qemu

// NIC hot-plug: QMP netdev_add and device_add into a free PCIe root port,
// device_del (the guest lets the device go, DEVICE_DELETED) and
// netdev_del. Which port holds which NIC is kept in the instance dir, so
// a NIC keeps its port across boots and a restore from saved state finds
// the layout it saved.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// portsFile keeps the guest's root ports (layPorts' layout), NICs' and
// volumes' (volumes.go) both; its name is from when only NICs had ports.
const portsFile = "nic-ports.json"

func (d *Driver) loadPorts(id string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(d.dir(id), portsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nic ports of %s: %w", id, err)
	}
	var ports []string
	if err := json.Unmarshal(b, &ports); err != nil {
		return nil, fmt.Errorf("nic ports of %s: %w", id, err)
	}
	return ports, nil
}

func (d *Driver) savePorts(id string, ports []string) error {
	b, err := json.Marshal(ports)
	if err != nil {
		return err
	}
	p := filepath.Join(d.dir(id), portsFile)
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("nic ports of %s: %w", id, err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("nic ports of %s: %w", id, err)
	}
	return nil
}

// qmpArgs is opts as QMP arguments (netdev_add, device_add take the
// command line's keys; device_add names the type "driver").
func qmpArgs(opts []option) map[string]any {
	args := make(map[string]any, len(opts))
	for _, o := range opts {
		switch {
		case o.key == "type" && strings.HasPrefix(o.value, "virtio-"):
			args["driver"] = o.value
		case o.key == "hostfwd":
			args[o.key] = []map[string]string{{"str": o.value}}
		default:
			args[o.key] = o.value
		}
	}
	return args
}

// AttachInterface implements virt.Driver: on a running guest, a tap (on
// bridge networking), the NIC's netdev and a virtio-net-pci device in the
// first free root port; a guest without a process boots with its spec's
// NICs, which list this one.
func (d *Driver) AttachInterface(ctx context.Context, g *virt.Guest, nic virt.NIC) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if _, ok := d.pid(g.ID); !ok {
		return nil
	}
	mac := strings.ToLower(nic.MAC)
	ports, err := d.loadPorts(g.ID)
	if err != nil {
		return err
	}
	if ports == nil {
		return fmt.Errorf("guest %s was started without hot-plug ports: stop and start it to attach interfaces", g.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	q, err := qmpOpen(ctx, d.qmpSocket(g.ID))
	if err != nil {
		return err
	}
	defer q.Close()
	if path, _, err := findNIC(q, mac); err != nil {
		return err
	} else if path != "" {
		return nil // plugged before (a retried attach)
	}
	port := slices.Index(ports, mac)
	if port < 0 {
		if port = slices.Index(ports, ""); port < 0 {
			return fmt.Errorf("guest %s has no free PCIe port for another NIC (%d in use): stop and start it to get more", g.ID, len(ports))
		}
	}
	var tap string
	if d.net != nil {
		if tap, err = d.net.PlugNIC(ctx, g.ID, nic); err != nil {
			return err
		}
	}
	if err := q.call("netdev_add", qmpArgs(netdevOptions(nic, tap, 0)), nil); err != nil && !strings.Contains(err.Error(), "Duplicate") {
		return d.unplugTap(ctx, g.ID, mac, err)
	}
	if err := q.call("device_add", qmpArgs(nicDeviceOptions(nic, port)), nil); err != nil {
		_ = q.call("netdev_del", map[string]string{"id": netdevID(mac)}, nil)
		return d.unplugTap(ctx, g.ID, mac, err)
	}
	ports[port] = mac
	return d.savePorts(g.ID, ports)
}

// unplugTap undoes a failed hot-plug's tap and returns its error.
func (d *Driver) unplugTap(ctx context.Context, id, mac string, err error) error {
	if d.net != nil {
		if uerr := d.net.UnplugNIC(ctx, id, mac); uerr != nil {
			return errors.Join(err, uerr)
		}
	}
	return err
}

// DetachInterface implements virt.Driver: on a running guest, device_del
// and, once the guest has let the device go, netdev_del; then its tap
// (bridge networking, also of a guest without a process) and its port.
func (d *Driver) DetachInterface(ctx context.Context, id, mac string) error {
	defer d.lock(id)()
	if err := d.guestExists(id); err != nil {
		return err
	}
	mac = strings.ToLower(mac)
	if _, ok := d.pid(id); ok {
		if err := d.unplugDevice(ctx, id, mac); err != nil {
			return err
		}
	}
	if d.net != nil {
		if err := d.net.UnplugNIC(ctx, id, mac); err != nil {
			return err
		}
	}
	return d.freePort(id, mac)
}

// freePort frees the root port of guest id that holds key (a NIC's MAC,
// a volume's volumeKey); a key holding none is done.
func (d *Driver) freePort(id, key string) error {
	ports, err := d.loadPorts(id)
	if err != nil {
		return err
	}
	if i := slices.Index(ports, key); i >= 0 {
		ports[i] = ""
		return d.savePorts(id, ports)
	}
	return nil
}

// unplugDevice asks the running guest to let NIC mac go and waits for
// QEMU's DEVICE_DELETED (up to Options.DetachTimeout), then removes its
// netdev. A NIC the guest does not have is done.
func (d *Driver) unplugDevice(ctx context.Context, id, mac string) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.DetachTimeout)
	defer cancel()
	q, err := qmpOpen(ctx, d.qmpSocket(id))
	if err != nil {
		return err
	}
	defer q.Close()
	path, netdev, err := findNIC(q, mac)
	if err != nil {
		return err
	}
	if path == "" {
		netdev = netdevID(mac)
	} else {
		if err := q.unplug(path, path); err != nil {
			return fmt.Errorf("detach NIC %s from guest %s (waited up to %v): %w", mac, id, d.opts.DetachTimeout, err)
		}
	}
	if netdev == "" {
		return nil
	}
	if err := q.call("netdev_del", map[string]string{"id": netdev}, nil); err != nil && !strings.Contains(err.Error(), "not found") {
		return err
	}
	return nil
}

// nicDevice is one virtio-net-pci device of a running guest.
type nicDevice struct{ path, mac string }

// nicDevices lists the guest's virtio-net-pci devices, named or not
// (those of older builds are anonymous).
func nicDevices(q *qmpSession) ([]nicDevice, error) {
	var out []nicDevice
	for _, parent := range []string{"/machine/peripheral", "/machine/peripheral-anon"} {
		var children []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		}
		if err := q.call("qom-list", map[string]string{"path": parent}, &children); err != nil {
			return nil, err
		}
		for _, c := range children {
			if c.Type != "child<virtio-net-pci>" {
				continue
			}
			n := nicDevice{path: parent + "/" + c.Name}
			if err := q.call("qom-get", map[string]string{"path": n.path, "property": "mac"}, &n.mac); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// findNIC returns the QOM path and netdev of the guest's NIC with MAC
// mac ("" when there is none).
func findNIC(q *qmpSession, mac string) (path, netdev string, err error) {
	nics, err := nicDevices(q)
	if err != nil {
		return "", "", err
	}
	for _, n := range nics {
		if strings.EqualFold(n.mac, mac) {
			_ = q.call("qom-get", map[string]string{"path": n.path, "property": "netdev"}, &netdev)
			return n.path, netdev, nil
		}
	}
	return "", "", nil
}

// guestMACs are the MACs of the running guest's NICs (none without a
// process).
func (d *Driver) guestMACs(ctx context.Context, id string) ([]string, error) {
	defer d.lock(id)()
	var macs []string
	err := d.onRunningGuest(ctx, id, func(q *qmpSession) error {
		nics, err := nicDevices(q)
		for _, n := range nics {
			macs = append(macs, strings.ToLower(n.mac))
		}
		return err
	})
	return macs, err
}
