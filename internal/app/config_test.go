package app

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tweak func(*Config)
		want  string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"qemu driver", func(c *Config) { c.Driver = "qemu" }, ""},
		{"unknown driver", func(c *Config) { c.Driver = "xen" }, `unknown driver "xen"`},
		{"qemu bridge network", func(c *Config) { c.Driver, c.QemuNetwork = "qemu", "bridge" }, ""},
		{"qemu ssh forward", func(c *Config) { c.Driver, c.QemuSSHForward = "qemu", true }, ""},
		{"qemu ssh forward on a bridge", func(c *Config) { c.Driver, c.QemuNetwork, c.QemuSSHForward = "qemu", "bridge", true },
			"--qemu-ssh-forward needs --qemu-network user"},
		{"unknown qemu network", func(c *Config) { c.QemuNetwork = "macvtap" }, `unknown qemu network "macvtap"`},
		{"unknown auth", func(c *Config) { c.Auth = "ldap" }, `unknown auth "ldap"`},
		{"no floating pool", func(c *Config) { c.FloatingRange = "" }, ""},
		{"floating range not a CIDR", func(c *Config) { c.FloatingRange = "203.0.113.0" }, "floating IP pool"},
		{"floating range IPv6", func(c *Config) { c.FloatingRange = "fd00::/64" }, "floating IP pool"},
		{"lowest password hash cost", func(c *Config) { c.PasswordHashCost = 4 }, ""},
		{"password hash cost too low", func(c *Config) { c.PasswordHashCost = 3 }, "--password-hash-cost"},
		{"password hash cost too high", func(c *Config) { c.PasswordHashCost = 32 }, "--password-hash-cost"},
		{"lockout on", func(c *Config) { c.LockoutFailureAttempts = 5 }, ""},
		{"negative lockout attempts", func(c *Config) { c.LockoutFailureAttempts = -1 }, "--lockout-failure-attempts"},
		{"lockout under a second", func(c *Config) { c.LockoutDuration = time.Millisecond }, "--lockout-duration"},
		{"no login limit", func(c *Config) { c.LoginFailures = 0 }, ""},
		{"negative login limit", func(c *Config) { c.LoginFailures = -1 }, "--login-failures-per-source"},
		{"negative login window", func(c *Config) { c.LoginFailureWindow = -time.Second }, "--login-failure-window"},
		{"unlimited images", func(c *Config) { c.ImageLimits["image_count_total"] = -1 }, ""},
		{"image limit below -1", func(c *Config) { c.ImageLimits["image_size_total"] = -2 }, "image limit image_size_total"},
		{"image limit over Keystone's maximum", func(c *Config) { c.ImageLimits["image_count_total"] = 1 << 31 }, "image limit image_count_total"},
		{"negative disk reserve", func(c *Config) { c.ImageDiskReserveMB = -1 }, "image disk reserve"},
		{"max create count", func(c *Config) { c.Lifecycle.MaxCreateCount = 5000 }, ""},
		{"negative max create count", func(c *Config) { c.Lifecycle.MaxCreateCount = -1 }, "--max-create-count must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{FloatingRange: "203.0.113.0/24", FloatingPool: "public"}
			c.Defaults()
			tc.tweak(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestConfigDefaults: kumo serve hashes at Keystone's cost and locks no
// one out unless told to, as Keystone does.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	c.Defaults()
	if c.PasswordHashCost != 12 {
		t.Errorf("password hash cost %d, want Keystone's 12", c.PasswordHashCost)
	}
	if c.LockoutFailureAttempts != 0 || c.LockoutDuration != 1800*time.Second {
		t.Errorf("lockout %d attempts for %v, want off and Keystone's 1800 s", c.LockoutFailureAttempts, c.LockoutDuration)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}
