package virt

import "testing"

func TestSpecDiagnosticsDisks(t *testing.T) {
	vol := func(id string, bootIndex int) Volume { return Volume{ID: id, BootIndex: bootIndex} }
	tests := []struct {
		name        string
		g           Guest
		configDrive bool
		want        int
	}{
		{"root only", Guest{}, false, 1},
		{"ephemeral, swap, config drive", Guest{EphemeralGB: 1, SwapMB: 512}, true, 4},
		{"image root and two volumes", Guest{Volumes: []Volume{vol("a", -1), vol("b", -1)}}, false, 3},
		{"root volume and another", Guest{Volumes: []Volume{vol("root", 0), vol("a", -1)}}, true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(SpecDiagnostics(&tc.g, PowerRunning, "qemu", tc.configDrive).Disks); got != tc.want {
				t.Errorf("%d disks, want %d", got, tc.want)
			}
		})
	}
}
