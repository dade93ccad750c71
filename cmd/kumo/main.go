// Command kumo is an OpenStack-compatible compute cloud in one binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/dashboard"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `kumo: an OpenStack-compatible compute cloud in one binary.

Usage:
  kumo serve   [flags]   start the cloud (API, identity, image, scheduler, compute)
  kumo api     [flags]   serve the APIs of a cloud of many hosts (PostgreSQL; no compute)
  kumo compute [flags]   run one compute host of a cloud of many hosts (--host NAME)
  kumo migrate [flags]   apply database migrations and exit
  kumo openrc  [flags]   print export OS_*=... lines for the admin account
  kumo faults  COMMAND   list / add / show / delete / clear fault injection rules; events
  kumo version           print the version

Run "kumo <command> -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = run(ctx, app.RoleAll, os.Args[2:])
	case "api":
		err = run(ctx, app.RoleAPI, os.Args[2:])
	case "compute":
		err = run(ctx, app.RoleCompute, os.Args[2:])
	case "migrate":
		err = migrate(ctx, os.Args[2:])
	case "openrc":
		err = openrc(os.Args[2:], os.Stdout)
	case "faults":
		err = faultsCommand(ctx, os.Args[2:], os.Stdout)
	case "version", "--version", "-v":
		r := mv.Supported()
		fmt.Printf("kumo %s (compute API %s-%s)\n", version, r.Min, r.Max)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "kumo: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kumo: %v\n", err)
		os.Exit(1)
	}
}

// commonFlags registers the flags every data-dir command shares.
func commonFlags(fs *flag.FlagSet, cfg *app.Config) {
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("KUMO_DATA_DIR", "./kumo-data"), "directory for the database, images, instances and credentials")
	fs.StringVar(&cfg.Database, "database", os.Getenv("KUMO_DATABASE"), "database: empty for SQLite in the data dir, or a postgres:// URL")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// run starts a kumo process of role: kumo serve, api or compute.
func run(ctx context.Context, role app.Role, args []string) error {
	cfg := app.Config{Role: role}
	name := "serve"
	if role != app.RoleAll {
		name = string(role)
	}
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	commonFlags(fs, &cfg)
	defaultListen := "127.0.0.1:8774"
	if role == app.RoleCompute {
		defaultListen = "127.0.0.1:8775"
	}
	fs.StringVar(&cfg.Listen, "listen", envOr("KUMO_LISTEN", defaultListen), "address to listen on")
	fs.StringVar(&cfg.Network.Pool, "fixed-range", network.DefaultPool, "IPv4 range the per-project private networks are carved from")
	fs.IntVar(&cfg.Network.PrefixLen, "fixed-prefix-len", network.DefaultPrefixLen, "size of each project's IPv4 subnet (24 = a /24)")
	fs.BoolVar(&cfg.Network.IPv6, "ipv6", false, "also give every project network an IPv6 /64 and servers an IPv6 address")
	fs.StringVar(&cfg.Network.IPv6Prefix, "ipv6-prefix", network.DefaultIPv6Prefix, "ULA prefix the per-project IPv6 /64s are carved from")
	fs.StringVar(&cfg.PprofListen, "pprof-listen", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (default off)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics (/metrics) on this address, e.g. 127.0.0.1:9100 (default off)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", app.DefaultMaxConnections, "client connections open at once; beyond it idle keep-alive connections are closed, then new ones answered 503 (lowered to fit the open files limit)")
	fs.StringVar(&cfg.SecretKeyFile, "secret-key-file", os.Getenv("KUMO_SECRET_KEY_FILE"), "the cloud's secret key (default <data-dir>/secret.key, made on first start); every kumo process sharing a database must be given the same key")
	fs.StringVar(&cfg.ImagePath, "image-dir", os.Getenv("KUMO_IMAGE_DIR"), "where image files live (default <data-dir>/images); kumo api and compute processes of one cloud share it (NFS or the like), as Glance's file store")
	fs.DurationVar(&cfg.Lifecycle.ReclaimInterval, "reclaim-interval", 0, "keep deleted servers restorable this long before reclaiming them (0: delete at once)")
	fs.DurationVar(&cfg.Lifecycle.ShelvedOffloadTime, "shelved-offload-time", 0, "offload shelved servers from their host after this long (0: at once, negative: never)")
	fs.DurationVar(&cfg.Lifecycle.ResizeConfirmWindow, "resize-confirm-window", 0, "confirm resizes automatically after this long (0: never)")
	fs.StringVar(&cfg.FaultsFile, "faults", os.Getenv("KUMO_FAULTS"), "YAML file of fault injection rules, stored at start in place of the ones it held before (see README, Fault injection)")
	fs.DurationVar(&cfg.Scheduler.ServiceDownTime, "service-down-time", scheduler.DefaultServiceDownTime, "a compute host whose heartbeat is older is down: os-services and os-hypervisors say so and the scheduler places nothing there (Nova's service_down_time)")
	if role != app.RoleCompute {
		cfg.Scheduler.Multipliers = map[string]float64{}
		for _, w := range scheduler.Weighers() {
			fs.Func(strings.ReplaceAll(w.Option, "_", "-"), fmt.Sprintf("multiplier of the scheduler's %s (Nova's [filter_scheduler] %s; default %g; an aggregate's %s metadata overrides it for its hosts)",
				w.Name, w.Option, w.Default, w.Option), func(s string) error {
				v, err := strconv.ParseFloat(s, 64)
				cfg.Scheduler.Multipliers[w.Option] = v
				return err
			})
		}
		fs.StringVar(&cfg.RateLimits, "rate-limits", os.Getenv("KUMO_RATE_LIMITS"), "request rate limits of the compute API, per project, shared by every API process: default (the Compute API v2 document's table) or a YAML file of rules (see README, Rate limits; default off)")
		fs.StringVar(&cfg.Auth, "auth", "builtin", "authentication: builtin (Keystone subset) or noauth (token user:project; tests only)")
		fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL clients reach kumo at (default: the request's host)")
		fs.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "lifetime of issued tokens")
		fs.IntVar(&cfg.PasswordHashCost, "password-hash-cost", identity.DefaultPasswordHashCost, "bcrypt cost of new password hashes (Keystone's password_hash_rounds; 4-31, each step doubles the time of a password login; lower it only for throwaway test clouds)")
		fs.IntVar(&cfg.LockoutFailureAttempts, "lockout-failure-attempts", 0, "lock a user after this many consecutive failed password logins (Keystone's lockout_failure_attempts; 0: never)")
		fs.DurationVar(&cfg.LockoutDuration, "lockout-duration", identity.DefaultLockoutDuration, "how long such a lock lasts (Keystone's lockout_duration); updating the user as admin unlocks it sooner")
		fs.IntVar(&cfg.LoginFailures, "login-failures-per-source", app.DefaultLoginFailures, "failed logins a client address may make in a row before it gets 429s; they come back over --login-failure-window (0: no limit)")
		fs.DurationVar(&cfg.LoginFailureWindow, "login-failure-window", app.DefaultLoginFailureWindow, "time over which a client address's allowance of failed logins comes back")
		fs.StringVar(&cfg.FloatingRange, "floating-range", "203.0.113.0/24", "IPv4 range of the floating IP pool (empty: no floating IPs)")
		fs.StringVar(&cfg.FloatingPool, "floating-pool", "public", "name of the floating IP pool")
		fs.BoolFunc("allow-resize-to-same-host", "Nova's allow_resize_to_same_host (default true, as DevStack sets it): a resize stays on its host when it fits there; false always moves it to another host", func(s string) error {
			allow, err := strconv.ParseBool(s)
			cfg.Lifecycle.NoResizeToSameHost = !allow
			return err
		})
		fs.IntVar(&cfg.Lifecycle.MaxCreateCount, "max-create-count", compute.DefaultMaxCreateCount, "most servers one create makes: a larger max_count is lowered to it, a larger min_count refused")
		fs.Int64Var(&cfg.ImageDiskReserveMB, "image-disk-reserve-mb", app.DefaultImageDiskReserveMB, "free space in MiB image uploads must leave on the data dir's filesystem (0: none)")
		cfg.ImageLimits = app.DefaultImageLimits()
		for _, l := range []struct{ flag, resource, usage string }{
			{"image-size-total-mb", image.QuotaImageSizeTotal, "default image_size_total: MiB of image data each project may store"},
			{"image-stage-total-mb", image.QuotaImageStageTotal, "default image_stage_total: MiB each project may stage for import"},
			{"image-count-total", image.QuotaImageCountTotal, "default image_count_total: images each project may have"},
			{"image-count-uploading", image.QuotaImageCountUploading, "default image_count_uploading: uploads each project may run at once"},
		} {
			fs.Func(l.flag, fmt.Sprintf("%s (-1: unlimited; registered when missing, then changed through the identity API; default %d)",
				l.usage, cfg.ImageLimits[l.resource]), func(s string) error {
				n, err := strconv.ParseInt(s, 10, 64)
				cfg.ImageLimits[l.resource] = n
				return err
			})
		}
	}
	if role != app.RoleAPI {
		fs.StringVar(&cfg.Driver, "driver", "fake", "virt driver: fake (simulated guests) or qemu (real guests with qemu-system-x86_64)")
		fs.StringVar(&cfg.QemuAccel, "qemu-accel", "auto", "qemu driver accelerator: auto (KVM if a probe boot proves it works, else TCG), kvm or tcg")
		fs.BoolVar(&cfg.ForceConfigDrive, "force-config-drive", false, "qemu driver: give every guest a config drive, asked for or not (Nova's force_config_drive)")
		fs.BoolVar(&cfg.QemuSSHForward, "qemu-ssh-forward", false, "qemu driver: forward a free 127.0.0.1 port to port 22 of each guest's first NIC (user networking); the port is logged and kept in <data-dir>/instances/<id>/ssh-port")
		fs.StringVar(&cfg.QemuNetwork, "qemu-network", "user", "qemu driver: user (QEMU's user-mode networking, no privileges) or bridge (root: taps on a Linux bridge per network in network namespaces kumo creates; security groups, routers, floating IPs, DHCP and the metadata service act on the guests' traffic)")
		fs.StringVar(&cfg.ExternalInterface, "external-interface", "", "bridge networking: join the external network to the host through this interface (a host interface is moved onto the external network's bridge; a name no interface has gets a veth pair whose host end has it); default: the external network stays apart from the host")
		fs.StringVar(&cfg.HostURL, "host-url", "", "base URL other compute hosts reach this host's endpoint (/kumo/v1/host/) at, to send it servers that move here (default: --public-url, else http://<listen>)")
		fs.StringVar(&cfg.Host, "host", "", "compute host name this process registers (default: the machine's hostname)")
		fs.DurationVar(&cfg.Fake.Delay, "fake-delay", 0, "fake driver: how long each guest operation takes (default instant)")
		fs.IntVar(&cfg.HostVCPUs, "host-vcpus", 0, "vCPUs the compute host offers (default: the machine's)")
		fs.IntVar(&cfg.HostMemoryMB, "host-memory-mb", 0, "memory in MB the compute host offers (default: the machine's)")
		fs.IntVar(&cfg.HostDiskGB, "host-disk-gb", 0, "disk in GB the compute host offers (default: the data dir's filesystem)")
		fs.Int64Var(&cfg.VolumeCapacityGB, "volume-capacity-gb", 0, "GiB volumes and snapshots may take in the data dir (default: the size of its filesystem)")
	}
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	_ = fs.Parse(args)
	if cfg.PprofListen == "" {
		// Nobody can read heap profiles without the profiler, and sampling
		// them keeps a table of call stacks (about 1.5 MB) resident.
		runtime.MemProfileRate = 0
	}
	if os.Getenv("GOGC") == "" {
		// kumo's live heap is small (3-10 MB with 10,000 servers), so at
		// Go's default of 100 the collector ran every few requests. At
		// 400, GET /servers/{id} with 16 clients served 9,400/s instead of
		// 7,600/s, for about 40 MB more at peak under load; at rest the
		// idle trim hands that memory back.
		debug.SetGCPercent(400)
	}

	log := newLogger(os.Stderr, *logLevel)
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr net.Addr) {
		if role == app.RoleCompute {
			log.Info("kumo compute host listening", "addr", addr.String(), "host", a.Config.Hostname(), "data_dir", a.Config.DataDir, "driver", a.Config.Driver)
			fmt.Fprintf(os.Stderr, "\nkumo compute host %s is running (host endpoint http://%s)\n", a.Config.Hostname(), addr)
			return
		}
		log.Info("kumo listening", "role", name, "addr", addr.String(), "data_dir", a.Config.DataDir, "driver", a.Config.Driver, "auth", a.Config.Auth)
		fmt.Fprintf(os.Stderr, "\nkumo is serving OpenStack on http://%s\n", addr)
		if a.Config.Auth == "builtin" {
			fmt.Fprintf(os.Stderr, "Its dashboard is at http://%s%s (the admin's password is in clouds.yaml)\n", addr, dashboard.Prefix)
		}
		if a.Config.Auth == "builtin" && role == app.RoleAPI {
			if _, err := os.Stat(a.Config.CloudsFile()); err != nil {
				fmt.Fprintf(os.Stderr, "The admin credentials are in the clouds.yaml of the kumo api that first started on this database.\n\n")
				return
			}
		}
		if a.Config.Auth == "builtin" {
			fmt.Fprintf(os.Stderr, "To use it with the openstack CLI:\n\n  export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=%s\n  openstack flavor list\n\n", absPath(a.Config.CloudsFile()), app.CloudName)
		} else {
			fmt.Fprintf(os.Stderr, "Authentication is off (noauth): send X-Auth-Token: user:project, or admin:admin.\n\n")
		}
	})
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func migrate(ctx context.Context, args []string) error {
	var cfg app.Config
	fs := flag.NewFlagSet("migrate", flag.ExitOnError)
	commonFlags(fs, &cfg)
	_ = fs.Parse(args)
	cfg.Defaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	if cfg.Database == "" {
		// The data dir's own SQLite database: not under a running kumo.
		// (PostgreSQL migrations take an advisory lock of their own.)
		lock, err := app.LockDataDir(cfg.DataDir, app.CurrentHolder("migrate"))
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	db, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	// A database migrated by a newer kumo is left alone.
	if err := db.CheckSchema(ctx, true); err != nil {
		return err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("applied %d migrations; schema version %d\n", n, v)
	return nil
}

func openrc(args []string, out io.Writer) error {
	var cfg app.Config
	fs := flag.NewFlagSet("openrc", flag.ExitOnError)
	commonFlags(fs, &cfg)
	_ = fs.Parse(args)
	cfg.Defaults()
	creds, err := app.ReadClouds(cfg.CloudsFile())
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, app.OpenRC(creds))
	return err
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
