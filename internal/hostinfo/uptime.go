package hostinfo

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// UptimeLine is the machine's `uptime` line at now, as Nova's libvirt
// driver reports a host's uptime (get_host_uptime): the time, how long
// the machine has been up, the users (always 0 here) and the load.
func UptimeLine(now time.Time) (string, error) {
	raw, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "", fmt.Errorf("read uptime: %w", err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return "", fmt.Errorf("read uptime: /proc/uptime is empty")
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", fmt.Errorf("read uptime: %w", err)
	}
	load := "0.00, 0.00, 0.00"
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			load = f[0] + ", " + f[1] + ", " + f[2]
		}
	}
	return fmt.Sprintf(" %s up %s,  0 users,  load average: %s", now.Format("15:04:05"), upFor(time.Duration(secs)*time.Second), load), nil
}

// upFor is procps' rendering of how long the machine has been up.
func upFor(d time.Duration) string {
	days := int(d.Hours()) / 24
	hours := int(d.Hours()) % 24
	mins := int(d.Minutes()) % 60
	var out string
	if days > 0 {
		unit := "days"
		if days == 1 {
			unit = "day"
		}
		out = fmt.Sprintf("%d %s, ", days, unit)
	}
	if hours > 0 {
		return out + fmt.Sprintf("%2d:%02d", hours, mins)
	}
	return out + fmt.Sprintf("%d min", mins)
}
