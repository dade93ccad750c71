package quota

import (
	"math"
	"math/big"
)

// Quota sums never wrap. Limits are at most MaxLimit through the API, but
// counts come from requests (a create's max_count may be 10^20) and from
// products (count × vCPUs, count × MiB), so an int sum could overflow to
// a small or negative number and pass a check. The int helpers saturate
// at the ends of int's range, where every limit is exceeded; the instance
// checks, whose requests may be any size, compute in math/big exactly.

// AddSat is a+b, saturated at math.MaxInt and math.MinInt.
func AddSat(a, b int) int {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt
	}
	return s
}

// SubSat is a-b, saturated at math.MaxInt and math.MinInt.
func SubSat(a, b int) int {
	if b == math.MinInt {
		if a >= 0 {
			return math.MaxInt
		}
		return a - b // a < 0: a - MinInt fits
	}
	return AddSat(a, -b)
}

// MulSat is a×b, saturated at math.MaxInt and math.MinInt.
func MulSat(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt) || (b == -1 && a == math.MinInt) {
		if (a > 0) == (b > 0) {
			return math.MaxInt
		}
		return math.MinInt
	}
	return p
}

// Exceeds reports whether using delta more of a resource, with used
// already in use, breaks limit (Unlimited or any negative limit: never).
// The sum cannot wrap, so no overflow passes the check.
func Exceeds(limit, used, delta int) bool {
	return limit >= 0 && AddSat(used, delta) > limit
}

// exceedsBig is Exceeds for an exact delta of any size.
func exceedsBig(limit, used int, delta *big.Int) bool {
	if limit < 0 {
		return false
	}
	total := new(big.Int).Add(big.NewInt(int64(used)), delta)
	return total.Cmp(big.NewInt(int64(limit))) > 0
}

// clampInt is n as an int, math.MaxInt (or MinInt) when it does not fit.
func clampInt(n *big.Int) int {
	switch {
	case n.IsInt64() && n.Int64() <= math.MaxInt && n.Int64() >= math.MinInt:
		return int(n.Int64())
	case n.Sign() > 0:
		return math.MaxInt
	}
	return math.MinInt
}

// floorDiv is a÷b rounded down (Python's //), b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
