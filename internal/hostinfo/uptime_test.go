package hostinfo

import (
	"regexp"
	"testing"
	"time"
)

func TestUpFor(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Minute, "5 min"},
		{2*time.Hour + 7*time.Minute, " 2:07"},
		{24*time.Hour + 3*time.Minute, "1 day, 3 min"},
		{93*24*time.Hour + 18*time.Hour + 1*time.Minute, "93 days, 18:01"},
	} {
		if got := upFor(c.d); got != c.want {
			t.Errorf("upFor(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestUptimeLine(t *testing.T) {
	line, err := UptimeLine(time.Date(2026, 12, 7, 8, 32, 11, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// As Nova's sample: " 08:32:11 up 93 days, 18:25,  0 users,  load average: 0.20, 0.12, 0.14".
	if !regexp.MustCompile(`^ 08:32:11 up .+,  0 users,  load average: [0-9.]+, [0-9.]+, [0-9.]+$`).MatchString(line) {
		t.Fatalf("uptime line %q", line)
	}
}
