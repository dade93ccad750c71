package compute

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/hosts"
)

// hostUptime is the host's `uptime` line as Nova's libvirt driver reports
// it, or nil when the host is down (Nova cannot ask it) or its driver
// measures none: Nova's fake driver has no get_host_uptime, and kumo's
// reports none either (it used to give the machine's). The host's agent
// is assumed to share this machine, so /proc is its.
func hostUptime(host hosts.Host, now time.Time) *string {
	if !host.Up(now) || host.HypervisorType == fakeHypervisorType {
		return nil
	}
	raw, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return nil
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return nil
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return nil
	}
	load := "0.00, 0.00, 0.00"
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			load = f[0] + ", " + f[1] + ", " + f[2]
		}
	}
	s := fmt.Sprintf(" %s up %s,  0 users,  load average: %s", now.Format("15:04:05"), upFor(time.Duration(secs)*time.Second), load)
	return &s
}

// fakeHypervisorType is the hypervisor_type of the fake driver's hosts.
const fakeHypervisorType = "fake"

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
