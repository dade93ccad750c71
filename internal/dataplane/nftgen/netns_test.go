package nftgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers of the root-only tests: throwaway network namespaces, commands
// and sockets inside them.

// needNet skips a test that needs root, ip and nft, or fails it when
// KUMO_TEST_REQUIRE_NET=1 says they must be there.
func needNet(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	}
	for _, bin := range []string{"ip", "nft", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil && why == "" {
			why = bin + " not installed (apt-get install iproute2 nftables util-linux)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("KUMO_TEST_REQUIRE_NET") == "1" {
		t.Fatalf("%s (KUMO_TEST_REQUIRE_NET=1)", why)
	}
	t.Skip(why)
}

// checkScript has nft check a script (nft -c: parsed and tried by the
// kernel in a transaction that is then aborted) in a namespace of its
// own; without root or nft it does nothing unless KUMO_TEST_REQUIRE_NET=1.
func checkScript(t *testing.T, text string) {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("KUMO_TEST_REQUIRE_NET") != "1" {
		return
	}
	for _, bin := range []string{"nft", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil && os.Getenv("KUMO_TEST_REQUIRE_NET") != "1" {
			return
		}
	}
	cmd := exec.Command("unshare", "--net", "nft", "-c", "-f", "-")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("nft -c -f: %v\n%s\nscript:\n%s", err, out, numbered(text))
	}
}

// numbered prefixes lines with their numbers, as nft's errors name them.
func numbered(text string) string {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fmt.Fprintf(&b, "%3d %s\n", i+1, l)
	}
	return b.String()
}

// run runs a command and fails the test when it fails.
func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// apply loads a script into a namespace.
func apply(t *testing.T, ns, text string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -f in %s: %v\n%s\nscript:\n%s", ns, err, out, numbered(text))
	}
}

// newNS makes a namespace (with lo up) that the test deletes at its end.
func newNS(t *testing.T, name string) string {
	t.Helper()
	_ = exec.Command("ip", "netns", "del", name).Run() // a crashed earlier run with our pid
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// inNS runs fn with the calling thread in namespace ns, on a goroutine of
// its own: a thread that could not come back to its namespace ends with
// it (LockOSThread without Unlock).
func inNS(ns string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer self.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := setns(self); err != nil {
			done <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}

func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}

// listen serves TCP on addr in namespace ns until the test ends: each
// connection is answered with the address it came from (what SNAT made of
// the client) and closed.
func listen(t *testing.T, ns, addr string) {
	t.Helper()
	var l net.Listener
	if err := inNS(ns, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			_, _ = io.WriteString(c, host)
			c.Close()
		}
	}()
}

// dial connects from namespace ns (from address local when not "") to
// addr and returns what the server answered: the client address it saw.
func dial(ns, local, addr string) (string, error) {
	var c net.Conn
	d := net.Dialer{Timeout: time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	if err := inNS(ns, func() (err error) {
		c, err = d.Dial("tcp", addr)
		return err
	}); err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// ping sends one ICMP echo request with identifier id from namespace ns
// to dst (IPv4) and reports whether its reply came within a second.
func ping(ns, dst string, id uint16) (bool, error) {
	var pc net.PacketConn
	if err := inNS(ns, func() (err error) {
		pc, err = net.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		return false, err
	}
	defer pc.Close()
	msg := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'k', 'u', 'm', 'o'}
	binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	to := &net.IPAddr{IP: net.ParseIP(dst)}
	if _, err := pc.WriteTo(msg, to); err != nil {
		return false, err
	}
	deadline := time.Now().Add(time.Second)
	_ = pc.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		// An echo reply (type 0) to our id from dst, with our payload.
		if n >= 12 && buf[0] == 0 && binary.BigEndian.Uint16(buf[4:]) == id &&
			from.String() == dst && bytes.Equal(buf[8:12], msg[8:12]) {
			return true, nil
		}
	}
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// sysctl sets a sysctl inside a namespace.
func sysctl(ns, key, value string) error {
	out, err := exec.CommandContext(context.Background(), "ip", "netns", "exec", ns, "sysctl", "-qw", key+"="+value).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sysctl %s=%s in %s: %v: %s", key, value, ns, err, out)
	}
	return nil
}

// listenUDP receives datagrams on addr in namespace ns until the test
// ends and passes on the address each came from.
func listenUDP(t *testing.T, ns, addr string) <-chan string {
	t.Helper()
	var pc net.PacketConn
	if err := inNS(ns, func() (err error) {
		pc, err = reuse.ListenPacket(context.Background(), "udp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen on udp %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { pc.Close() })
	from := make(chan string, 16)
	go func() {
		buf := make([]byte, 64)
		for {
			_, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case from <- a.String():
			default:
			}
		}
	}()
	return from
}

// reuse lets a sender bind the address and port a listener holds (a
// DHCP client sends from the port it receives on).
var reuse = net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	}); err != nil {
		return err
	}
	return serr
}}

// sendUDP sends one datagram from local (address:port) in namespace ns to
// addr.
func sendUDP(ns, local, addr string) error {
	la, err := net.ResolveUDPAddr("udp", local)
	if err != nil {
		return err
	}
	d := net.Dialer{LocalAddr: la, Control: reuse.Control}
	var c net.Conn
	if err := inNS(ns, func() (err error) {
		c, err = d.Dial("udp", addr)
		return err
	}); err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("kumo"))
	return err
}
