package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// server is the part of a server body the benchmark reads.
type server struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	TaskState *string `json:"OS-EXT-STS:task_state"`
}

// serverOption changes the body of a server create.
type serverOption func(s map[string]any)

// onPorts boots the server on the given ports (Nova's networks entries
// {"port": id}) instead of the -networks setting.
func onPorts(ids ...string) serverOption {
	return func(s map[string]any) {
		nets := make([]map[string]any, len(ids))
		for i, id := range ids {
			nets[i] = map[string]any{"port": id}
		}
		s["networks"] = nets
	}
}

// createBody is the POST /servers body for one server named name.
func (b *bench) createBody(name string, opts ...serverOption) map[string]any {
	s := map[string]any{"name": name, "flavorRef": b.flavor, "imageRef": b.image}
	if b.networks != "" {
		s["networks"] = b.networks
	}
	for _, o := range opts {
		o(s)
	}
	return map[string]any{"server": s}
}

// createServer posts one server and returns its id.
func (b *bench) createServer(ctx context.Context, name string, opts ...serverOption) (string, error) {
	var out struct {
		Server server `json:"server"`
	}
	if err := b.c.do(ctx, "POST", b.c.computeURL("servers"), b.createBody(name, opts...), &out, http.StatusAccepted); err != nil {
		return "", err
	}
	return out.Server.ID, nil
}

// parallel runs fn(i) for i in [0,n) on conc workers and returns the
// first error.
func parallel(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for w := 0; w < min(conc, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// createMany creates n servers named prefix-i with conc clients and waits
// until none is building; it reports the time from the first POST until
// all were accepted and until all were ACTIVE.
func (b *bench) createMany(ctx context.Context, prefix string, n, conc int) (accepted, active time.Duration, err error) {
	start := time.Now()
	err = parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		_, err := b.createServer(ctx, fmt.Sprintf("%s-%d", prefix, i))
		return err
	})
	accepted = time.Since(start)
	if err != nil {
		return accepted, 0, err
	}
	if err := b.waitNone(ctx, prefix, "BUILD"); err != nil {
		return accepted, 0, err
	}
	active = time.Since(start)
	if n, err := b.count(ctx, prefix, "ERROR"); err != nil || n > 0 {
		return accepted, active, fmt.Errorf("%d servers went to ERROR (%v)", n, err)
	}
	return accepted, active, nil
}

// listIDs returns the ids of all servers whose name matches ^prefix-,
// optionally with status, paging through the list.
func (b *bench) listIDs(ctx context.Context, prefix, status string) ([]string, error) {
	var ids []string
	marker := ""
	for {
		q := url.Values{"name": {"^" + prefix + "-"}, "limit": {"1000"}}
		if status != "" {
			q.Set("status", status)
		}
		if marker != "" {
			q.Set("marker", marker)
		}
		var page struct {
			Servers []server `json:"servers"`
		}
		if err := b.c.get(ctx, "servers?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		for _, s := range page.Servers {
			ids = append(ids, s.ID)
		}
		if len(page.Servers) < 1000 {
			return ids, nil
		}
		marker = page.Servers[len(page.Servers)-1].ID
	}
}

// count is how many servers named ^prefix- have status.
func (b *bench) count(ctx context.Context, prefix, status string) (int, error) {
	ids, err := b.listIDs(ctx, prefix, status)
	return len(ids), err
}

// waitNone polls until no server named ^prefix- shows status ("" = any
// status, i.e. until all are gone).
func (b *bench) waitNone(ctx context.Context, prefix, status string) error {
	deadline := time.Now().Add(b.timeout)
	for {
		q := url.Values{"name": {"^" + prefix + "-"}, "limit": {"1"}}
		if status != "" {
			q.Set("status", status)
		}
		var page struct {
			Servers []server `json:"servers"`
		}
		if err := b.c.get(ctx, "servers?"+q.Encode(), &page); err != nil {
			return err
		}
		if len(page.Servers) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("servers %s-* still %q after %s", prefix, status, b.timeout)
		}
		time.Sleep(b.poll)
	}
}

// deleteMany deletes every server named ^prefix- with conc clients and
// returns the time until all are gone.
func (b *bench) deleteMany(ctx context.Context, prefix string, conc int) (time.Duration, error) {
	ids, err := b.listIDs(ctx, prefix, "")
	if err != nil {
		return 0, err
	}
	start := time.Now()
	err = parallel(ctx, len(ids), conc, func(ctx context.Context, i int) error {
		err := b.c.do(ctx, "DELETE", b.c.computeURL("servers/"+ids[i]), nil, nil, http.StatusNoContent)
		if err != nil && isStatus(err, http.StatusNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := b.waitNone(ctx, prefix, ""); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// waitIdle polls one server until it is ACTIVE with no task and returns
// how long that took from since.
func (b *bench) waitIdle(ctx context.Context, id string, since time.Time) (time.Duration, error) {
	deadline := time.Now().Add(b.timeout)
	for {
		var out struct {
			Server server `json:"server"`
		}
		if err := b.c.get(ctx, "servers/"+id, &out); err != nil {
			return 0, err
		}
		switch {
		case out.Server.Status == "ACTIVE" && out.Server.TaskState == nil:
			return time.Since(since), nil
		case out.Server.Status == "ERROR":
			return 0, fmt.Errorf("server %s went to ERROR", id)
		case time.Now().After(deadline):
			return 0, fmt.Errorf("server %s not ACTIVE after %s (status %s)", id, b.timeout, out.Server.Status)
		}
		time.Sleep(b.fastPoll)
	}
}

func isStatus(err error, code int) bool {
	return err != nil && strings.Contains(err.Error(), fmt.Sprintf("status %d ", code))
}
