package hostlink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/virt"
)

// A host's uptime (Nova's get_host_uptime, which the hypervisors API
// asks the compute host over RPC) is asked of the host itself:
//
//	GET /kumo/v1/host/uptime
//
// answered 200 with the `uptime` line as text, or 501 when the host's
// driver measures none (virt.ErrNotSupported for HostUptime).
const uptimePath = Prefix + "uptime"

// uptimeLimit bounds the line read back.
const uptimeLimit = 1024

// HostUptime asks the host whose endpoint is endpoint for its uptime line.
func (c *Client) HostUptime(ctx context.Context, endpoint string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+uptimePath, nil)
	if err != nil {
		return "", fmt.Errorf("host uptime: %w", err)
	}
	c.Signer.Sign(req, MaxTTL)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("host uptime of %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, uptimeLimit))
	if err != nil {
		return "", fmt.Errorf("host uptime of %s: %w", endpoint, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return string(body), nil
	case http.StatusNotImplemented:
		return "", fmt.Errorf("host uptime of %s: %w", endpoint, virt.ErrNotSupported)
	}
	return "", fmt.Errorf("host uptime of %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(body)))
}

// uptime answers GET uptime from the host's driver.
func uptime(driver virt.Driver) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reporter, ok := driver.(virt.UptimeReporter)
		if !ok {
			http.Error(w, "this host's driver measures no uptime", http.StatusNotImplemented)
			return
		}
		line, err := reporter.HostUptime(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, line)
	}
}
