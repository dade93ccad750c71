package network

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"defaults", Options{}, ""},
		{"ipv6 defaults", Options{IPv6: true}, ""},
		{"custom", Options{Pool: "172.16.0.0/12", PrefixLen: 26, IPv6: true, IPv6Prefix: "fd00:1::/56"}, ""},
		{"pool not a cidr", Options{Pool: "10.0.0.0"}, "not an IPv4 CIDR"},
		{"pool is ipv6", Options{Pool: "fd00::/8"}, "not an IPv4 CIDR"},
		{"subnet larger than pool", Options{Pool: "10.0.0.0/16", PrefixLen: 8}, "must lie between"},
		{"subnet too small", Options{PrefixLen: 31}, "must lie between"},
		{"ipv6 prefix too long", Options{IPv6: true, IPv6Prefix: "fd00::/80"}, "must be /64 or shorter"},
		{"ipv6 prefix is ipv4", Options{IPv6: true, IPv6Prefix: "10.0.0.0/8"}, "not an IPv6 CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("New(%+v) = %v, want no error", tt.opts, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New(%+v) = %v, want error containing %q", tt.opts, err, tt.wantErr)
			}
		})
	}
}

func TestSubnetsAreCarvedByIndex(t *testing.T) {
	t.Parallel()
	m, err := New(Options{IPv6: true, IPv6Prefix: "fd6b:756d:6f00::/48"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		idx    int64
		v4, v6 string
	}{
		{0, "10.0.0.0/24", "fd6b:756d:6f00::/64"},
		{1, "10.0.1.0/24", "fd6b:756d:6f00:1::/64"},
		{256, "10.1.0.0/24", "fd6b:756d:6f00:100::/64"},
		{65535, "10.255.255.0/24", "fd6b:756d:6f00:ffff::/64"},
	}
	for _, tt := range tests {
		if got := m.subnet4(tt.idx).String(); got != tt.v4 {
			t.Errorf("subnet4(%d) = %s, want %s", tt.idx, got, tt.v4)
		}
		if got := m.subnet6(tt.idx).String(); got != tt.v6 {
			t.Errorf("subnet6(%d) = %s, want %s", tt.idx, got, tt.v6)
		}
	}
	if m.capacity != 65536 {
		t.Errorf("capacity = %d, want 65536", m.capacity)
	}
	off, _ := New(Options{})
	if off.subnet6(3).IsValid() || off.IPv6() {
		t.Error("IPv6 subnet handed out with IPv6 off")
	}
}

func TestHostRangeSkipsNetworkGatewayAndBroadcast(t *testing.T) {
	t.Parallel()
	p := netip.MustParsePrefix("10.0.3.0/24")
	first, last := hostRange4(p)
	if got := at4(p, first).String(); got != "10.0.3.2" {
		t.Errorf("first host = %s, want 10.0.3.2", got)
	}
	if got := at4(p, last).String(); got != "10.0.3.254" {
		t.Errorf("last host = %s, want 10.0.3.254", got)
	}
	if got := gateway(p).String(); got != "10.0.3.1" {
		t.Errorf("gateway = %s, want 10.0.3.1", got)
	}
	if got := ordinal4(p, netip.MustParseAddr("10.0.3.77")); got != 77 {
		t.Errorf("ordinal4 = %d, want 77", got)
	}
}

func TestEUI64MatchesNeutronSLAAC(t *testing.T) {
	t.Parallel()
	// Neutron gives fa:16:3e:12:34:56 on fd00::/64 the address below.
	got := eui64(netip.MustParsePrefix("fd00::/64"), [6]byte{0xfa, 0x16, 0x3e, 0x12, 0x34, 0x56})
	if want := "fd00::f816:3eff:fe12:3456"; got.String() != want {
		t.Errorf("eui64 = %s, want %s", got, want)
	}
}

func TestRandomMACUsesNovaPrefix(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		m, err := randomMAC()
		if err != nil {
			t.Fatal(err)
		}
		s := formatMAC(m)
		if !strings.HasPrefix(s, "fa:16:3e:") || len(s) != 17 {
			t.Fatalf("MAC %q is not fa:16:3e:xx:xx:xx", s)
		}
		seen[s] = true
	}
	if len(seen) < 95 {
		t.Errorf("only %d distinct MACs in 100 draws", len(seen))
	}
}
