package qemu

import (
	"context"
	"os/exec"
	"testing"
)

func TestChooseAccelExplicit(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{{"kvm", "kvm", ""}, {"tcg", "tcg", ""}, {"xen", "", "unknown qemu accel"}} {
		got, err := chooseAccel(context.Background(), Options{Accel: tc.in, DataDir: t.TempDir()})
		if got != tc.want || (err == nil) != (tc.wantErr == "") {
			t.Errorf("chooseAccel(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// The probe disk must really boot to its mark: checked under TCG, which
// works everywhere qemu does.
func TestProbeDiskBootsUnderTCG(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	if !probeBoot(context.Background(), "qemu-system-x86_64", "tcg") {
		t.Fatal("probe disk did not print its mark under TCG")
	}
}
