package qemu

import (
	"fmt"
	"strings"
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
	MACs     []string
	Kernel   string // direct kernel boot ("" firmware boot)
	Ramdisk  string
	Cmdline  string
	QMP      string // socket path
	Incoming string // state file to restore from ("" cold boot)
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
	for i, mac := range s.MACs {
		a = append(a, "-netdev", fmt.Sprintf("user,id=net%d", i),
			"-device", fmt.Sprintf("virtio-net-pci,netdev=net%d,mac=%s,romfile=", i, mac))
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
