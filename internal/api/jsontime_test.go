package api

import (
	"testing"
	"time"
)

func TestAppendUTCMatchesAppendFormat(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	times := []time.Time{
		{},
		time.Date(2026, 12, 5, 14, 3, 9, 123456789, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2027, 1, 1, 3, 0, 0, 1000, tokyo), // the UTC day before
		time.Date(999, 2, 3, 4, 5, 6, 7000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	layouts := []string{isoSecondsLayout, naiveMicroLayout, time.RFC3339}
	for _, tm := range times {
		for _, layout := range layouts {
			want := tm.UTC().Format(layout)
			if got := string(AppendUTC([]byte("x"), tm, layout)); got != "x"+want {
				t.Errorf("AppendUTC(%v, %q) = %q, want %q", tm, layout, got, "x"+want)
			}
		}
	}
}
