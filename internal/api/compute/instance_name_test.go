package compute

import (
	"fmt"
	"testing"
)

func TestInstanceName(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{1, 0xff, 0x1234567, 0x12345678, 0x123456789} {
		if got, want := instanceName(n), fmt.Sprintf("instance-%08x", n); got != want {
			t.Errorf("instanceName(%d) = %q, want %q", n, got, want)
		}
	}
}
