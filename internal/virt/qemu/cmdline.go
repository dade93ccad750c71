package qemu

import (
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
	Dir      string   // instance directory
	Disks    []string // qcow2 files in boot order
	ISO      string   // config drive ("" none)
	NICs     []virt.NIC
	Kernel   string // direct kernel boot ("" firmware boot)
	Ramdisk  string
	Cmdline  string
	QMP      string // socket path
	Incoming string // state file to restore from ("" cold boot)
	// SSHPort, when set, is the 127.0.0.1 port user-mode networking
	// forwards to port 22 of the first NIC's guest address.
	SSHPort int
	// Taps, on bridge networking, are the NICs' tap devices in order
	// (qemu then runs in their namespace); without, NICs are user-mode.
	Taps []string
	// Ports are the guest's PCIe root ports, each the MAC of the NIC in
	// it or "" when free for a hot-plug (nil: nicPorts of NICs).
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
		b.WriteString(o.key + "=" + o.value)
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

// Every NIC is in a PCIe root port of its own, with spare ones for
// hot-plug: q35's root bus cannot hot-plug, a root port can (as Nova's
// libvirt driver lays a q35 guest out). The ports are functions of slots
// 0x10 to 0x1e, apart from the slots disks take from 1 on, so adding
// them moved no disk.
const (
	spareNICPorts = 4
	maxNICPorts   = 15 * 8
)

func rootPortID(i int) string { return fmt.Sprintf("nicport%d", i) }

// rootPortOptions is root port i: io-reserve=0, as virtio-net in a PCIe
// port needs no I/O space and the firmware has little.
func rootPortOptions(i int) []option {
	opts := []option{{"type", "pcie-root-port"}, {"id", rootPortID(i)}, {"bus", "pcie.0"}, {"chassis", fmt.Sprint(i + 1)},
		{"addr", fmt.Sprintf("0x%x.%d", 0x10+i/8, i%8)}}
	if i%8 == 0 {
		opts = append(opts, option{"multifunction", "on"})
	}
	return append(opts, option{"io-reserve", "0"})
}

// nicPorts lays nics out in root ports: each NIC keeps the port saved
// gives it, others take the first free one; when grow, ports are added
// until spareNICPorts are free (a restore from saved state, which must
// find the devices it saved, does not grow).
func nicPorts(saved []string, nics []virt.NIC, grow bool) []string {
	want := map[string]bool{}
	for _, n := range nics {
		want[strings.ToLower(n.MAC)] = true
	}
	ports := make([]string, len(saved))
	for i, mac := range saved {
		if want[mac] && !slices.Contains(ports, mac) {
			ports[i] = mac
		}
	}
	for _, n := range nics {
		mac := strings.ToLower(n.MAC)
		if slices.Contains(ports, mac) {
			continue
		}
		if i := slices.Index(ports, ""); i >= 0 {
			ports[i] = mac
		} else {
			ports = append(ports, mac)
		}
	}
	for grow && len(ports) < maxNICPorts && len(ports)-len(nics) < spareNICPorts {
		ports = append(ports, "")
	}
	return ports
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
// daemonized with a pid file, the serial console appended to a log.
func (s launchSpec) args() []string {
	a := []string{"-name", "guest=" + s.ID, "-M", "q35", "-accel", s.Accel}
	if s.Accel == "kvm" {
		a = append(a, "-cpu", "max,-arch-capabilities") // -cpu host aborts on nested hosts
	}
	a = append(a, "-m", fmt.Sprint(max(s.MemoryMB, 64)), "-smp", fmt.Sprint(max(s.VCPUs, 1)),
		"-nographic", "-nodefaults",
		"-chardev", "file,id=serial0,path="+s.Dir+"/console.log,append=on", "-serial", "chardev:serial0")
	for _, d := range s.Disks {
		a = append(a, "-drive", "file="+d+",if=virtio,format=qcow2")
	}
	if s.ISO != "" {
		a = append(a, "-drive", "file="+s.ISO+",if=virtio,format=raw,readonly=on")
	}
	ports := s.Ports
	if ports == nil && !s.LegacyNICs {
		ports = nicPorts(nil, s.NICs, true)
	}
	for i := range ports {
		a = append(a, "-device", joinOptions(rootPortOptions(i)))
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
		device := nicDeviceOptions(n, slices.Index(ports, strings.ToLower(n.MAC)))
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
	}
	return append(a, "-qmp", "unix:"+s.QMP+",server=on,wait=off", "-pidfile", s.Dir+"/qemu.pid", "-daemonize")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
