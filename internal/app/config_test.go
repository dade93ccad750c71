package app

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
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
