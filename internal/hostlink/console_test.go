package hostlink

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

func TestConsoleStream(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	const id = "11111111-2222-3333-4444-555555555555"
	if err := d.Spawn(ctx, &virt.Guest{ID: id, Name: "relayed", VCPUs: 1, MemoryMB: 64}); err != nil {
		t.Fatal(err)
	}
	signer := NewSigner([]byte("shared"), nil)
	srv := httptest.NewServer(Handler(signer, d, nil, nil, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	c := &Client{Signer: signer}

	stream, err := c.DialConsole(ctx, srv.URL, id, virt.ConsoleSerial)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := io.WriteString(stream, "hostname\r"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stream)
	var got strings.Builder
	for !strings.Contains(got.String(), "relayed\r\n# ") {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("read %q, then %v", got.String(), err)
		}
		got.WriteByte(b)
	}

	for _, tc := range []struct {
		name string
		id   string
		kind virt.ConsoleKind
		want error
	}{
		{"no screen", id, virt.ConsoleVNC, virt.ErrNotSupported},
		{"no guest", "99999999-2222-3333-4444-555555555555", virt.ConsoleSerial, virt.ErrNotFound},
	} {
		if _, err := c.DialConsole(ctx, srv.URL, tc.id, tc.kind); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := d.PowerOff(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DialConsole(ctx, srv.URL, id, virt.ConsoleSerial); !errors.Is(err, virt.ErrNotRunning) {
		t.Errorf("stopped: %v, want ErrNotRunning", err)
	}
	forged := &Client{Signer: NewSigner([]byte("other"), nil)}
	if _, err := forged.DialConsole(ctx, srv.URL, id, virt.ConsoleSerial); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("unsigned console call: %v, want a 403", err)
	}
}
