package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// fleetBench is the fleet-scale scenario (-fleet): a project grown to
// each of sizes servers, created in batches (min_count = max_count) and
// spread by the scheduler over the compute hosts of the kumo processes
// the harness started (-hosts); at each size the listing latencies, and
// at the largest the show throughput through one API process and
// through two, and the create throughput.
type fleetBench struct {
	*bench
	sizes  []int
	batch  int      // servers per create request while seeding
	pages  int      // limit=100 pages walked per repeat
	second []string // the second API process's kumo command ("" fields: none)
}

// fleet runs the scenario.
func (f *fleetBench) fleet(ctx context.Context) {
	prefix := f.prefix + "-fleet"
	have := 0
	for i, size := range f.sizes {
		if size > have {
			start := time.Now()
			if err := f.seed(ctx, fmt.Sprintf("%s-%d", prefix, size), size-have); err != nil {
				f.figures = append(f.figures, Figure{Name: fmt.Sprintf("fleet: seed %d servers", size), Error: err.Error()})
				return
			}
			seeded := summarize(fmt.Sprintf("fleet: seed %d servers in batches of %d until none BUILD", size-have, f.batch), "s",
				[]float64{time.Since(start).Seconds()})
			f.figures = append(f.figures, seeded)
			f.progress(seeded)
			have = size
			f.hostSpread(ctx, size)
		}
		f.recordPair(ctx, fmt.Sprintf("fleet: GET /servers/detail, %d servers, default page", size), func(ctx context.Context) (time.Duration, time.Duration, error) {
			return latency(ctx, f.samplesFor(size), func(ctx context.Context) error { return f.c.get(ctx, "servers/detail", nil) })
		})
		f.recordPair(ctx, fmt.Sprintf("fleet: GET /servers/detail?limit=100 page, %d servers (first %d pages)", size, f.pages), func(ctx context.Context) (time.Duration, time.Duration, error) {
			pages, err := f.walk(ctx, f.pages)
			return percentile(pages, 50), percentile(pages, 99), err
		})
		if i == len(f.sizes)-1 {
			// Creates first: a second API process that is also a
			// compute host (kumo serve) could be picked for them, and
			// it is stopped after its figure.
			f.createThroughput(ctx, size)
			f.showThroughput(ctx, size)
		}
	}
}

// seed creates n servers named prefix-b<i>-<j> in batches of f.batch
// with f.concurrency clients and waits until none is building.
func (f *fleetBench) seed(ctx context.Context, prefix string, n int) error {
	batches := (n + f.batch - 1) / f.batch
	err := parallel(ctx, batches, f.concurrency, func(ctx context.Context, i int) error {
		count := min(f.batch, n-i*f.batch)
		body := f.createBody(fmt.Sprintf("%s-b%d", prefix, i))
		s := body["server"].(map[string]any)
		s["min_count"], s["max_count"] = count, count
		return f.c.do(ctx, "POST", f.c.computeURL("servers"), body, nil, http.StatusAccepted)
	})
	if err != nil {
		return err
	}
	if err := f.waitNone(ctx, prefix, "BUILD"); err != nil {
		return err
	}
	if n, err := f.count(ctx, prefix, "ERROR"); err != nil || n > 0 {
		return fmt.Errorf("%d servers went to ERROR (%v)", n, err)
	}
	return nil
}

// hostSpread records over how many compute hosts the project's servers
// are spread, and the most on one host (os-hypervisors' running_vms,
// which microversion 2.88 removed).
func (f *fleetBench) hostSpread(ctx context.Context, size int) {
	var out struct {
		Hypervisors []struct {
			Name       string `json:"hypervisor_hostname"`
			RunningVMs int    `json:"running_vms"`
		} `json:"hypervisors"`
	}
	err := f.c.do(ctx, "GET", f.c.computeURL("os-hypervisors/detail"), nil, &out, http.StatusOK,
		"OpenStack-API-Version", "compute 2.87", "X-OpenStack-Nova-API-Version", "2.87")
	if err != nil {
		f.figures = append(f.figures, Figure{Name: "fleet: hosts holding servers", Error: err.Error()})
		return
	}
	used, most := 0, 0
	for _, h := range out.Hypervisors {
		if h.RunningVMs > 0 {
			used++
		}
		most = max(most, h.RunningVMs)
	}
	for _, fig := range []Figure{
		summarize(fmt.Sprintf("fleet: compute hosts holding servers, %d servers", size), "hosts", []float64{float64(used)}),
		summarize(fmt.Sprintf("fleet: most servers on one host, %d servers", size), "servers", []float64{float64(most)}),
	} {
		f.figures = append(f.figures, fig)
		f.progress(fig)
	}
}

// walk reads the first n pages of GET /servers/detail?limit=100 and
// returns each page's latency (ending with its body read).
func (f *fleetBench) walk(ctx context.Context, n int) ([]time.Duration, error) {
	var pages []time.Duration
	path := "servers/detail?limit=100"
	for len(pages) < n {
		var page struct {
			Servers []server `json:"servers"`
		}
		t := time.Now()
		var raw []byte
		if err := f.c.get(ctx, path, &raw); err != nil {
			return pages, err
		}
		pages = append(pages, time.Since(t))
		if err := json.Unmarshal(raw, &page); err != nil {
			return pages, fmt.Errorf("GET %s: decode: %w", path, err)
		}
		if len(page.Servers) < 100 {
			return pages, nil
		}
		path = "servers/detail?limit=100&marker=" + url.QueryEscape(page.Servers[len(page.Servers)-1].ID)
	}
	return pages, nil
}

// showThroughput measures GET /servers/{id} throughput of f.clients
// clients, all through the first API process, then split evenly over
// it and a second API process on the same database, started for this
// figure from f.second and stopped after it. The clients show
// different servers of the fleet, so the row caches must warm up as
// in a cloud with many users.
func (f *fleetBench) showThroughput(ctx context.Context, size int) {
	ids, err := f.listIDs(ctx, f.prefix+"-fleet", "")
	if err != nil || len(ids) == 0 {
		f.figures = append(f.figures, Figure{Name: "fleet: GET /servers/{id} throughput", Error: fmt.Sprint("list servers: ", err)})
		return
	}
	ids = ids[:min(len(ids), 1000)]
	show := func(endpoints []string) func(ctx context.Context) (float64, error) {
		return func(ctx context.Context) (float64, error) {
			var next atomic.Int64
			return throughputEach(ctx, f.clients, f.duration, func(ctx context.Context, client int) error {
				i := int(next.Add(1)) % len(ids)
				return f.c.do(ctx, "GET", endpoints[client%len(endpoints)]+"servers/"+ids[i], nil, nil, http.StatusOK)
			})
		}
	}
	f.record(ctx, fmt.Sprintf("fleet: GET /servers/{id} throughput, %d servers, %d clients, one API process", size, f.clients), "req/s",
		show([]string{f.c.compute}))
	if f.build == nil || len(f.second) == 0 {
		return
	}
	second, err := f.build.start(ctx, "api2", strings.Join(f.second, " "))
	if err != nil {
		f.figures = append(f.figures, Figure{Name: "fleet: second API process", Error: err.Error()})
		return
	}
	defer second.stop()
	other, err := withHost(f.c.compute, second.addr)
	if err != nil {
		f.figures = append(f.figures, Figure{Name: "fleet: second API process", Error: err.Error()})
		return
	}
	// The second process starts cold; the first warmed its row cache and
	// its cache of token principals during the figure above. Each server
	// is shown through the second once first, so the figure compares the
	// two in the same steady state.
	for _, id := range ids {
		if err := f.c.do(ctx, "GET", other+"servers/"+id, nil, nil, http.StatusOK); err != nil {
			f.figures = append(f.figures, Figure{Name: "fleet: second API process", Error: err.Error()})
			return
		}
	}
	f.record(ctx, fmt.Sprintf("fleet: GET /servers/{id} throughput, %d servers, %d clients, two API processes", size, f.clients), "req/s",
		show([]string{f.c.compute, other}))
}

// createThroughput measures single-server creates accepted per second
// by f.clients clients at the fleet's largest size, then waits until
// they are ACTIVE and deletes them.
func (f *fleetBench) createThroughput(ctx context.Context, size int) {
	prefix := f.prefix + "-fleetcreate"
	var n atomic.Int64
	f.record(ctx, fmt.Sprintf("fleet: POST /servers throughput (accepted), %d servers, %d clients", size, f.clients), "req/s", func(ctx context.Context) (float64, error) {
		return throughputEach(ctx, f.clients, f.duration, func(ctx context.Context, _ int) error {
			_, err := f.createServer(ctx, fmt.Sprintf("%s-%d", prefix, n.Add(1)))
			return err
		})
	})
	if err := f.waitNone(ctx, prefix, "BUILD"); err != nil {
		f.figures = append(f.figures, Figure{Name: "fleet: created servers", Error: err.Error()})
	}
	if _, err := f.deleteMany(ctx, prefix, f.concurrency); err != nil {
		f.figures = append(f.figures, Figure{Name: "fleet: delete created servers", Error: err.Error()})
	}
}

// withHost is endpoint with its host:port replaced by addr.
func withHost(endpoint, addr string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	u.Host = addr
	return u.String(), nil
}
