package network

import "testing"

// TestPortStatus: Neutron's status of a port by its device and state.
func TestPortStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		port Port
		want string
	}{
		{"server running", Port{DeviceOwner: "compute:nova", Active: true, AdminStateUp: true}, "ACTIVE"},
		{"server stopped", Port{DeviceOwner: "compute:nova", AdminStateUp: true}, "DOWN"},
		{"server running, port down", Port{DeviceOwner: "compute:nova", Active: true}, "DOWN"},
		{"no device", Port{AdminStateUp: true}, "DOWN"},
		{"router interface", Port{DeviceOwner: RouterInterfaceOwner, AdminStateUp: true}, "ACTIVE"},
		{"router interface down", Port{DeviceOwner: RouterInterfaceOwner}, "DOWN"},
		{"router gateway", Port{DeviceOwner: RouterGatewayOwner, AdminStateUp: true}, "ACTIVE"},
		{"floating IP", Port{DeviceOwner: FloatingIPOwner, AdminStateUp: true}, "N/A"},
	}
	for _, tc := range tests {
		if got := tc.port.Status(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
