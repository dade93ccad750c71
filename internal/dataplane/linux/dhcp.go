package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dhcpConf is what one domain link's dnsmasq hands out: each lease's
// fixed address, the subnet's gateway as router, its DNS servers and
// host routes.
type dhcpConf struct {
	cidr    string // 10.0.0.0/24
	gateway string // "" when the subnet has none
	dns     []string
	routes  [][2]string // destination, next hop
	leases  [][2]string // MAC, address
}

// dnsmasqArgs configure a DHCP server on dev that leases each MAC its
// fixed address and nothing else: no DNS service of its own, no other
// address, no lease file (leases last an hour; guests keep their
// address).
func dnsmasqArgs(dev string, c dhcpConf, pidFile, logFile string) ([]string, error) {
	subnet, err := netip.ParsePrefix(c.cidr)
	if err != nil || !subnet.Addr().Is4() {
		return nil, fmt.Errorf("dhcp on %s: bad subnet %q", dev, c.cidr)
	}
	mask := net.IP(net.CIDRMask(subnet.Bits(), 32)).String()
	args := []string{"--conf-file=/dev/null", "--port=0", "--interface=" + dev, "--bind-interfaces",
		"--dhcp-range=" + subnet.Masked().Addr().String() + ",static," + mask + ",1h",
		"--dhcp-authoritative", "--leasefile-ro", "--pid-file=" + pidFile, "--log-facility=" + logFile}
	if gw, err := netip.ParseAddr(c.gateway); err == nil && gw.Is4() {
		args = append(args, "--dhcp-option=3,"+gw.String())
	} else {
		args = append(args, "--dhcp-option=3")
	}
	var dns []string
	for _, d := range c.dns {
		if a, err := netip.ParseAddr(d); err == nil && a.Is4() {
			dns = append(dns, a.String())
		}
	}
	if len(dns) > 0 {
		args = append(args, "--dhcp-option=6,"+strings.Join(dns, ","))
	} else {
		args = append(args, "--dhcp-option=6")
	}
	// Host routes as classless static routes (option 121); a client that
	// takes them ignores option 3, so the default route goes with them.
	var routes []string
	for _, r := range c.routes {
		dst, err1 := netip.ParsePrefix(r[0])
		hop, err2 := netip.ParseAddr(r[1])
		if err1 == nil && err2 == nil && dst.Addr().Is4() && hop.Is4() {
			routes = append(routes, dst.Masked().String(), hop.String())
		}
	}
	if len(routes) > 0 {
		if gw, err := netip.ParseAddr(c.gateway); err == nil && gw.Is4() {
			routes = append(routes, "0.0.0.0/0", gw.String())
		}
		args = append(args, "--dhcp-option=121,"+strings.Join(routes, ","))
	}
	leases := slices.Clone(c.leases)
	slices.SortFunc(leases, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	for _, l := range leases {
		mac, err1 := net.ParseMAC(l[0])
		ip, err2 := netip.ParseAddr(l[1])
		if err1 != nil || err2 != nil || !subnet.Contains(ip) {
			continue
		}
		args = append(args, "--dhcp-host="+mac.String()+","+ip.String())
	}
	return args, nil
}

// serveDHCP makes the dnsmasq of dev in namespace ns match conf: stopped
// when conf is nil; else running with conf's arguments, started anew when
// its command line differs (its leases changed) or it does not run.
func (a *Applier) serveDHCP(ctx context.Context, ns, dev string, conf *dhcpConf) error {
	pidFile := filepath.Join(a.dir, ns+"."+dev+".pid")
	pid, running := dnsmasqPID(pidFile)
	if conf == nil {
		if running {
			if err := stopProcess(ctx, pid, pidFile); err != nil {
				return fmt.Errorf("stop dnsmasq of %s in %s: %w", dev, ns, err)
			}
		}
		_ = os.Remove(pidFile)
		return nil
	}
	args, err := dnsmasqArgs(dev, *conf, pidFile, filepath.Join(a.dir, ns+"."+dev+".log"))
	if err != nil {
		return err
	}
	if running {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if string(cmdline) == strings.Join(append([]string{a.dnsmasq}, args...), "\x00")+"\x00" {
			return nil
		}
		if err := stopProcess(ctx, pid, pidFile); err != nil {
			return fmt.Errorf("stop dnsmasq of %s in %s: %w", dev, ns, err)
		}
	}
	_ = os.Remove(pidFile)
	// dnsmasq daemonizes: kumo can stop, leases go on.
	cmd := exec.CommandContext(ctx, a.ipBin, append([]string{"netns", "exec", ns, a.dnsmasq}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("start dnsmasq on %s in %s: %v: %s", dev, ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// stopDHCPIn stops every dnsmasq kumo runs in namespace ns.
func (a *Applier) stopDHCPIn(ctx context.Context, ns string) error {
	pidFiles, err := filepath.Glob(filepath.Join(a.dir, ns+".*.pid"))
	if err != nil {
		return err
	}
	for _, f := range pidFiles {
		if pid, ok := dnsmasqPID(f); ok {
			if err := stopProcess(ctx, pid, f); err != nil {
				return fmt.Errorf("stop dnsmasq %s: %w", f, err)
			}
		}
		_ = os.Remove(f)
	}
	return nil
}

// dnsmasqPID is the pid of the dnsmasq of pidFile when it runs: its pid
// file names a live process whose command line has that pid file (a
// reused pid is not mistaken for it).
func dnsmasqPID(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid, "--pid-file="+pidFile)
}

// alive reports whether process pid runs (not a zombie) with marker in
// its command line.
func alive(pid int, marker string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	return len(f) == 0 || f[0] != "Z"
}

// stopProcess ends the process pid whose command line has pidFile:
// SIGTERM, then SIGKILL after 5 s.
func stopProcess(ctx context.Context, pid int, pidFile string) error {
	marker := "--pid-file=" + pidFile
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			if !alive(pid, marker) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return fmt.Errorf("process %d does not exit", pid)
}
