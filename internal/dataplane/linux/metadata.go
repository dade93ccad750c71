package linux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kumocloud/kumo/internal/metadata"
)

// metaServer is the metadata service's listener in one domain namespace.
type metaServer struct {
	srv *http.Server
}

func (m *metaServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
}

// serveMetadata starts the metadata listener of namespace ns unless it
// runs.
func (a *Applier) serveMetadata(ns string) error {
	if a.opts.Metadata == nil || a.meta[ns] != nil {
		return nil
	}
	ln, err := listenIn(ns, net.JoinHostPort(MetadataAddress, "80"))
	if err != nil {
		return err
	}
	resolve := func(_ context.Context, remote netip.Addr) (string, bool) {
		a.guestsMu.RLock()
		defer a.guestsMu.RUnlock()
		id, ok := a.guests[ns][remote.Unmap()]
		return id, ok
	}
	srv := metadata.NewServer(a.opts.Metadata(resolve), a.log)
	a.meta[ns] = &metaServer{srv: srv}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("metadata service stopped", "netns", ns, "err", err)
		}
	}()
	return nil
}

// listenIn opens a TCP listener on addr inside network namespace ns: a
// socket belongs to the namespace it was made in, so a thread of its own
// enters ns, listens and leaves. The thread ends with its goroutine if it
// cannot leave.
func listenIn(ns, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer own.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("enter %s: %w", ns, err)}
			return
		}
		ln, lerr := net.Listen("tcp4", addr)
		if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stay locked: the runtime ends this thread with the goroutine.
			if ln != nil {
				ln.Close()
			}
			done <- result{err: fmt.Errorf("leave %s: %w", ns, err)}
			return
		}
		runtime.UnlockOSThread()
		if lerr != nil {
			lerr = fmt.Errorf("listen on %s in %s: %w", addr, ns, lerr)
		}
		done <- result{ln, lerr}
	}()
	r := <-done
	return r.ln, r.err
}
