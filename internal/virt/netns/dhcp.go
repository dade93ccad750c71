package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveDHCP makes bridge br's dnsmasq match ports: when no port is on
// br, the dnsmasq is stopped and the bridge deleted; else it runs with a
// fixed lease per port, started anew when restart (its leases changed:
// the new set is on its command line, and a restart also forgets leases
// of MACs that are gone, which would hold their addresses) or when it is
// not running.
func (n *Namespace) serveDHCP(ctx context.Context, br string, ports []Port, restart bool) error {
	var on []Port
	for _, p := range ports {
		if p.Bridge == br {
			on = append(on, p)
		}
	}
	pidFile := filepath.Join(n.dir, br+".pid")
	pid, running := n.dnsmasqPID(br)
	if running && (restart || len(on) == 0) {
		if err := stopProcess(ctx, pid, pidFile); err != nil {
			return fmt.Errorf("stop dnsmasq of %s: %w", br, err)
		}
		running = false
	}
	if len(on) == 0 {
		_ = os.Remove(pidFile)
		return n.deleteLink(ctx, br)
	}
	if running {
		return nil
	}
	args, err := dnsmasqArgs(br, on, pidFile, filepath.Join(n.dir, br+".log"))
	if err != nil {
		return err
	}
	_ = os.Remove(pidFile)
	cmd := n.Command(ctx, n.dnsmasq, args...) // it daemonizes: kumo can stop, leases go on
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("start dnsmasq on %s: %v: %s", br, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// dnsmasqArgs configure a DHCP server on bridge br that leases each port
// its fixed address and nothing else: no DNS, no router, no other
// address, no lease file (leases last an hour; guests keep their address).
func dnsmasqArgs(br string, ports []Port, pidFile, logFile string) ([]string, error) {
	subnet, err := netip.ParsePrefix(ports[0].CIDR)
	if err != nil {
		return nil, fmt.Errorf("bridge %s: %w", br, err)
	}
	mask := net.IP(net.CIDRMask(subnet.Bits(), 32)).String()
	args := []string{"--conf-file=/dev/null", "--port=0", "--interface=" + br, "--bind-interfaces",
		"--dhcp-range=" + subnet.Masked().Addr().String() + ",static," + mask + ",1h",
		"--dhcp-option=3", "--dhcp-option=6", "--dhcp-authoritative", "--leasefile-ro",
		"--pid-file=" + pidFile, "--log-facility=" + logFile}
	for _, p := range ports {
		args = append(args, "--dhcp-host="+p.MAC+","+p.IPv4)
	}
	return args, nil
}

// dnsmasqPID is the pid of bridge br's dnsmasq when it runs: its pid
// file names a live process whose command line has that pid file (a
// reused pid is not mistaken for it).
func (n *Namespace) dnsmasqPID(br string) (int, bool) {
	pidFile := filepath.Join(n.dir, br+".pid")
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
