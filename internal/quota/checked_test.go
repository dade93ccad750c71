package quota

import (
	"math"
	"math/big"
	"testing"
)

func TestSaturatingArithmetic(t *testing.T) {
	t.Parallel()
	const maxI, minI = math.MaxInt, math.MinInt
	cases := []struct {
		op   string
		a, b int
		want int
	}{
		{"add", 1, 2, 3},
		{"add", -1, -2, -3},
		{"add", maxI, 1, maxI},
		{"add", maxI, maxI, maxI},
		{"add", minI, -1, minI},
		{"add", minI, minI, minI},
		{"add", maxI, minI, -1},
		{"add", 1, maxI - 1, maxI},
		{"sub", 5, 3, 2},
		{"sub", 0, minI, maxI},
		{"sub", -1, minI, maxI},
		{"sub", -2, minI, maxI - 1},
		{"sub", minI, 1, minI},
		{"sub", maxI, -1, maxI},
		{"sub", -1, maxI, minI},
		{"mul", 0, maxI, 0},
		{"mul", maxI, 0, 0},
		{"mul", 3, 4, 12},
		{"mul", -3, 4, -12},
		{"mul", maxI, 2, maxI},
		{"mul", maxI, -2, minI},
		{"mul", minI, -1, maxI},
		{"mul", -1, minI, maxI},
		{"mul", minI, 1, minI},
		{"mul", 1 << 32, 1 << 31, maxI},            // 2^63
		{"mul", 1 << 32, 1<<31 - 1, 1<<63 - 1<<32}, // fits
		{"mul", 1e10, 1e10, maxI},
		{"mul", 1e10, -1e10, minI},
	}
	for _, c := range cases {
		var got int
		switch c.op {
		case "add":
			got = AddSat(c.a, c.b)
		case "sub":
			got = SubSat(c.a, c.b)
		case "mul":
			got = MulSat(c.a, c.b)
		}
		if got != c.want {
			t.Errorf("%s(%d, %d) = %d, want %d", c.op, c.a, c.b, got, c.want)
		}
	}
}

// TestExceedsNeverWraps: usage plus a delta past int's range exceeds
// every limit; before, used+delta wrapped negative and passed.
func TestExceedsNeverWraps(t *testing.T) {
	t.Parallel()
	huge := new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)
	cases := []struct {
		name               string
		limit, used, delta int
		want               bool
	}{
		{"fits", 10, 9, 1, false},
		{"one over", 10, 10, 1, true},
		{"unlimited", Unlimited, math.MaxInt, math.MaxInt, false},
		{"other negative limit", -5, 100, 1, false},
		{"wraps", 10, 1, math.MaxInt, true},
		{"both huge", MaxLimit, math.MaxInt, math.MaxInt, true},
		{"zero limit", 0, 0, 1, true},
		{"zero delta at limit", 10, 10, 0, false},
	}
	for _, c := range cases {
		if got := Exceeds(c.limit, c.used, c.delta); got != c.want {
			t.Errorf("%s: Exceeds(%d, %d, %d) = %v, want %v", c.name, c.limit, c.used, c.delta, got, c.want)
		}
		if got := exceedsBig(c.limit, c.used, big.NewInt(int64(c.delta))); got != c.want {
			t.Errorf("%s: exceedsBig(%d, %d, %d) = %v, want %v", c.name, c.limit, c.used, c.delta, got, c.want)
		}
	}
	if !exceedsBig(MaxLimit, 0, huge) || exceedsBig(Unlimited, 1, huge) {
		t.Error("exceedsBig with 10^20")
	}
	// 10^20 × 512 MiB wraps in an int64; the exact product does not.
	d := instanceDeltas(huge, 1, 512)
	if d[RAM].String() != "51200000000000000000000" || d[Cores].Cmp(huge) != 0 {
		t.Errorf("instanceDeltas(10^20, 1, 512) = %v", d)
	}
}

func TestClampAndFloorDiv(t *testing.T) {
	t.Parallel()
	huge, _ := new(big.Int).SetString("18446744073709551616", 10)
	for _, c := range []struct {
		n    *big.Int
		want int
	}{
		{big.NewInt(7), 7},
		{big.NewInt(math.MaxInt64), math.MaxInt},
		{huge, math.MaxInt},
		{new(big.Int).Neg(huge), math.MinInt},
	} {
		if got := clampInt(c.n); got != c.want {
			t.Errorf("clampInt(%s) = %d, want %d", c.n, got, c.want)
		}
	}
	for _, c := range []struct{ a, b, want int }{
		{7, 2, 3}, {6, 2, 3}, {-7, 2, -4}, {-6, 2, -3}, {0, 5, 0}, {-1, 512, -1},
	} {
		if got := floorDiv(c.a, c.b); got != c.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
