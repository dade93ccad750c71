// Package app wires kumo together: it opens the store, builds the
// services and APIs, and serves them on one listener.
package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
)

// Config is what `kumo serve` is started with.
type Config struct {
	Listen   string // host:port
	DataDir  string // database, images, instances, credentials
	Database string // "" = SQLite in DataDir; postgres:// URL for PostgreSQL
	Driver   string // virt driver: "fake" or "qemu"
	Auth     string // "builtin" or "noauth"
	Host     string // compute host name (default: the machine's hostname)
	// FakeDelay makes every fake-driver operation take this long (tests
	// use it to have work in flight).
	FakeDelay time.Duration
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
	// a bridge per project subnet in a network namespace; root only).
	QemuNetwork string
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
	PublicURL string // base URL clients use, when not the request's host
	TokenTTL  time.Duration
	// MaxBodyBytes limits JSON request bodies (image uploads stream).
	MaxBodyBytes int64
	// PprofListen, when set, serves Go's profiler (/debug/pprof/) on its
	// own address, apart from the APIs.
	PprofListen string
	// MetricsListen, when set, serves Prometheus metrics (/metrics) on
	// its own address, apart from the APIs.
	MetricsListen string
	// MaxConnections caps the client connections open at once (lowered
	// at start if the open-files limit could not hold them).
	MaxConnections int
	// HTTP bounds how long a client connection may go without progress.
	HTTP HTTPTimeouts
}

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
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	c.HTTP.defaults()
}

// Validate rejects configurations kumo cannot run.
func (c *Config) Validate() error {
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
	default:
		return fmt.Errorf("unknown qemu network %q (supported: user, bridge)", c.QemuNetwork)
	}
	switch c.Auth {
	case "builtin", "noauth":
	default:
		return fmt.Errorf("unknown auth %q (supported: builtin, noauth)", c.Auth)
	}
	if c.MaxConnections < 1 {
		return fmt.Errorf("--max-connections must be at least 1, not %d", c.MaxConnections)
	}
	if err := c.floatingOptions().Validate(); err != nil {
		return fmt.Errorf("floating IP pool: %w", err)
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

// ImageDir holds image files.
func (c *Config) ImageDir() string { return filepath.Join(c.DataDir, "images") }

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
