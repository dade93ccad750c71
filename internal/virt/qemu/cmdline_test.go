package qemu

import (
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestLaunchArgs(t *testing.T) {
	base := launchSpec{ID: "u1", Accel: "tcg", VCPUs: 2, MemoryMB: 512, Dir: "/d", Disks: []string{"/d/disk.qcow2"}, QMP: "/d/qmp.sock"}
	tests := []struct {
		name    string
		mod     func(*launchSpec)
		want    []string // substrings of the joined command line
		notWant []string
	}{
		{"firmware boot", func(*launchSpec) {}, []string{"-M q35 -accel tcg", "-m 512 -smp 2", "-drive file=/d/disk.qcow2,if=virtio,format=qcow2",
			"-qmp unix:/d/qmp.sock,server=on,wait=off", "-pidfile /d/qemu.pid -daemonize", "path=/d/console.log,append=on"},
			[]string{"-kernel", "-cpu", "-no-reboot", "-incoming"}},
		{"kvm", func(s *launchSpec) { s.Accel = "kvm" }, []string{"-accel kvm -cpu max,-arch-capabilities"}, nil},
		{"direct kernel boot", func(s *launchSpec) { s.Kernel, s.Ramdisk, s.Cmdline = "/i/k", "/i/r", "console=ttyS0 quiet" },
			[]string{"-kernel /i/k -initrd /i/r -append console=ttyS0 quiet"}, nil},
		{"config drive and nic", func(s *launchSpec) {
			s.ISO, s.NICs = "/d/config.iso", []virt.NIC{{MAC: "fa:16:3e:00:00:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}}
		},
			[]string{"-drive file=/d/config.iso,if=virtio,format=raw,readonly=on",
				"-netdev user,id=net-fa163e000001,net=10.0.0.0/24,host=10.0.0.1,dns=10.0.0.254,dhcpstart=10.0.0.5 -device virtio-net-pci,id=nic-fa163e000001,netdev=net-fa163e000001,mac=fa:16:3e:00:00:01,bus=nicport0,romfile=",
				"-device pcie-root-port,id=nicport0,bus=pcie.0,chassis=1,addr=0x10.0,multifunction=on,io-reserve=0",
				"-device pcie-root-port,id=nicport8,bus=pcie.0,chassis=9,addr=0x11.0,multifunction=on,io-reserve=0"},
			[]string{"nicport9"}},
		{"nic on the subnet's last address", func(s *launchSpec) {
			s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:02", IPv4: "10.1.2.254", CIDR: "10.1.2.0/24"}}
		}, []string{"-netdev user,id=net-fa163e000002,net=10.1.2.0/24,host=10.1.2.1,dns=10.1.2.253,dhcpstart=10.1.2.254 "}, nil},
		{"nic without an address", func(s *launchSpec) { s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:03"}} },
			[]string{"-netdev user,id=net-fa163e000003 -device virtio-net-pci,id=nic-fa163e000003,netdev=net-fa163e000003,mac=fa:16:3e:00:00:03,bus=nicport0"}, nil},
		{"ssh forward on the first nic only", func(s *launchSpec) {
			s.SSHPort = 40022
			s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:04", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}, {MAC: "fa:16:3e:00:00:05"}}
		}, []string{"-netdev user,id=net-fa163e000004,net=10.0.0.0/24,host=10.0.0.1,dns=10.0.0.254,dhcpstart=10.0.0.5,hostfwd=tcp:127.0.0.1:40022-:22 -device",
			"-netdev user,id=net-fa163e000005 -device"}, []string{"id=net-fa163e000005,hostfwd"}},
		{"no ssh forward without a port", func(s *launchSpec) { s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:06"}} },
			[]string{"-netdev user,id=net-fa163e000006 -device"}, []string{"hostfwd"}},
		{"bridge networking", func(s *launchSpec) {
			s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:07", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}, {MAC: "fa:16:3e:00:00:08", IPv4: "10.0.1.5", CIDR: "10.0.1.0/24"}}
			s.Taps = []string{"kt-aaaaaaaaaaa", "kt-bbbbbbbbbbb"}
		}, []string{"-netdev tap,id=net-fa163e000007,ifname=kt-aaaaaaaaaaa,script=no,downscript=no -device virtio-net-pci,id=nic-fa163e000007,netdev=net-fa163e000007,mac=fa:16:3e:00:00:07,bus=nicport0",
			"-netdev tap,id=net-fa163e000008,ifname=kt-bbbbbbbbbbb,script=no,downscript=no -device virtio-net-pci,id=nic-fa163e000008,netdev=net-fa163e000008,mac=fa:16:3e:00:00:08,bus=nicport1"},
			[]string{"user,", "hostfwd", "dhcpstart"}},
		{"restore", func(s *launchSpec) { s.Incoming = "/d/it's.state" }, []string{`-incoming exec:cat '/d/it'\''s.state'`}, nil},
		{"nics keep their ports", func(s *launchSpec) {
			s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:09"}, {MAC: "FA:16:3E:00:00:0A"}}
			s.Ports = []string{"", "fa:16:3e:00:00:0a", "fa:16:3e:00:00:09"}
		}, []string{"mac=fa:16:3e:00:00:09,bus=nicport2", "mac=fa:16:3e:00:00:0a,bus=nicport1", "id=nicport2,"}, []string{"nicport3"}},
		{"legacy nics, to restore a guest saved before hot-plug", func(s *launchSpec) {
			s.LegacyNICs = true
			s.SSHPort = 40022
			s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:0b", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}, {MAC: "fa:16:3e:00:00:0c"}}
		}, []string{"-netdev user,id=net0,net=10.0.0.0/24,host=10.0.0.1,dns=10.0.0.254,dhcpstart=10.0.0.5,hostfwd=tcp:127.0.0.1:40022-:22 -device virtio-net-pci,netdev=net0,mac=fa:16:3e:00:00:0b,romfile=",
			"-netdev user,id=net1 -device virtio-net-pci,netdev=net1,mac=fa:16:3e:00:00:0c,romfile="}, []string{"pcie-root-port", "bus="}},
		{"rescue disk order", func(s *launchSpec) { s.Disks = []string{"/d/rescue.qcow2", "/d/disk.qcow2"} },
			[]string{"file=/d/rescue.qcow2,if=virtio,format=qcow2 -drive file=/d/disk.qcow2"}, nil},
		{"volumes in root ports", func(s *launchSpec) {
			s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:0d"}}
			s.Volumes = []virt.Volume{{ID: "0b5a1e32-5d4f-4c6e-9a7b-1c2d3e4f5a6b", Path: "/v/a", Format: "qcow2"},
				{ID: "1c6b2f43-6e5a-4d7f-8b8c-2d3e4f5a6b7c", Path: "/v/b,c", ReadOnly: true}}
			s.Ports = []string{"volume:1c6b2f43-6e5a-4d7f-8b8c-2d3e4f5a6b7c", "fa:16:3e:00:00:0d", "volume:0b5a1e32-5d4f-4c6e-9a7b-1c2d3e4f5a6b", ""}
		}, []string{
			`-blockdev {"driver":"file","filename":"/v/a","node-name":"vol-0b5a1e32-5d4f-4c6e-9-file","read-only":false} ` +
				`-blockdev {"driver":"qcow2","file":"vol-0b5a1e32-5d4f-4c6e-9-file","node-name":"vol-0b5a1e32-5d4f-4c6e-9","read-only":false} ` +
				`-device virtio-blk-pci,id=vdisk-0b5a1e32-5d4f-4c6e-9,drive=vol-0b5a1e32-5d4f-4c6e-9,serial=0b5a1e32-5d4f-4c6e-9,bus=nicport2`,
			`-blockdev {"driver":"file","filename":"/v/b,c","node-name":"vol-1c6b2f43-6e5a-4d7f-8-file","read-only":true} ` +
				`-blockdev {"driver":"raw","file":"vol-1c6b2f43-6e5a-4d7f-8-file","node-name":"vol-1c6b2f43-6e5a-4d7f-8","read-only":true} ` +
				`-device virtio-blk-pci,id=vdisk-1c6b2f43-6e5a-4d7f-8,drive=vol-1c6b2f43-6e5a-4d7f-8,serial=1c6b2f43-6e5a-4d7f-8,bus=nicport0`,
			"mac=fa:16:3e:00:00:0d,bus=nicport1", "id=nicport3,"}, []string{"nicport4"}},
		{"volume-backed root disk on the root bus, after the rescue disk", func(s *launchSpec) {
			s.Disks = []string{"/d/ephemeral.qcow2"}
			s.RootBlocks = []blockDisk{{Node: "rescue", Path: "/d/rescue.qcow2", Format: "qcow2", Device: "rescue-disk"},
				volumeDisk(virt.Volume{ID: "root-volume", Path: "/v/root", Format: "raw"}, "")}
		}, []string{`-blockdev {"driver":"file","filename":"/d/rescue.qcow2","node-name":"rescue-file","read-only":false} ` +
			`-blockdev {"driver":"qcow2","file":"rescue-file","node-name":"rescue","read-only":false} -device virtio-blk-pci,id=rescue-disk,drive=rescue ` +
			`-blockdev {"driver":"file","filename":"/v/root","node-name":"vol-root-volume-file","read-only":false} ` +
			`-blockdev {"driver":"raw","file":"vol-root-volume-file","node-name":"vol-root-volume","read-only":false} ` +
			`-device virtio-blk-pci,id=vdisk-root-volume,drive=vol-root-volume,serial=root-volume ` +
			`-drive file=/d/ephemeral.qcow2,if=virtio,format=qcow2`}, []string{"disk.qcow2", "serial=root-volume,bus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.mod(&s)
			got := strings.Join(s.args(), " ")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in %s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in %s", w, got)
				}
			}
		})
	}
}

func TestLayPorts(t *testing.T) {
	spares := func(n int) []string { return make([]string, n) }
	tests := []struct {
		name  string
		saved []string
		keys  []string
		grow  bool
		want  []string
	}{
		{"first boot", nil, []string{"a1", "a2"}, true, append([]string{"a1", "a2"}, spares(8)...)},
		{"nothing plugged", nil, nil, true, spares(8)},
		{"kept ports, a gone one freed and reused", append([]string{"a1", "a2", "a3"}, spares(8)...), []string{"a3", "a4"}, true,
			append([]string{"a4", "", "a3"}, spares(8)...)},
		{"grown to keep spares", []string{"a1", "a2"}, []string{"a1", "a2", "a3"}, true,
			append([]string{"a1", "a2", "a3"}, spares(8)...)},
		{"a restore does not grow", []string{"a1", "a2", "a3", "", ""}, []string{"a1", "a2", "a3"}, false,
			[]string{"a1", "a2", "a3", "", ""}},
		{"nics and volumes share the ports", []string{"a1", "volume:v1", "", "volume:v2"}, []string{"a1", "volume:v2", "volume:v3"}, false,
			[]string{"a1", "volume:v3", "", "volume:v2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := layPorts(tc.saved, tc.keys, tc.grow); !slices.Equal(got, tc.want) {
				t.Errorf("layPorts = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPortKeys(t *testing.T) {
	got := portKeys([]virt.NIC{{MAC: "FA:16:3E:00:00:01"}}, []virt.Volume{{ID: "v1"}})
	if want := []string{"fa:16:3e:00:00:01", "volume:v1"}; !slices.Equal(got, want) {
		t.Errorf("portKeys = %q, want %q", got, want)
	}
}
