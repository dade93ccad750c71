package main

import (
	"math"
	"sort"
	"time"
)

// percentile returns the p-th percentile (0..100) of samples by the
// nearest-rank method; 0 for no samples.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

// Figure is one measured quantity over repeats: the median of the
// repeats' values with their minimum and maximum.
type Figure struct {
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Repeats []float64 `json:"repeats"`
	Error   string    `json:"error,omitempty"`
}

// summarize builds a Figure from the repeats' values.
func summarize(name, unit string, values []float64) Figure {
	f := Figure{Name: name, Unit: unit, Repeats: values}
	if len(values) == 0 {
		return f
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	f.Min, f.Max = s[0], s[len(s)-1]
	if n := len(s); n%2 == 1 {
		f.Median = s[n/2]
	} else {
		f.Median = (s[n/2-1] + s[n/2]) / 2
	}
	return f
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
