package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFileName is the file in the data dir whose flock marks the data
// dir's one owner.
const LockFileName = "kumo.lock"

// Holder describes the process that holds a data dir, as written in its
// lock file for the next process to read.
type Holder struct {
	PID      int       `json:"pid"`
	Hostname string    `json:"hostname"` // the machine
	Command  string    `json:"command"`  // serve, migrate
	Started  time.Time `json:"started"`
	// HostLease is the compute host lease token of the last agent that
	// ran from the data dir: the next one, holding the lock, knows that
	// agent is gone and takes its host over at once.
	HostLease string `json:"host_lease,omitempty"`
}

func (h Holder) String() string {
	return fmt.Sprintf("kumo %s, pid %d on %s, started %s", h.Command, h.PID, h.Hostname, h.Started.UTC().Format(time.RFC3339))
}

// DirLock is an exclusive lock on a data dir: one kumo process at a time
// may use it, since two would both run (and recover) the same tasks and
// guests. The kernel releases it when the process ends, however it ends.
type DirLock struct {
	f      *os.File
	holder Holder // as written
	// Previous is what the last holder wrote (zero if none).
	Previous Holder
}

// CurrentHolder describes this process for a lock, as command.
func CurrentHolder(command string) Holder {
	host, _ := os.Hostname()
	return Holder{PID: os.Getpid(), Hostname: host, Command: command, Started: time.Now()}
}

// LockDataDir takes dir's lock for me, or fails at once naming the
// process that holds it. A holder without a host lease keeps the
// previous one's, so running `kumo migrate` between two `kumo serve`
// does not make the second wait for the first's host to time out.
func LockDataDir(dir string, me Holder) (*DirLock, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		holder, rerr := readHolder(f)
		if rerr != nil || holder.PID == 0 {
			return nil, fmt.Errorf("data dir %s is in use by another kumo process (it holds %s); stop it first or give this one its own --data-dir", dir, path)
		}
		return nil, fmt.Errorf("data dir %s is in use by %s (it holds %s); stop it first or give this one its own --data-dir", dir, holder, path)
	}
	prev, _ := readHolder(f) // a damaged file only loses the hint
	if me.HostLease == "" {
		me.HostLease = prev.HostLease
	}
	l := &DirLock{f: f, Previous: prev}
	if err := l.write(me); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// SetHostLease records the host lease token this process's agent now
// holds, for the next process on the data dir. It is written only once
// the lease is taken: a process refused its host must not make the next
// one forget the token of the agent that really held it.
func (l *DirLock) SetHostLease(token string) error {
	h := l.holder
	h.HostLease = token
	return l.write(h)
}

// write replaces the lock file's content with h.
func (l *DirLock) write(h Holder) error {
	raw, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	if _, err := l.f.WriteAt(append(raw, '\n'), 0); err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	l.holder = h
	return nil
}

func readHolder(f *os.File) (Holder, error) {
	raw, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<16))
	if err != nil {
		return Holder{}, err
	}
	var h Holder
	if len(raw) == 0 {
		return h, nil
	}
	err = json.Unmarshal(raw, &h)
	return h, err
}

// Release gives the data dir up; the lock file stays, with this holder's
// description, for the next one.
func (l *DirLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
