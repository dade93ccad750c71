package hosts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// A compute host name is a lease: one agent at a time runs a host's
// tasks. The agent holding it keeps its random token in the host's row
// (lease_token, with lease_holder describing it), heartbeats and claims
// tasks only while the token is still its own, and gives the host up when
// it stops. Another agent may take the host over when nobody holds it,
// when its holder's heartbeat is older than the service down time (the
// holder died),
// or when it names the holder's token as its predecessor (it knows the
// holder is gone: a restart on the same data dir).

// ErrLeaseLost is returned to an agent whose host another agent has taken
// over: it must stop.
var ErrLeaseLost = errors.New("another agent has taken this compute host over")

// LeaseHeldError refuses a host to an agent while another agent holds it
// and heartbeats.
type LeaseHeldError struct {
	Host      string
	Holder    string // as the holder described itself
	Heartbeat time.Time
	Now       time.Time
	DownTime  time.Duration // the service_down_time in force
}

func (e *LeaseHeldError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "another agent"
	}
	return fmt.Sprintf("compute host %q is held by %s, whose last heartbeat was %s ago; stop it first, "+
		"give this process another --host, or wait until its heartbeat is %s old", e.Host, holder,
		e.Now.Sub(e.Heartbeat).Round(time.Second), e.DownTime)
}

// claimLease takes hostname's lease for r, in tx, unless a live holder
// keeps it (*LeaseHeldError). The row exists.
func claimLease(ctx context.Context, tx *store.Tx, hostname string, r Registration, now time.Time, downTime time.Duration) error {
	var token, holder string
	var heartbeat int64
	if err := tx.QueryRowContext(ctx, `SELECT lease_token, lease_holder, heartbeat_at FROM compute_hosts WHERE hostname = ?`,
		hostname).Scan(&token, &holder, &heartbeat); err != nil {
		return fmt.Errorf("read lease of %s: %w", hostname, err)
	}
	live := heartbeat >= now.Add(-downTime).UnixMicro()
	if token != "" && token != r.Lease && token != r.Predecessor && live {
		return &LeaseHeldError{Host: hostname, Holder: holder, Heartbeat: store.Time(heartbeat), Now: now, DownTime: downTime}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET lease_token = ?, lease_holder = ? WHERE hostname = ?`,
		r.Lease, r.Holder, hostname); err != nil {
		return fmt.Errorf("claim lease of %s: %w", hostname, err)
	}
	return nil
}

// CheckLease returns ErrLeaseLost unless lease holds hostname, read in
// q (the caller's transaction when what follows must not race a
// takeover).
func CheckLease(ctx context.Context, q store.Querier, hostname, lease string) error {
	var token string
	err := q.QueryRowContext(ctx, `SELECT lease_token FROM compute_hosts WHERE hostname = ?`, hostname).Scan(&token)
	return leaseHeld(hostname, lease, token, err)
}

// leaseHeld is CheckLease's answer for the token read (err: the read's).
func leaseHeld(hostname, lease, token string, err error) error {
	if isNoRows(err) {
		return fmt.Errorf("compute host %s: %w (its record is gone)", hostname, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("check lease of %s: %w", hostname, err)
	}
	if token != lease {
		return fmt.Errorf("compute host %s: %w", hostname, ErrLeaseLost)
	}
	return nil
}

// LockLease is CheckLease that also holds the lease still until tx ends
// (a takeover's UPDATE waits for it): for transactions at READ COMMITTED
// (store.DB.InTxReadCommitted), where what CheckLease read may change
// before they commit.
func LockLease(ctx context.Context, tx *store.Tx, hostname, lease string) error {
	var token string
	err := tx.QueryRowContext(ctx, `SELECT lease_token FROM compute_hosts WHERE hostname = ?`+tx.Dialect().ForShare(), hostname).Scan(&token)
	return leaseHeld(hostname, lease, token, err)
}

// ReleaseLease gives hostname up, if lease still holds it, so another
// agent may take it at once.
func (d *Directory) ReleaseLease(ctx context.Context, hostname, lease string) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE compute_hosts SET lease_token = '', lease_holder = ''
		WHERE hostname = ? AND lease_token = ?`, hostname, lease); err != nil {
		return fmt.Errorf("release lease of %s: %w", hostname, err)
	}
	return nil
}
