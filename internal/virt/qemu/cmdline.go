package qemu

import (
	"fmt"
	"net/netip"
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
}

// slirpAddressing makes QEMU's user-mode network hand the guest its
// fixed address from kumo: the NIC's subnet with the gateway (.1) as
// QEMU's host side, the address as the first and only DHCP lease, and the
// DNS forwarder on the subnet's last address (QEMU wants host, DNS and
// DHCP apart; kumo hands out neither .1 nor, unless the subnet is full,
// the last address). Without an IPv4 address and subnet QEMU's defaults
// stay.
func slirpAddressing(n virt.NIC) string {
	addr, err := netip.ParseAddr(n.IPv4)
	if err != nil {
		return ""
	}
	subnet, err := netip.ParsePrefix(n.CIDR)
	if err != nil || !subnet.Contains(addr) || subnet.Bits() > 29 {
		return ""
	}
	subnet = subnet.Masked()
	gateway := subnet.Addr().Next()
	dns := lastHost(subnet)
	if dns == addr {
		dns = dns.Prev()
	}
	if addr == gateway || dns == gateway {
		return ""
	}
	return fmt.Sprintf(",net=%s,host=%s,dns=%s,dhcpstart=%s", subnet, gateway, dns, addr)
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
	for i, n := range s.NICs {
		netdev := fmt.Sprintf("user,id=net%d", i) + slirpAddressing(n)
		switch {
		case i < len(s.Taps):
			netdev = fmt.Sprintf("tap,id=net%d,ifname=%s,script=no,downscript=no", i, s.Taps[i])
		case i == 0 && s.SSHPort > 0:
			netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:22", s.SSHPort)
		}
		a = append(a, "-netdev", netdev,
			"-device", fmt.Sprintf("virtio-net-pci,netdev=net%d,mac=%s,romfile=", i, n.MAC))
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
