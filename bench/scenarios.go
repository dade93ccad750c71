package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latency measures samples sequential calls of fn and returns p50 and p99.
func latency(ctx context.Context, samples int, fn func(ctx context.Context) error) (p50, p99 time.Duration, err error) {
	d := make([]time.Duration, 0, samples)
	for i := 0; i < samples; i++ {
		start := time.Now()
		if err := fn(ctx); err != nil {
			return 0, 0, err
		}
		d = append(d, time.Since(start))
	}
	return percentile(d, 50), percentile(d, 99), nil
}

// throughput runs fn on clients concurrent loops for dur and returns the
// completed calls per second.
func throughput(ctx context.Context, clients int, dur time.Duration, fn func(ctx context.Context) error) (float64, error) {
	return throughputEach(ctx, clients, dur, func(ctx context.Context, _ int) error { return fn(ctx) })
}

// throughputEach is throughput with each client's index (0..clients-1)
// passed to fn.
func throughputEach(ctx context.Context, clients int, dur time.Duration, fn func(ctx context.Context, client int) error) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var (
		done  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := fn(ctx, i); err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						if first == nil {
							first = err
						}
						mu.Unlock()
					}
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), first
}

// record adds a figure measured repeats times by measure, which returns
// one value per call.
func (b *bench) record(ctx context.Context, name, unit string, measure func(ctx context.Context) (float64, error)) {
	var values []float64
	var failure error
	for r := 0; r < b.repeats; r++ {
		v, err := measure(ctx)
		if err != nil {
			failure = err
			break
		}
		values = append(values, v)
	}
	f := summarize(name, unit, values)
	if failure != nil {
		f.Error = failure.Error()
	}
	b.figures = append(b.figures, f)
	b.progress(f)
}

// recordPair is record for measurements that yield a p50 and a p99.
func (b *bench) recordPair(ctx context.Context, name string, measure func(ctx context.Context) (p50, p99 time.Duration, err error)) {
	var p50s, p99s []float64
	var failure error
	for r := 0; r < b.repeats; r++ {
		p50, p99, err := measure(ctx)
		if err != nil {
			failure = err
			break
		}
		p50s, p99s = append(p50s, ms(p50)), append(p99s, ms(p99))
	}
	for i, f := range []Figure{summarize(name+" p50", "ms", p50s), summarize(name+" p99", "ms", p99s)} {
		if failure != nil && i == 0 {
			f.Error = failure.Error()
		}
		b.figures = append(b.figures, f)
		b.progress(f)
	}
}

// tokens measures token issue latency.
func (b *bench) tokens(ctx context.Context) {
	b.recordPair(ctx, "token issue", func(ctx context.Context) (time.Duration, time.Duration, error) {
		return latency(ctx, b.samples, b.c.issueToken)
	})
}

// createDelete measures creating n servers with conc clients until all
// are ACTIVE, and deleting them all.
func (b *bench) createDelete(ctx context.Context, n int) {
	var deletes []float64
	var failure error
	b.record(ctx, fmt.Sprintf("create %d servers (%d clients) until all ACTIVE", n, b.concurrency), "s", func(ctx context.Context) (float64, error) {
		prefix := fmt.Sprintf("%s-burst%d", b.prefix, n)
		_, active, err := b.createMany(ctx, prefix, n, b.concurrency)
		if err == nil {
			var d time.Duration
			if d, err = b.deleteMany(ctx, prefix, b.concurrency); err == nil {
				deletes = append(deletes, d.Seconds())
			} else {
				failure = err
			}
		}
		return active.Seconds(), err
	})
	f := summarize(fmt.Sprintf("delete %d servers (%d clients) until all gone", n, b.concurrency), "s", deletes)
	if failure != nil {
		f.Error = failure.Error()
	}
	b.figures = append(b.figures, f)
	b.progress(f)
}

// oneServer measures one server's POST until ACTIVE.
func (b *bench) oneServer(ctx context.Context) {
	b.oneServerFigure(ctx, "one server POST until ACTIVE", "one", nil)
}

// oneServerFigure records the median time from one server's POST until
// it is ACTIVE, over servers named prefix-<part>-i made one after another
// and then deleted. prepare, when given, returns the options of server i
// before its clock starts (a port to boot on, say).
func (b *bench) oneServerFigure(ctx context.Context, name, part string, prepare func(ctx context.Context, i int) ([]serverOption, error)) {
	prefix := b.prefix + "-" + part
	b.record(ctx, name, "ms", func(ctx context.Context) (float64, error) {
		var runs []time.Duration
		for i := 0; i < b.samples/5+1; i++ {
			var opts []serverOption
			if prepare != nil {
				var err error
				if opts, err = prepare(ctx, i); err != nil {
					return 0, err
				}
			}
			start := time.Now()
			id, err := b.createServer(ctx, fmt.Sprintf("%s-%d", prefix, i), opts...)
			if err != nil {
				return 0, err
			}
			d, err := b.waitIdle(ctx, id, start)
			if err != nil {
				return 0, err
			}
			runs = append(runs, d)
		}
		if _, err := b.deleteMany(ctx, prefix, b.concurrency); err != nil {
			return 0, err
		}
		return ms(percentile(runs, 50)), nil
	})
}

// listing measures GET /servers/detail with the project holding each of
// the sizes (servers named prefix-fill-*), and the server process's RSS
// at rest at the smallest and largest size.
func (b *bench) listing(ctx context.Context, sizes []int) {
	have := 0
	for _, size := range sizes {
		if size > have {
			prefix := fmt.Sprintf("%s-fill%d", b.prefix, size)
			if _, _, err := b.createMany(ctx, prefix, size-have, b.concurrency); err != nil {
				b.figures = append(b.figures, Figure{Name: fmt.Sprintf("fill project to %d servers", size), Error: err.Error()})
				return
			}
			have = size
		}
		if size == sizes[0] || size == sizes[len(sizes)-1] {
			b.rss(ctx, size)
			if b.pid != 0 && size == sizes[len(sizes)-1] {
				b.firstAfterRest(ctx, size)
			}
		}
		b.recordPair(ctx, fmt.Sprintf("GET /servers/detail, %d servers, default page", size), func(ctx context.Context) (time.Duration, time.Duration, error) {
			return latency(ctx, b.samplesFor(size), func(ctx context.Context) error { return b.c.get(ctx, "servers/detail", nil) })
		})
		var walks []float64
		b.recordPair(ctx, fmt.Sprintf("GET /servers/detail?limit=100 page, %d servers", size), func(ctx context.Context) (time.Duration, time.Duration, error) {
			pages, walk, err := b.pageAll(ctx)
			walks = append(walks, ms(walk))
			return percentile(pages, 50), percentile(pages, 99), err
		})
		f := summarize(fmt.Sprintf("page through %d servers with limit=100", size), "ms", walks)
		b.figures = append(b.figures, f)
		b.progress(f)
	}
}

// firstAfterRest records the one listing right after the rest before
// the RSS reading: a local kumo has dropped its row cache and closed its
// idle database connections by then, so this is a listing that reads
// every row; the other listing figures repeat the same listing.
func (b *bench) firstAfterRest(ctx context.Context, size int) {
	start := time.Now()
	err := b.c.get(ctx, "servers/detail", nil)
	f := summarize(fmt.Sprintf("GET /servers/detail, %d servers, default page, first after rest", size), "ms", []float64{ms(time.Since(start))})
	if err != nil {
		f = Figure{Name: f.Name, Error: err.Error()}
	}
	b.figures = append(b.figures, f)
	b.progress(f)
}

// samplesFor scales the sample count down for big listings.
func (b *bench) samplesFor(size int) int {
	if size >= 5000 {
		return max(b.samples/5, 5)
	}
	return b.samples
}

// pageAll walks GET /servers/detail?limit=100 through every server,
// returning each page's latency and the whole walk's. A page's latency
// ends with its body read: decoding it for the next link is the
// harness's work (about as long as kumo's for a page of 100 servers).
func (b *bench) pageAll(ctx context.Context) ([]time.Duration, time.Duration, error) {
	var pages []time.Duration
	start := time.Now()
	path := "servers/detail?limit=100"
	for {
		var page struct {
			Servers []server `json:"servers"`
			Links   []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"servers_links"`
		}
		t := time.Now()
		var raw []byte
		if err := b.c.get(ctx, path, &raw); err != nil {
			return pages, time.Since(start), err
		}
		pages = append(pages, time.Since(t))
		if err := json.Unmarshal(raw, &page); err != nil {
			return pages, time.Since(start), fmt.Errorf("GET %s: decode: %w", path, err)
		}
		next := ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
		if next == "" || len(page.Servers) == 0 {
			return pages, time.Since(start), nil
		}
		i := strings.Index(next, "servers/detail")
		if i < 0 {
			return pages, time.Since(start), fmt.Errorf("next link %q is not a servers/detail link", next)
		}
		path = next[i:]
	}
}

// showAndFlavors measures GET /servers/{id} and GET /flavors/detail:
// single-client latency and throughput with b.clients clients.
func (b *bench) showAndFlavors(ctx context.Context) {
	id, err := b.createServer(ctx, b.prefix+"-show-0")
	if err == nil {
		_, err = b.waitIdle(ctx, id, time.Now())
	}
	if err != nil {
		b.figures = append(b.figures, Figure{Name: "GET /servers/{id}", Error: err.Error()})
		return
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"GET /servers/{id}", func(ctx context.Context) error { return b.c.get(ctx, "servers/"+id, nil) }},
		{"GET /flavors/detail", func(ctx context.Context) error { return b.c.get(ctx, "flavors/detail", nil) }},
	}
	for _, c := range calls {
		b.recordPair(ctx, c.name, func(ctx context.Context) (time.Duration, time.Duration, error) {
			return latency(ctx, b.samples, c.call)
		})
		b.record(ctx, fmt.Sprintf("%s throughput, %d clients, %s", c.name, b.clients, b.duration), "req/s", func(ctx context.Context) (float64, error) {
			return throughput(ctx, b.clients, b.duration, c.call)
		})
	}
	if _, err := b.deleteMany(ctx, b.prefix+"-show", b.concurrency); err != nil {
		b.figures = append(b.figures, Figure{Name: "cleanup", Error: err.Error()})
	}
}

// actions measures the reboot (SOFT) and rebuild round trips on one
// server: from the action's POST until it is ACTIVE with no task again.
func (b *bench) actions(ctx context.Context) {
	start := time.Now()
	id, err := b.createServer(ctx, b.prefix+"-act-0")
	if err == nil {
		_, err = b.waitIdle(ctx, id, start)
	}
	if err != nil {
		b.figures = append(b.figures, Figure{Name: "reboot round trip", Error: err.Error()})
		return
	}
	bodies := []struct {
		name string
		body map[string]any
	}{
		{"reboot (SOFT) round trip", map[string]any{"reboot": map[string]any{"type": "SOFT"}}},
		{"rebuild round trip", map[string]any{"rebuild": map[string]any{"imageRef": b.image}}},
	}
	for _, a := range bodies {
		b.record(ctx, a.name, "ms", func(ctx context.Context) (float64, error) {
			var runs []time.Duration
			for i := 0; i < b.samples/5+1; i++ {
				start := time.Now()
				if err := b.c.do(ctx, "POST", b.c.computeURL("servers/"+id+"/action"), a.body, nil, http.StatusAccepted); err != nil {
					return 0, err
				}
				d, err := b.waitIdle(ctx, id, start)
				if err != nil {
					return 0, err
				}
				runs = append(runs, d)
			}
			return ms(percentile(runs, 50)), nil
		})
	}
	if _, err := b.deleteMany(ctx, b.prefix+"-act", b.concurrency); err != nil {
		b.figures = append(b.figures, Figure{Name: "cleanup", Error: err.Error()})
	}
}

// rss records the server process's resident memory when its pid is known.
func (b *bench) rss(ctx context.Context, servers int) {
	if b.pid == 0 {
		return
	}
	time.Sleep(b.rest) // at rest: no requests for a while
	b.record(ctx, fmt.Sprintf("server process RSS at rest, %d servers", servers), "MB", func(context.Context) (float64, error) {
		return readRSS(b.pid)
	})
}

// readRSS reads VmRSS of pid from /proc, in MB.
func readRSS(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
