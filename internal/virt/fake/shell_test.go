package fake_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// readUntil reads r until its output so far ends with suffix.
func readUntil(t *testing.T, r *bufio.Reader, suffix string) string {
	t.Helper()
	var b strings.Builder
	for !strings.HasSuffix(b.String(), suffix) {
		c, err := r.ReadByte()
		if err != nil {
			t.Fatalf("read %q so far, then %v", b.String(), err)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func TestSerialConsoleShell(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	g := &virt.Guest{ID: "11111111-2222-3333-4444-555555555555", Name: "Web Server_1", VCPUs: 1, MemoryMB: 64}
	if err := d.Spawn(ctx, g); err != nil {
		t.Fatal(err)
	}
	c, err := d.OpenConsole(ctx, g.ID, virt.ConsoleSerial)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	readUntil(t, r, "# ")
	for _, tc := range []struct{ in, want string }{
		{"hostname\r", "hostname\r\nweb-server-1\r\n# "},
		{"echo  hello   world\n", "echo  hello   world\r\nhello world\r\n# "},
		{"uname -a\r\n", "uname -a\r\nLinux web-server-1 6.1.0-kumo-fake #1 SMP x86_64 GNU/Linux\r\n# "},
		{"frobnicate --x\r", "frobnicate --x\r\nsh: frobnicate: not found\r\n# "},
		{"\r", "\r\n# "},
		{"ab\x7fc\r", "ab\b \bc\r\nsh: ac: not found\r\n# "},
	} {
		done := make(chan error, 1)
		go func() { _, err := io.WriteString(c, tc.in); done <- err }()
		if got := readUntil(t, r, "# "); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenConsoleRefusals(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	g := &virt.Guest{ID: "11111111-2222-3333-4444-555555555555", Name: "g", VCPUs: 1, MemoryMB: 64}
	if err := d.Spawn(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenConsole(ctx, g.ID, virt.ConsoleVNC); !errors.Is(err, virt.ErrNotSupported) {
		t.Errorf("vnc: %v, want ErrNotSupported", err)
	}
	if _, err := d.OpenConsole(ctx, "99999999-2222-3333-4444-555555555555", virt.ConsoleSerial); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("absent guest: %v, want ErrNotFound", err)
	}
	if err := d.PowerOff(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenConsole(ctx, g.ID, virt.ConsoleSerial); !errors.Is(err, virt.ErrNotRunning) {
		t.Errorf("stopped guest: %v, want ErrNotRunning", err)
	}
}
