package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ten := []time.Duration{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", []time.Duration{7}, 99, 7},
		{"median of ten", ten, 50, 5},
		{"p99 of ten is the max", ten, 99, 10},
		{"p0 is the min", ten, 0, 1},
		{"p90 of ten", ten, 90, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.samples, tc.p); got != tc.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", tc.samples, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name             string
		values           []float64
		median, min, max float64
	}{
		{"odd", []float64{3, 1, 2}, 2, 1, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5, 1, 4},
		{"none", nil, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := summarize("x", "ms", tc.values)
			if f.Median != tc.median || f.Min != tc.min || f.Max != tc.max {
				t.Fatalf("summarize(%v) = median %v min %v max %v, want %v %v %v",
					tc.values, f.Median, f.Min, f.Max, tc.median, tc.min, tc.max)
			}
		})
	}
}
