package qemu

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/virt"
)

// launchSpec is everything one qemu command line is built from.
type launchSpec struct {
	ID       string
	Accel    string // "tcg" or "kvm"
	VCPUs    int
	MemoryMB int
	Dir      string // instance directory
	// RootBlocks are the disks on the root bus given as -blockdev (a
	// volume-backed guest's root volume, after the rescue disk while
	// rescued), in boot order: QEMU makes their devices before the
	// -drive ones, so they take the first slots and boot.
	RootBlocks []blockDisk
	Disks      []string // qcow2 files in boot order, after RootBlocks
	ISO        string   // config drive ("" none)
	// Volumes are the guest's volumes other than its root disk, each in
	// the root port Ports gives it, so each can be unplugged.
	Volumes []virt.Volume
	NICs    []virt.NIC
	Kernel  string // direct kernel boot ("" firmware boot)
	Ramdisk string
	Cmdline string
	QMP     string // socket path
	// Serial and VNC are the sockets of the guest's serial console (its
	// bytes still appended to console.log) and its screen's VNC server;
	// "" keeps the serial port a plain log and the guest without a screen.
	Serial, VNC string
	Incoming    string // state file to restore from ("" cold boot)
	// AwaitMigration starts the guest paused, waiting for a live
	// migration's state (QMP migrate-incoming), and paused after it.
	AwaitMigration bool
	// SSHPort, when set, is the 127.0.0.1 port user-mode networking
	// forwards to port 22 of the first NIC's guest address.
	SSHPort int
	// Taps, on bridge networking, are the NICs' tap devices in order
	// (qemu then runs in their namespace); without, NICs are user-mode.
	Taps []string
	// Ports are the guest's PCIe root ports, each the portKey of the
	// NIC or volume in it or "" when free for a hot-plug (nil: layPorts
	// of the NICs and Volumes).
	Ports []string
	// LegacyNICs lays the NICs out as kumo did before hot-plug (on the
	// root bus, netdevs net0, net1, ...): a guest saved then must be
	// restored into the devices it was saved from.
	LegacyNICs bool
}

// slirpAddressing makes QEMU's user-mode network hand the guest its
// fixed address from kumo: the NIC's subnet with the gateway (.1) as
// QEMU's host side, the address as the first and only DHCP lease, and the
// DNS forwarder on the subnet's last address (QEMU wants host, DNS and
// DHCP apart; kumo hands out neither .1 nor, unless the subnet is full,
// the last address). Without an IPv4 address and subnet QEMU's defaults
// stay.
func slirpAddressing(n virt.NIC) []option {
	addr, err := netip.ParseAddr(n.IPv4)
	if err != nil {
		return nil
	}
	subnet, err := netip.ParsePrefix(n.CIDR)
	if err != nil || !subnet.Contains(addr) || subnet.Bits() > 29 {
		return nil
	}
	subnet = subnet.Masked()
	gateway := subnet.Addr().Next()
	dns := lastHost(subnet)
	if dns == addr {
		dns = dns.Prev()
	}
	if addr == gateway || dns == gateway {
		return nil
	}
	return []option{{"net", subnet.String()}, {"host", gateway.String()}, {"dns", dns.String()}, {"dhcpstart", addr.String()}}
}

// option is one key=value of a -netdev or -device.
type option struct{ key, value string }

// joinOptions is opts as a command line writes them (type first).
func joinOptions(opts []option) string {
	var b strings.Builder
	for i, o := range opts {
		if i > 0 {
			b.WriteByte(',')
		}
		if o.key == "type" {
			b.WriteString(o.value)
			continue
		}
		b.WriteString(o.key + "=" + strings.ReplaceAll(o.value, ",", ",,"))
	}
	return b.String()
}

// netdevOptions are the backend options of NIC n: a tap on bridge
// networking, else user-mode with kumo's addressing (and the SSH forward
// when sshPort is set). The command line and QMP's netdev_add (hot-plug)
// are given the same.
func netdevOptions(n virt.NIC, tap string, sshPort int) []option {
	id := netdevID(n.MAC)
	if tap != "" {
		return []option{{"type", "tap"}, {"id", id}, {"ifname", tap}, {"script", "no"}, {"downscript", "no"}}
	}
	opts := append([]option{{"type", "user"}, {"id", id}}, slirpAddressing(n)...)
	if sshPort > 0 {
		opts = append(opts, option{"hostfwd", fmt.Sprintf("tcp:127.0.0.1:%d-:22", sshPort)})
	}
	return opts
}

// nicDeviceOptions are the virtio-net-pci options of NIC n in root port
// port (no option ROM: kumo's guests do not boot from the network).
func nicDeviceOptions(n virt.NIC, port int) []option {
	return []option{{"type", "virtio-net-pci"}, {"id", nicID(n.MAC)}, {"netdev", netdevID(n.MAC)},
		{"mac", strings.ToLower(n.MAC)}, {"bus", rootPortID(port)}, {"romfile", ""}}
}

// netdevID and nicID name a NIC's backend and device by its MAC, so a
// detach finds them.
func netdevID(mac string) string { return "net-" + macHex(mac) }
func nicID(mac string) string    { return "nic-" + macHex(mac) }

func macHex(mac string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			return r
		case r >= 'A' && r <= 'F':
			return r + 'a' - 'A'
		}
		return -1
	}, mac)
}

// Every NIC and every volume but a root disk is in a PCIe root port of
// its own, with spare ones for hot-plug: q35's root bus cannot hot-plug,
// a root port can (as Nova's libvirt driver lays a q35 guest out). The
// ports are functions of slots 0x10 to 0x1e, apart from the slots disks
// take from 1 on, so adding them moved no disk. Their ids keep the name
// they had when only NICs had ports: a guest saved then is restored into
// the ports it was saved with.
const (
	sparePorts = 8
	maxPorts   = 15 * 8
)

func rootPortID(i int) string { return fmt.Sprintf("nicport%d", i) }

// rootPortOptions is root port i: io-reserve=0, as virtio-net and
// virtio-blk in a PCIe port need no I/O space and the firmware has little.
func rootPortOptions(i int) []option {
	opts := []option{{"type", "pcie-root-port"}, {"id", rootPortID(i)}, {"bus", "pcie.0"}, {"chassis", fmt.Sprint(i + 1)},
		{"addr", fmt.Sprintf("0x%x.%d", 0x10+i/8, i%8)}}
	if i%8 == 0 {
		opts = append(opts, option{"multifunction", "on"})
	}
	return append(opts, option{"io-reserve", "0"})
}

// nicKey and volumeKey are what the ports file says is in a port: a
// NIC's MAC, lower case (as before volumes had ports), or "volume:" and
// a volume's id.
func nicKey(mac string) string      { return strings.ToLower(mac) }
func volumeKey(id string) string    { return "volume:" + id }
func isVolumeKey(key string) bool   { return strings.HasPrefix(key, "volume:") }
func volumeOfKey(key string) string { return strings.TrimPrefix(key, "volume:") }

// portKeys are the keys of everything of g's that takes a root port:
// its NICs, then its volumes but the root disk.
func portKeys(nics []virt.NIC, vols []virt.Volume) []string {
	keys := make([]string, 0, len(nics)+len(vols))
	for _, n := range nics {
		keys = append(keys, nicKey(n.MAC))
	}
	for _, v := range vols {
		keys = append(keys, volumeKey(v.ID))
	}
	return keys
}

// layPorts lays keys (portKeys) out in root ports: each keeps the port
// saved gives it, others take the first free one; when grow, ports are
// added until sparePorts are free (a restore from saved state, which
// must find the devices it saved, does not grow).
func layPorts(saved []string, keys []string, grow bool) []string {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	ports := make([]string, len(saved))
	for i, k := range saved {
		if want[k] && !slices.Contains(ports, k) {
			ports[i] = k
		}
	}
	for _, k := range keys {
		if slices.Contains(ports, k) {
			continue
		}
		if i := slices.Index(ports, ""); i >= 0 {
			ports[i] = k
		} else {
			ports = append(ports, k)
		}
	}
	for grow && len(ports) < maxPorts && len(ports)-len(keys) < sparePorts {
		ports = append(ports, "")
	}
	return ports
}

// blockDisk is one disk given as -blockdev (a file node and a format node
// on it) and a virtio-blk-pci device: volumes, which have a serial and
// may be unplugged, and the disks of a volume-backed guest's root bus.
type blockDisk struct {
	Node     string // the format node; the file node is Node+"-file"
	Path     string
	Format   string // "raw" or "qcow2"
	ReadOnly bool
	Device   string // the device's id
	Serial   string // "" none
	Bus      string // a root port's id; "" the root bus
}

// volumeDisk is volume v as a disk in the root port with id bus ("" the
// root bus). Its node names are at most 31 characters, as QEMU wants:
// they are made from the serial, the volume id's first 20 characters.
func volumeDisk(v virt.Volume, bus string) blockDisk {
	format := v.Format
	if format == "" {
		format = "raw"
	}
	return blockDisk{Node: volumeNode(v.ID), Path: v.Path, Format: format, ReadOnly: v.ReadOnly,
		Device: volumeDeviceID(v.ID), Serial: virt.VolumeSerial(v.ID), Bus: bus}
}

func volumeNode(id string) string     { return "vol-" + qomSafe(virt.VolumeSerial(id)) }
func volumeDeviceID(id string) string { return "vdisk-" + qomSafe(virt.VolumeSerial(id)) }

// qomSafe keeps the characters QEMU allows in ids and node names.
func qomSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_', r == '.':
			return r
		}
		return -1
	}, s)
}

// blockdevs are the blockdev-add arguments of disk b: its file node,
// then its format node on it.
func (b blockDisk) blockdevs() []map[string]any {
	return []map[string]any{
		{"driver": "file", "node-name": b.Node + "-file", "filename": b.Path, "read-only": b.ReadOnly},
		{"driver": b.Format, "node-name": b.Node, "file": b.Node + "-file", "read-only": b.ReadOnly},
	}
}

// deviceOptions are the virtio-blk-pci options of disk b.
func (b blockDisk) deviceOptions() []option {
	opts := []option{{"type", "virtio-blk-pci"}, {"id", b.Device}, {"drive", b.Node}}
	if b.Serial != "" {
		opts = append(opts, option{"serial", b.Serial})
	}
	if b.Bus != "" {
		opts = append(opts, option{"bus", b.Bus})
	}
	return opts
}

// args is disk b on the command line (-blockdev in JSON, which needs no
// escaping of the file name).
func (b blockDisk) args() []string {
	var a []string
	for _, n := range b.blockdevs() {
		j, _ := json.Marshal(n) // strings and bools only
		a = append(a, "-blockdev", string(j))
	}
	return append(a, "-device", joinOptions(b.deviceOptions()))
}

// lastHost is the subnet's last address before broadcast.
func lastHost(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	hostBits := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (1<<hostBits - 1)
	v-- // broadcast
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// args is the qemu-system-x86_64 command line for s: q35 (microvm hangs
// under TCG here), no -no-reboot (it turns system_reset into an exit),
// daemonized with a pid file, the serial console appended to a log
// (through a socket a console client may connect to, one at a time),
// the screen a VGA device behind a VNC server on a unix socket.
func (s launchSpec) args() []string {
	a := []string{"-name", "guest=" + s.ID, "-M", "q35", "-accel", s.Accel}
	if s.Accel == "kvm" {
		a = append(a, "-cpu", "max,-arch-capabilities") // -cpu host aborts on nested hosts
	}
	a = append(a, "-m", fmt.Sprint(max(s.MemoryMB, 64)), "-smp", fmt.Sprint(max(s.VCPUs, 1)),
		"-nographic", "-nodefaults")
	if s.Serial != "" {
		a = append(a, "-chardev", "socket,id=serial0,path="+s.Serial+",server=on,wait=off,logfile="+s.Dir+"/console.log,logappend=on")
	} else {
		a = append(a, "-chardev", "file,id=serial0,path="+s.Dir+"/console.log,append=on")
	}
	a = append(a, "-serial", "chardev:serial0")
	for _, b := range s.RootBlocks {
		a = append(a, b.args()...)
	}
	for _, d := range s.Disks {
		a = append(a, "-drive", "file="+d+",if=virtio,format=qcow2")
	}
	if s.ISO != "" {
		a = append(a, "-drive", "file="+s.ISO+",if=virtio,format=raw,readonly=on")
	}
	ports := s.Ports
	if ports == nil && !s.LegacyNICs {
		ports = layPorts(nil, portKeys(s.NICs, s.Volumes), true)
	}
	for i := range ports {
		a = append(a, "-device", joinOptions(rootPortOptions(i)))
	}
	for _, v := range s.Volumes {
		if i := slices.Index(ports, volumeKey(v.ID)); i >= 0 {
			a = append(a, volumeDisk(v, rootPortID(i)).args()...)
		}
	}
	for i, n := range s.NICs {
		var tap string
		if i < len(s.Taps) {
			tap = s.Taps[i]
		}
		sshPort := 0
		if i == 0 {
			sshPort = s.SSHPort
		}
		netdev := netdevOptions(n, tap, sshPort)
		device := nicDeviceOptions(n, slices.Index(ports, nicKey(n.MAC)))
		if s.LegacyNICs {
			id := fmt.Sprintf("net%d", i)
			for j := range netdev {
				if netdev[j].key == "id" {
					netdev[j].value = id
				}
			}
			device = []option{{"type", "virtio-net-pci"}, {"netdev", id}, {"mac", n.MAC}, {"romfile", ""}}
		}
		a = append(a, "-netdev", joinOptions(netdev), "-device", joinOptions(device))
	}
	if s.Kernel != "" {
		a = append(a, "-kernel", s.Kernel)
		if s.Ramdisk != "" {
			a = append(a, "-initrd", s.Ramdisk)
		}
		if s.Cmdline != "" {
			a = append(a, "-append", s.Cmdline)
		}
	}
	if s.Incoming != "" {
		a = append(a, "-incoming", "exec:cat "+shellQuote(s.Incoming))
	} else if s.AwaitMigration {
		a = append(a, "-S", "-incoming", "defer")
	}
	if s.VNC != "" {
		// Last, so the VGA device takes a slot after every other device's.
		a = append(a, "-device", "VGA", "-vnc", "unix:"+s.VNC)
	}
	return append(a, "-qmp", "unix:"+s.QMP+",server=on,wait=off", "-pidfile", s.Dir+"/qemu.pid", "-daemonize")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
