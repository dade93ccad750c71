package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestDataDirLock: a second kumo on a data dir in use is refused with an
// error naming the holder; once the holder is gone the next one starts
// and takes its compute host over at once (the host lease token handed
// on through the lock file), even across a `kumo migrate` in between.
func TestDataDirLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := openTestApp(t, dir)
	host, _ := os.Hostname()
	_, err := Open(context.Background(), Config{DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	want := fmt.Sprintf("is in use by kumo serve, pid %d on %s", os.Getpid(), host)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open of a data dir in use: %v, want an error containing %q", err, want)
	}
	if _, err := LockDataDir(dir, CurrentHolder("migrate")); err == nil || !strings.Contains(err.Error(), "kumo serve") {
		t.Fatalf("migrate on a data dir in use: %v, want refused", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	migrate, err := LockDataDir(dir, CurrentHolder("migrate"))
	if err != nil {
		t.Fatalf("migrate after the server stopped: %v", err)
	}
	if migrate.Previous.HostLease != first.lease.token {
		t.Errorf("lock file kept host lease %q, want the server's %q", migrate.Previous.HostLease, first.lease.token)
	}
	if err := migrate.Release(); err != nil {
		t.Fatal(err)
	}

	second := openTestApp(t, dir) // fails if the host lease were still held
	if second.lease.predecessor != first.lease.token || second.lease.token == first.lease.token {
		t.Errorf("second start's lease %+v, want a new token after %q", second.lease, first.lease.token)
	}
}

// TestDataDirLockMessageWithoutHolder: a lock file whose holder wrote
// nothing yet still gives a clear refusal.
func TestDataDirLockMessageWithoutHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := LockDataDir(dir, Holder{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if err := os.WriteFile(dir+"/"+LockFileName, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LockDataDir(dir, CurrentHolder("serve")); err == nil || !strings.Contains(err.Error(), "in use by another kumo process") {
		t.Fatalf("refusal %v", err)
	}
}

// TestHostLeaseHandedOn: the lock file keeps the token of the last agent
// that held its host, whatever processes that took no host came between
// (a migrate, a serve refused its host).
func TestHostLeaseHandedOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	steps := []struct {
		command string
		lease   string // the token the process's agent took ("" none)
		want    string // the token the process finds
	}{
		{"serve", "t1", ""},
		{"migrate", "", "t1"},
		{"serve", "", "t1"}, // refused its host
		{"serve", "t2", "t1"},
		{"serve", "", "t2"},
	}
	for i, s := range steps {
		l, err := LockDataDir(dir, CurrentHolder(s.command))
		if err != nil {
			t.Fatal(err)
		}
		if l.Previous.HostLease != s.want {
			t.Errorf("step %d (%s): found lease %q, want %q", i, s.command, l.Previous.HostLease, s.want)
		}
		if s.lease != "" {
			if err := l.SetHostLease(s.lease); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
	}
}
