// Package app wires kumo together: it opens the store, builds the
// services and APIs, and serves them on one listener.
package app

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// Role is the part of a cloud a kumo process runs.
type Role string

const (
	// RoleAll is kumo serve: every API, this host's compute agent and
	// storage worker, migrating the database on start.
	RoleAll Role = ""
	// RoleAPI is kumo api: every API, no agent; any number share a
	// database behind a load balancer.
	RoleAPI Role = "api"
	// RoleCompute is kumo compute: one compute host's agent and storage
	// worker, serving only what hosts ask each other.
	RoleCompute Role = "compute"
)

// Config is what `kumo serve` (or kumo api, kumo compute) is started with.
type Config struct {
	// Role is what this process runs (RoleAll unless kumo api or compute).
	Role     Role
	Listen   string // host:port
	DataDir  string // database, images, instances, credentials
	Database string // "" = SQLite in DataDir; postgres:// URL for PostgreSQL
	Driver   string // virt driver: "fake" or "qemu"
	Auth     string // "builtin" or "noauth"
	Host     string // compute host name (default: the machine's hostname)
	// Fake is how the fake driver behaves: Delay makes every operation
	// take that long (tests use it to have work in flight), Delays and
	// Fail change single operations. Its host name and capacity come
	// from Host and the capacity settings.
	Fake fake.Options
	// QemuAccel is the qemu driver's accelerator: auto, kvm or tcg.
	QemuAccel string
	// ForceConfigDrive gives every qemu guest a config drive, asked for or
	// not (Nova's force_config_drive).
	ForceConfigDrive bool
	// QemuSSHForward forwards a free 127.0.0.1 port to port 22 of each
	// qemu guest (user-mode networking).
	QemuSSHForward bool
	// QemuNetwork is how qemu guests' NICs are connected: "user"
	// (QEMU's user-mode networking, no privileges) or "bridge" (taps on
	// a bridge per network in a network namespace, with security groups,
	// routers, floating IPs, DHCP and metadata acting on their traffic;
	// root only).
	QemuNetwork string
	// ExternalInterface joins the external network to the host (bridge
	// networking): a host interface of that name is moved onto the
	// external network's bridge, else kumo makes a veth pair whose host
	// end has that name. "": the external network stays apart.
	ExternalInterface string
	// HostVCPUs, HostMemoryMB and HostDiskGB override the capacity the
	// compute host reports (0: the machine's real figures).
	HostVCPUs    int
	HostMemoryMB int
	HostDiskGB   int
	// Network configures the built-in address manager (IPv4 pool, subnet
	// size per project, optional IPv6).
	Network network.Options
	// FloatingRange is the IPv4 range floating IPs are handed out from,
	// as the pool named FloatingPool ("" range: no floating IPs).
	FloatingRange string
	FloatingPool  string
	// Lifecycle holds soft delete, shelve offload and resize
	// auto-confirm settings.
	Lifecycle compute.Settings
	// Scheduler is Nova's service_down_time and the scheduler's weight
	// multipliers (zero: Nova's defaults).
	Scheduler scheduler.Config
	PublicURL string // base URL clients use, when not the request's host
	// HostURL is the base URL other compute hosts reach this host's
	// endpoint (/kumo/v1/host/) at, where they send servers moving here
	// (default: PublicURL, else http://<Listen>).
	HostURL  string
	TokenTTL time.Duration
	// PasswordHashCost is the bcrypt cost of new password hashes
	// (default Keystone's 12; lower only for throwaway test clouds).
	PasswordHashCost int
	// LockoutFailureAttempts and LockoutDuration are Keystone's
	// [security_compliance] lockout options (0 attempts: no lockout).
	LockoutFailureAttempts int
	LockoutDuration        time.Duration
	// LoginFailures failed logins are allowed per client address in
	// LoginFailureWindow, refilling evenly (0: no limit; kumo serve's
	// flag defaults to DefaultLoginFailures).
	LoginFailures      int
	LoginFailureWindow time.Duration
	// MaxBodyBytes limits JSON request bodies (image uploads stream).
	MaxBodyBytes int64
	// PprofListen, when set, serves Go's profiler (/debug/pprof/) on its
	// own address, apart from the APIs.
	PprofListen string
	// ImageLimits are the image service's default quotas, Glance's
	// unified limits by resource name (sizes in MiB, -1 unlimited),
	// registered in the identity service for each resource that has no
	// registered limit yet, so what an admin sets later stays; nil means
	// DefaultImageLimits.
	ImageLimits map[string]int64
	// ImageDiskReserveMB is the free space image uploads must leave on
	// the image filesystem (0: none; `kumo serve` defaults to
	// DefaultImageDiskReserveMB).
	ImageDiskReserveMB int64
	// VolumeCapacityGB is the block storage capacity volumes and
	// snapshots may take (0: the size of the data dir's filesystem).
	VolumeCapacityGB int64
	// MetricsListen, when set, serves Prometheus metrics (/metrics) on
	// its own address, apart from the APIs.
	MetricsListen string
	// MaxConnections caps the client connections open at once (lowered
	// at start if the open-files limit could not hold them).
	MaxConnections int
	// HTTP bounds how long a client connection may go without progress.
	HTTP HTTPTimeouts
	// SecretKeyFile is the cloud's secret key (default
	// <data-dir>/secret.key, made on first start): every process on one
	// database must hold the same key.
	SecretKeyFile string
	// ImagePath is where image files live (default <data-dir>/images);
	// kumo api processes sharing a cloud share it, as Glance's file store.
	ImagePath string
	// Clock is the compute service's clock (nil: the wall clock); tests
	// pass a fake one to move past lifecycle deadlines (package apptest).
	Clock func() time.Time
	// FaultsFile, when set, is a YAML file of fault injection rules
	// (internal/faults) stored at start in place of the ones it held
	// before.
	FaultsFile string
	// RecentRequests is how many API requests the process keeps in
	// memory for the request inspector (0: reqlog.DefaultSize).
	RecentRequests int
	// RateLimits is --rate-limits: "" (off), "default" (the Compute API
	// v2 document's table) or a YAML file of rules (internal/apirate).
	RateLimits string
}

// Failed logins allowed per client address by default: 20 in a row, then
// one every 3 s. A person mistyping never meets it; a password guesser
// gets 28,800 guesses a day per address at most.
const (
	DefaultLoginFailures      = 20
	DefaultLoginFailureWindow = time.Minute
)

// DefaultImageLimits are the registered limits DevStack creates for the
// image service (lib/glance: 2000 MiB of images, where Glance's
// documentation shows 1000): a 1 GiB volume uploaded as a raw image fits,
// as Tempest's volume tests expect.
func DefaultImageLimits() map[string]int64 {
	return map[string]int64{
		image.QuotaImageSizeTotal: 2000, image.QuotaImageStageTotal: 2000,
		image.QuotaImageCountTotal: 100, image.QuotaImageCountUploading: 100,
	}
}

// DefaultImageDiskReserveMB keeps room for the database and the guests'
// disks next to the images.
const DefaultImageDiskReserveMB = 512

// Defaults fills unset fields with kumo's embedded defaults.
func (c *Config) Defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8774"
	}
	if c.DataDir == "" {
		c.DataDir = "./kumo-data"
	}
	if c.Driver == "" {
		c.Driver = "fake"
	}
	if c.Auth == "" {
		c.Auth = "builtin"
	}
	if c.QemuNetwork == "" {
		c.QemuNetwork = "user"
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = time.Hour
	}
	if c.PasswordHashCost == 0 {
		c.PasswordHashCost = identity.DefaultPasswordHashCost
	}
	if c.LockoutDuration == 0 {
		c.LockoutDuration = identity.DefaultLockoutDuration
	}
	if c.LoginFailureWindow == 0 {
		c.LoginFailureWindow = DefaultLoginFailureWindow
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.ImageLimits == nil {
		c.ImageLimits = DefaultImageLimits()
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	c.HTTP.defaults()
}

// Validate rejects configurations kumo cannot run.
func (c *Config) Validate() error {
	switch c.Role {
	case RoleAll, RoleAPI:
	case RoleCompute:
		if c.Host == "" {
			return fmt.Errorf("kumo compute needs --host: the name of the compute host it runs")
		}
	default:
		return fmt.Errorf("unknown role %q", c.Role)
	}
	if c.Role != RoleAll && !strings.HasPrefix(c.Database, "postgres") {
		return fmt.Errorf("kumo %s shares its cloud with other processes through PostgreSQL: give --database postgres://…", c.Role)
	}
	switch c.Driver {
	case "fake", "qemu":
	default:
		return fmt.Errorf("unknown driver %q (supported: fake, qemu)", c.Driver)
	}
	switch c.QemuNetwork {
	case "user":
	case "bridge":
		if c.QemuSSHForward {
			return fmt.Errorf("--qemu-ssh-forward needs --qemu-network user (a forward is part of QEMU's user-mode networking)")
		}
		if c.ExternalInterface != "" && (len(c.ExternalInterface) > 15 || strings.ContainsAny(c.ExternalInterface, "/ :\t\n")) {
			return fmt.Errorf("--external-interface %q is not an interface name", c.ExternalInterface)
		}
	default:
		return fmt.Errorf("unknown qemu network %q (supported: user, bridge)", c.QemuNetwork)
	}
	switch c.Auth {
	case "builtin", "noauth":
	default:
		return fmt.Errorf("unknown auth %q (supported: builtin, noauth)", c.Auth)
	}
	if err := identity.CheckPasswordHashCost(c.PasswordHashCost); err != nil {
		return fmt.Errorf("--password-hash-cost: %w", err)
	}
	if c.LockoutFailureAttempts < 0 {
		return fmt.Errorf("--lockout-failure-attempts %d is negative (0 turns lockout off)", c.LockoutFailureAttempts)
	}
	if c.LockoutDuration < time.Second {
		return fmt.Errorf("--lockout-duration %v is under a second (Keystone's lockout_duration is at least 1)", c.LockoutDuration)
	}
	if c.LoginFailures < 0 {
		return fmt.Errorf("--login-failures-per-source %d is negative (0 turns the limit off)", c.LoginFailures)
	}
	if c.LoginFailureWindow <= 0 {
		return fmt.Errorf("--login-failure-window %v is not positive", c.LoginFailureWindow)
	}
	if c.Lifecycle.MaxCreateCount < 0 {
		return fmt.Errorf("--max-create-count must be at least 1 (0: the default %d)", compute.DefaultMaxCreateCount)
	}
	if c.Scheduler.ServiceDownTime < 0 {
		return fmt.Errorf("--service-down-time %v is negative", c.Scheduler.ServiceDownTime)
	}
	if c.MaxConnections < 1 {
		return fmt.Errorf("--max-connections must be at least 1, not %d", c.MaxConnections)
	}
	if err := c.floatingOptions().Validate(); err != nil {
		return fmt.Errorf("floating IP pool: %w", err)
	}
	for _, name := range image.QuotaResources {
		if v, ok := c.ImageLimits[name]; ok && (v < identity.MinLimitValue || v > identity.MaxLimitValue) {
			return fmt.Errorf("image limit %s: %d is outside -1 (unlimited) to %d", name, v, identity.MaxLimitValue)
		}
	}
	if c.VolumeCapacityGB < 0 {
		return fmt.Errorf("volume capacity: %d GB is negative", c.VolumeCapacityGB)
	}
	if c.ImageDiskReserveMB < 0 {
		return fmt.Errorf("image disk reserve: %d MB is negative", c.ImageDiskReserveMB)
	}
	return nil
}

// floatingOptions configure the floating IP pool.
func (c *Config) floatingOptions() floatingip.Options {
	return floatingip.Options{Range: c.FloatingRange, Pool: c.FloatingPool}
}

// DatabaseDSN is the database to open.
func (c *Config) DatabaseDSN() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "kumo.db")
}

// Hostname is the compute host name this process registers.
func (c *Config) Hostname() string {
	if c.Host != "" {
		return c.Host
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "kumo"
}

// CloudsFile is the generated clouds.yaml with the admin credentials.
func (c *Config) CloudsFile() string { return filepath.Join(c.DataDir, "clouds.yaml") }

// VolumeDir holds volume files.
func (c *Config) VolumeDir() string { return filepath.Join(c.DataDir, "volumes") }

// BackupDir holds volume backups (the backup store).
func (c *Config) BackupDir() string { return filepath.Join(c.DataDir, "backups") }

// ImageDir holds image files.
func (c *Config) ImageDir() string {
	if c.ImagePath != "" {
		return c.ImagePath
	}
	return filepath.Join(c.DataDir, "images")
}

// SecretKeyPath is the cloud's secret key file.
func (c *Config) SecretKeyPath() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// holder is how this process names itself in the data dir's lock.
func (c *Config) holder() string {
	if c.Role == RoleAll {
		return "serve"
	}
	return string(c.Role)
}

// AuthURL is the identity endpoint clients log in to.
func (c *Config) AuthURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/") + "/identity/v3"
	}
	host := c.Listen
	if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
		host = "127.0.0.1" + host[strings.Index(host, ":"):]
	}
	return "http://" + host + "/identity/v3"
}

// HostEndpointURL is the URL this process registers for its compute
// host's endpoint (see HostURL); a wildcard listen address stands for
// the loopback, enough for hosts on one machine.
func (c *Config) HostEndpointURL() string {
	switch {
	case c.HostURL != "":
		return strings.TrimRight(c.HostURL, "/")
	case c.PublicURL != "":
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://" + c.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
