package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

const (
	server = "11111111-2222-3333-4444-555555555555"
	host   = "host-a"
)

// fakeHost is a host with one guest that has a serial console only, or
// the error a dial gets.
type fakeHost struct{ err error }

func (h fakeHost) DialConsole(ctx context.Context, host, id, protocol string) (io.ReadWriteCloser, error) {
	switch {
	case h.err != nil:
		return nil, h.err
	case id != server:
		return nil, console.ErrNoGuest
	case protocol != console.Serial:
		return nil, console.ErrUnavailable
	}
	a, b := net.Pipe()
	go func() { _, _ = io.Copy(io.Discard, b) }()
	return a, nil
}

// locator puts server on host while it is there.
type locator map[string]string

func (l locator) ServerHost(ctx context.Context, id string) (string, error) { return l[id], nil }

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		where := locator{server: host}
		s := console.New(db, fakeHost{}, where, clk.Now)

		token, err := s.Authorize(ctx, server, host, console.Serial, "serial")
		if err != nil {
			t.Fatal(err)
		}
		if len(token) != 64 {
			t.Errorf("token %q: want 32 random bytes in hex", token)
		}
		// Only the hash is stored.
		var stored string
		if err := db.QueryRowContext(ctx, `SELECT token_hash FROM console_auth_tokens`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(token))
		if stored != hex.EncodeToString(sum[:]) {
			t.Errorf("stored %q, want the token's SHA-256", stored)
		}
		a, err := s.Show(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if a.InstanceID != server || a.Host != host || a.ConsoleType != "serial" || a.Protocol != console.Serial ||
			a.InternalAccessPath != nil || !a.Expires.Equal(clk.Now().Add(console.TokenTTL)) {
			t.Errorf("auth = %+v", a)
		}
		c, _, err := s.Connect(ctx, token, console.Serial)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()

		for _, tc := range []struct {
			name     string
			token    string
			protocol string
		}{
			{"unknown token", "nope", console.Serial},
			{"token of another console", token, console.VNC},
		} {
			if _, _, err := s.Connect(ctx, tc.token, tc.protocol); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("%s: %v, want not found", tc.name, err)
			}
		}

		// A server that moved needs a new token.
		where[server] = "host-b"
		if _, _, err := s.Connect(ctx, token, console.Serial); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("moved server: %v, want not found", err)
		}
		where[server] = host

		// Expired: refused, and purged by the next issue.
		clk.Advance(console.TokenTTL)
		if _, err := s.Show(ctx, token); !errs.Is(err, errs.KindNotFound) || errs.Message(err) != "Token not found" {
			t.Errorf("expired token: %v", err)
		}
		if _, err := s.Authorize(ctx, server, host, console.Serial, "serial"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_auth_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d tokens stored, want the expired one purged", n)
		}
		clk.Advance(console.TokenTTL)
		if purged, err := s.PurgeExpired(ctx); err != nil || purged != 1 {
			t.Errorf("PurgeExpired = %d, %v; want the one expired token", purged, err)
		}
	})
}

func TestAuthorizeRefusals(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		dial     error
		id       string
		protocol string
		kind     errs.Kind
		msg      string
	}{
		{"no screen", nil, server, console.VNC, errs.KindInvalid, "Unavailable console type vnc."},
		{"not running", console.ErrNotRunning, server, console.Serial, errs.KindConflict, "Instance " + server + " is not ready"},
		{"not on the host", nil, "99999999-2222-3333-4444-555555555555", console.Serial, errs.KindNotFound,
			"Instance 99999999-2222-3333-4444-555555555555 could not be found."},
		{"host down", errors.New("connection refused"), server, console.Serial, errs.KindInternal, ""},
	} {
		s := console.New(db, fakeHost{err: tc.dial}, locator{}, nil)
		_, err := s.Authorize(ctx, tc.id, host, tc.protocol, "x")
		if errs.KindOf(err) != tc.kind || (tc.msg != "" && errs.Message(err) != tc.msg) {
			t.Errorf("%s: %v (kind %v), want kind %v %q", tc.name, err, errs.KindOf(err), tc.kind, tc.msg)
		}
	}
}
