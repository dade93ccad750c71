// Command bench measures an OpenStack cloud the same way whether it is
// kumo or any other: it logs in from clouds.yaml or OS_* variables and
// times server creation and deletion, listings at growing project sizes,
// show and flavor calls, action round trips, token issue and, when the
// cloud has a network endpoint, networking API calls, printing a
// table and writing JSON. With -start-kumo it builds and starts a local
// kumo (SQLite, or PostgreSQL with -database) and also reads its RSS.
//
//	go run ./bench -start-kumo
//	go run ./bench -cloud mycloud -sizes 0,100 -burst 100
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// bench holds one run's settings and figures.
type bench struct {
	c           *Cloud
	flavor      string
	image       string
	networks    string
	prefix      string
	concurrency int
	clients     int
	samples     int
	ports       int
	repeats     int
	duration    time.Duration
	timeout     time.Duration
	poll        time.Duration
	fastPoll    time.Duration
	pid         int
	rest        time.Duration
	verbose     io.Writer
	figures     []Figure
	kumo        *localKumo // the kumo started with -start-kumo, if any
	build       *kumoBuild // its build, to start more processes from
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cloudsFile = flag.String("clouds", "", "clouds.yaml to read (default: the standard locations)")
		cloudName  = flag.String("cloud", "", "cloud name in clouds.yaml (default: OS_CLOUD, else OS_* variables)")
		startKumo  = flag.Bool("start-kumo", false, "build and start a local kumo on a temporary data dir and measure it")
		database   = flag.String("database", "", "with -start-kumo: a postgres:// URL (default SQLite)")
		pid        = flag.Int("pid", 0, "pid of the cloud's server process, to read its RSS (set by -start-kumo)")
		flavorRef  = flag.String("flavor", "", "flavor id for servers (default: the smallest)")
		imageRef   = flag.String("image", "", "image id for servers (default: the first active image)")
		networks   = flag.String("networks", "none", `"networks" of created servers: none, auto, or "" to omit`)
		burst      = flag.String("burst", "100,1000", "server counts to create at once and delete (comma list)")
		sizes      = flag.String("sizes", "0,100,1000,10000", "project sizes to measure listings at (comma list, ascending)")
		b          = &bench{verbose: os.Stderr}
		jsonOut    = flag.String("json", "bench-results.json", "file to write the figures to")
		skip       = flag.String("skip", "", "scenarios to skip: tokens,burst,one,network,list,show,actions,guests")
		setQuota   = flag.Bool("unlimited-quota", true, "lift the project's instances/cores/ram quotas first, and its port quota during the network figures (needs admin)")
		driver     = flag.String("driver", "fake", "with -start-kumo: the virt driver (fake or qemu)")
		guestImage = flag.String("guest-image", "", "image of a real guest to boot for the guest figures (they run only with this or -test-guest)")
		testGuest  = flag.String("test-guest", "", "a test guest built by scripts/build-test-guest: import it and boot it for the guest figures")
		marker     = flag.String("guest-marker", "KUMO-GUEST-READY", "what the guest prints on its serial console once booted")
		guests     = flag.Int("guests", 10, "guests booted one after another (median) and then at once")
		hosts      = flag.Int("hosts", 1, "with -start-kumo: kumo processes to start on the one database, each its own compute host")
		gomaxprocs = flag.Int("kumo-gomaxprocs", 0, "with -start-kumo: GOMAXPROCS of every kumo process (0: Go's default, every core)")
		fleetSizes = flag.String("fleet", "", "fleet scenario: project sizes to grow to (comma list, ascending, e.g. 1000,10000,100000); empty skips it")
		fleetBatch = flag.Int("fleet-batch", 100, "fleet: servers per create request (min_count = max_count) while seeding")
		fleetPages = flag.Int("fleet-pages", 50, "fleet: limit=100 pages walked per repeat")
		secondAPI  = flag.String("second-api", "serve --host bench-api2", "fleet, with -start-kumo: kumo command of the second API process of the two-process figure (empty: no such figure)")
	)
	flag.IntVar(&b.concurrency, "concurrency", 16, "clients creating and deleting servers")
	flag.IntVar(&b.clients, "clients", 16, "clients for the throughput figures")
	flag.IntVar(&b.samples, "samples", 50, "requests per latency figure")
	flag.IntVar(&b.ports, "ports", 1000, "ports on the bench's network for the port listing figures")
	flag.IntVar(&b.repeats, "repeats", 3, "repeats of every figure (median, min and max are reported)")
	flag.DurationVar(&b.duration, "duration", 20*time.Second, "length of each throughput figure")
	flag.DurationVar(&b.rest, "rest", 25*time.Second, "quiet time before reading the RSS at rest (kumo returns freed memory after 10 s without requests)")
	flag.DurationVar(&b.timeout, "timeout", 30*time.Minute, "longest wait for servers to settle")
	flag.Parse()
	b.networks, b.pid = *networks, *pid
	b.poll, b.fastPoll = 20*time.Millisecond, time.Millisecond
	b.prefix = "bench" + strconv.FormatInt(time.Now().Unix()%100000, 10)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := map[string]string{"database": "(remote cloud)"}
	if *startKumo {
		var procEnv []string
		if *gomaxprocs > 0 {
			procEnv = append(procEnv, "GOMAXPROCS="+strconv.Itoa(*gomaxprocs))
		}
		k, kb, err := launchKumo(ctx, *database, *driver, procEnv)
		if err != nil {
			return err
		}
		defer kb.remove()
		defer k.stop()
		b.kumo, b.build = k, kb
		*cloudsFile, *cloudName, b.pid = k.cloudsFile, "kumo", k.pid
		for i := 2; i <= *hosts; i++ {
			h, err := kb.start(ctx, fmt.Sprintf("host%d", i), fmt.Sprintf("serve --host bench-host%d", i))
			if err != nil {
				return err
			}
			defer h.stop()
		}
		env["database"] = "SQLite"
		if *database != "" {
			env["database"] = "PostgreSQL"
		}
	}
	c, err := connect(ctx, *cloudsFile, *cloudName)
	if err != nil {
		return err
	}
	b.c = c
	if err := b.discover(ctx, *flavorRef, *imageRef); err != nil {
		return err
	}
	if *setQuota {
		if err := b.unlimitedQuota(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "bench: warning: could not lift quotas:", err)
		}
	}
	skipped := map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		skipped[strings.TrimSpace(s)] = true
	}
	started := time.Now()
	if *testGuest != "" {
		if *guestImage, err = c.importTestGuest(ctx, *testGuest, b.prefix+"-test-guest"); err != nil {
			return fmt.Errorf("import the test guest: %w", err)
		}
	}
	if !skipped["tokens"] {
		b.tokens(ctx)
	}
	if !skipped["one"] {
		b.oneServer(ctx)
	}
	if !skipped["network"] {
		b.networking(ctx, *setQuota)
	}
	if !skipped["actions"] {
		b.actions(ctx)
	}
	if !skipped["show"] {
		b.showAndFlavors(ctx)
	}
	if !skipped["burst"] {
		for _, n := range ints(*burst) {
			b.createDelete(ctx, n)
		}
	}
	if *guestImage != "" && !skipped["guests"] {
		g := &guestBench{bench: b, image: *guestImage, marker: *marker, n: *guests}
		g.guestFigures(ctx)
	}
	if !skipped["list"] {
		b.listing(ctx, ints(*sizes))
	}
	if *fleetSizes != "" {
		f := &fleetBench{bench: b, sizes: ints(*fleetSizes), batch: *fleetBatch, pages: *fleetPages, second: strings.Fields(*secondAPI)}
		f.fleet(ctx)
		// A kumo the harness started goes with its servers (its
		// PostgreSQL database is the caller's to drop); another cloud's
		// fleet is deleted.
		if !*startKumo {
			if _, err := b.deleteMany(ctx, b.prefix+"-fleet", b.concurrency); err != nil {
				fmt.Fprintln(os.Stderr, "bench: fleet cleanup:", err)
			}
		}
	}
	// Whatever a scenario left behind goes, whichever ran (but a
	// started kumo's fleet goes with it).
	if *fleetSizes != "" && *startKumo {
	} else if _, err := b.deleteMany(ctx, b.prefix, b.concurrency); err != nil {
		fmt.Fprintln(os.Stderr, "bench: cleanup:", err)
	}
	env["cloud"] = c.compute
	env["go"] = runtime.Version()
	env["cpus"] = strconv.Itoa(runtime.NumCPU())
	env["date"] = started.UTC().Format(time.RFC3339)
	env["took"] = time.Since(started).Round(time.Second).String()
	printTable(os.Stdout, env, b.figures)
	return writeJSON(*jsonOut, env, b.figures)
}

// discover picks the smallest flavor and the first active image unless
// given.
func (b *bench) discover(ctx context.Context, flavor, image string) error {
	b.flavor, b.image = flavor, image
	if b.flavor == "" {
		var out struct {
			Flavors []struct {
				ID  string `json:"id"`
				RAM int    `json:"ram"`
			} `json:"flavors"`
		}
		if err := b.c.get(ctx, "flavors/detail", &out); err != nil {
			return err
		}
		for i, f := range out.Flavors {
			if i == 0 || f.RAM < out.Flavors[0].RAM {
				b.flavor = f.ID
				out.Flavors[0] = f
			}
		}
	}
	if b.image == "" {
		var out struct {
			Images []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"images"`
		}
		// The compute API's image proxy ends at 2.35.
		if err := b.c.do(ctx, "GET", b.c.computeURL("images/detail"), nil, &out, http.StatusOK,
			"OpenStack-API-Version", "compute 2.1", "X-OpenStack-Nova-API-Version", "2.1"); err != nil {
			return err
		}
		for _, im := range out.Images {
			if im.Status == "ACTIVE" {
				b.image = im.ID
				break
			}
		}
	}
	if b.flavor == "" || b.image == "" {
		return fmt.Errorf("no flavor (%q) or image (%q) to boot from; pass -flavor and -image", b.flavor, b.image)
	}
	return nil
}

// unlimitedQuota lifts the project's server quotas so the large sizes fit.
func (b *bench) unlimitedQuota(ctx context.Context) error {
	body := map[string]any{"quota_set": map[string]any{"instances": -1, "cores": -1, "ram": -1}}
	return b.c.do(ctx, "PUT", b.c.computeURL("os-quota-sets/"+url.PathEscape(b.c.projectID)), body, nil, http.StatusOK)
}

func (b *bench) progress(f Figure) {
	if f.Error != "" {
		fmt.Fprintf(b.verbose, "  %-60s ERROR %s\n", f.Name, f.Error)
		return
	}
	fmt.Fprintf(b.verbose, "  %-60s %10.2f %s\n", f.Name, f.Median, f.Unit)
}

func ints(list string) []int {
	var out []int
	for _, s := range strings.Split(list, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func printTable(w io.Writer, env map[string]string, figures []Figure) {
	fmt.Fprintf(w, "\ncloud %s (%s), %s CPUs, %s, took %s\n\n", env["cloud"], env["database"], env["cpus"], env["date"], env["took"])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmedian\tmin\tmax\tunit\t")
	for _, f := range figures {
		if f.Error != "" {
			fmt.Fprintf(tw, "%s\terror: %.60s\t\t\t\t\n", f.Name, f.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%s\t\n", f.Name, f.Median, f.Min, f.Max, f.Unit)
	}
	tw.Flush()
}

func writeJSON(path string, env map[string]string, figures []Figure) error {
	raw, err := json.MarshalIndent(map[string]any{"environment": env, "figures": figures}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
