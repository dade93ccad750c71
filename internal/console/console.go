// Package console is Nova's remote consoles' domain: the authorization
// tokens that let a client reach one console (serial or VNC) of one
// server (Nova's ConsoleAuthToken), and the connection of an authorized
// client to that console on the server's host. Tokens are random, kept
// only as their SHA-256 in the shared database, and expire after
// TokenTTL (Nova's [consoleauth] token_ttl); an expired one is never
// honoured and is purged when the next token is issued or by the
// periodic token purge (app).
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// TokenTTL is how long a console token lets clients in (Nova's
// [consoleauth] token_ttl default).
const TokenTTL = 600 * time.Second

// Protocols kumo's guests have consoles of.
const (
	Serial = "serial"
	VNC    = "vnc"
)

// What a Dialer's errors mean (the driver's answers, through the host).
var (
	// ErrUnavailable: the guest has no console of that protocol.
	ErrUnavailable = errors.New("console unavailable")
	// ErrNotRunning: the guest does not run, so its console is not there.
	ErrNotRunning = errors.New("guest not running")
	// ErrNoGuest: the host has no such guest.
	ErrNoGuest = errors.New("no such guest on the host")
)

// Dialer opens the console of protocol of guest id on compute host host.
type Dialer interface {
	DialConsole(ctx context.Context, host, id, protocol string) (io.ReadWriteCloser, error)
}

// Locator tells on which host a server is now ("" when it has none or
// is gone).
type Locator interface {
	ServerHost(ctx context.Context, id string) (string, error)
}

// Auth is what a token authorizes (Nova's console connection info).
type Auth struct {
	InstanceID  string
	ConsoleType string // "novnc", "serial"
	Protocol    string // Serial or VNC
	Host        string
	Port        int
	// InternalAccessPath is nil for kumo's consoles (JSON null).
	InternalAccessPath *string
	Expires            time.Time
}

// Service issues and checks console tokens and connects clients.
type Service struct {
	db      *store.DB
	dial    Dialer
	servers Locator
	now     func() time.Time
}

// New returns the console service; now is the clock (nil: time.Now).
func New(db *store.DB, dial Dialer, servers Locator, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, dial: dial, servers: servers, now: now}
}

// Authorize checks that guest id on host has a console of protocol (the
// host is asked: Nova's compute manager asks its driver) and issues a
// token for it, of consoleType. Errors are Nova's: a console the guest
// lacks is ConsoleTypeUnavailable (400), a guest that does not run is
// not ready (409), one the host lacks not found (404).
func (s *Service) Authorize(ctx context.Context, id, host, protocol, consoleType string) (string, error) {
	if err := s.probe(ctx, id, host, protocol); err != nil {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("console token: %w", err)
	}
	token := hex.EncodeToString(raw)
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := purge(ctx, tx, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO console_auth_tokens
			(token_hash, instance_uuid, console_type, protocol, host, port, internal_access_path, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?)`,
			tokenHash(token), id, consoleType, protocol, host, now.UnixMicro(), now.Add(TokenTTL).UnixMicro())
		if err != nil {
			return fmt.Errorf("store console token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// PurgeExpired deletes the expired tokens (Authorize does too) and
// reports how many went.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	return purge(ctx, s.db, s.now())
}

func purge(ctx context.Context, q store.Querier, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM console_auth_tokens WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge expired console tokens: %w", err)
	}
	return res.RowsAffected()
}

// probe opens the console once and closes it: the host's answer is the
// driver's.
func (s *Service) probe(ctx context.Context, id, host, protocol string) error {
	c, err := s.dial.DialConsole(ctx, host, id, protocol)
	if err != nil {
		return dialError(err, id, protocol)
	}
	return c.Close()
}

// dialError words a Dialer's error as Nova's API does.
func dialError(err error, id, protocol string) error {
	switch {
	case errors.Is(err, ErrUnavailable):
		return &errs.Error{Kind: errs.KindInvalid, Message: fmt.Sprintf("Unavailable console type %s.", protocol), Err: err}
	case errors.Is(err, ErrNotRunning):
		return &errs.Error{Kind: errs.KindConflict, Message: fmt.Sprintf("Instance %s is not ready", id), Err: err}
	case errors.Is(err, ErrNoGuest):
		return &errs.Error{Kind: errs.KindNotFound, Message: fmt.Sprintf("Instance %s could not be found.", id), Err: err}
	}
	return fmt.Errorf("console of %s: %w", id, err)
}

// Show is what token authorizes; an unknown or expired token is Nova's
// 404 "Token not found".
func (s *Service) Show(ctx context.Context, token string) (*Auth, error) {
	var a Auth
	var expires int64
	var path sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT instance_uuid, console_type, protocol, host, port, internal_access_path, expires_at
		FROM console_auth_tokens WHERE token_hash = ? AND expires_at > ?`, tokenHash(token), s.now().UnixMicro()).
		Scan(&a.InstanceID, &a.ConsoleType, &a.Protocol, &a.Host, &a.Port, &path, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("Token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("look up console token: %w", err)
	}
	if path.Valid {
		a.InternalAccessPath = &path.String
	}
	a.Expires = store.Time(expires)
	return &a, nil
}

// Connect opens the console token authorizes, which must be of
// protocol, provided its server still exists and is still on the host
// the token was issued for (a server that moved needs a new token).
func (s *Service) Connect(ctx context.Context, token, protocol string) (io.ReadWriteCloser, *Auth, error) {
	a, err := s.Show(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if a.Protocol != protocol {
		return nil, nil, errs.NotFound("Token not found")
	}
	host, err := s.servers.ServerHost(ctx, a.InstanceID)
	if err != nil {
		return nil, nil, err
	}
	if host == "" || host != a.Host {
		return nil, nil, errs.NotFound("Instance %s is no longer on host %s", a.InstanceID, a.Host)
	}
	c, err := s.dial.DialConsole(ctx, a.Host, a.InstanceID, protocol)
	if err != nil {
		return nil, nil, dialError(err, a.InstanceID, protocol)
	}
	return c, a, nil
}

// tokenHash is what the database keeps of a token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
