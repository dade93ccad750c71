package hosts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestHostLease: a host name is held by one agent at a time. A second
// agent is refused while the holder heartbeats, naming it; it takes the
// host over once the heartbeat lapses, at once when it names the holder
// as its predecessor or the holder gave the host up; the old holder's
// heartbeats and claims then fail with ErrLeaseLost.
func TestHostLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Now()
		claim := func(lease, predecessor string, at time.Time) error {
			_, err := directory(db, at).Register(ctx, hosts.Registration{
				Info:  hosts.HostInfo{Hostname: "node-1", HypervisorType: "fake", VCPUs: 4, MemoryMB: 8192, DiskGB: 100},
				Lease: lease, Holder: "agent " + lease, Predecessor: predecessor,
			}, at)
			return err
		}
		beat := func(lease string, at time.Time) error { return directory(db, at).Heartbeat(ctx, "node-1", lease, at) }
		refused := func(err error) bool {
			var held *hosts.LeaseHeldError
			return errors.As(err, &held)
		}
		steps := []struct {
			name string
			do   func() error
			ok   func(error) bool
		}{
			{"a claims the new host", func() error { return claim("a", "", t0) }, isNil},
			{"a restarts with its own token", func() error { return claim("a", "", t0.Add(time.Second)) }, isNil},
			{"b is refused while a heartbeats", func() error { return claim("b", "", t0.Add(10*time.Second)) }, refused},
			{"a still heartbeats", func() error { return beat("a", t0.Add(20*time.Second)) }, isNil},
			{"b naming a as its predecessor takes over", func() error { return claim("b", "a", t0.Add(30*time.Second)) }, isNil},
			{"a's heartbeat is refused", func() error { return beat("a", t0.Add(31*time.Second)) }, lostLease},
			{"a cannot take it back while b lives", func() error { return claim("a", "", t0.Add(32*time.Second)) }, refused},
			{"c takes over once b's heartbeat lapsed", func() error {
				return claim("c", "", t0.Add(30*time.Second+scheduler.DefaultServiceDownTime+time.Second))
			}, isNil},
			{"b's heartbeat is refused", func() error { return beat("b", t0.Add(2*scheduler.DefaultServiceDownTime)) }, lostLease},
			{"c gives the host up", func() error { return directory(db, t0).ReleaseLease(ctx, "node-1", "c") }, isNil},
			{"d takes it at once", func() error { return claim("d", "", t0.Add(2*scheduler.DefaultServiceDownTime)) }, isNil},
			{"a registration without a lease leaves d's", func() error { return claim("", "", t0.Add(2*scheduler.DefaultServiceDownTime)) }, isNil},
			{"d still heartbeats", func() error { return beat("d", t0.Add(2*scheduler.DefaultServiceDownTime)) }, isNil},
		}
		for _, s := range steps {
			if err := s.do(); !s.ok(err) {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		for lease, want := range map[string]error{"d": nil, "c": hosts.ErrLeaseLost} {
			if err := hosts.CheckLease(ctx, db, "node-1", lease); !errors.Is(err, want) && !(want == nil && err == nil) {
				t.Errorf("check lease %s: %v, want %v", lease, err, want)
			}
		}
		err := claim("e", "", t0.Add(2*scheduler.DefaultServiceDownTime+5*time.Second))
		if !refused(err) || !strings.Contains(err.Error(), `"node-1" is held by agent d`) || !strings.Contains(err.Error(), "5s ago") {
			t.Errorf("refusal: %v, want one naming host, holder and heartbeat age", err)
		}
	})
}

func isNil(err error) bool     { return err == nil }
func lostLease(err error) bool { return errors.Is(err, hosts.ErrLeaseLost) }
