package hostlink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/virt"
)

// A live migration's byte streams (virt.MigrationLink) travel over the
// host endpoint as upgraded HTTP/1.1 connections:
//
//	POST /kumo/v1/host/instances/{id}/migration/{channel}
//	Connection: Upgrade
//	Upgrade: kumo-migration
//
// signed as every call, answered 101 Switching Protocols; from then on
// the connection carries the channel's bytes both ways, relayed by the
// destination to its driver (virt.MigrationReceiver.ConnectIncoming).
// The bytes themselves are not signed (QEMU's own migration over TCP is
// not either): the signed call is what lets a stream in.
const migrationProtocol = "kumo-migration"

var channelRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

func migrationPath(id, channel string) string {
	return Prefix + "instances/" + id + "/migration/" + channel
}

// DialMigration implements the stream half of virt.MigrationLink given
// the destination's endpoint URL: a stream of channel to guest id's
// incoming migration there.
func (c *Client) DialMigration(ctx context.Context, endpoint, id, channel string) (io.ReadWriteCloser, error) {
	return c.dialStream(ctx, endpoint, migrationPath(id, channel), migrationProtocol, "migration stream of "+id)
}

// dialStream makes the signed call that upgrades to a stream of
// protocol at path of the endpoint; a 404 is virt.ErrNotFound.
func (c *Client) dialStream(ctx context.Context, endpoint, path, protocol, what string) (io.ReadWriteCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", protocol)
	c.Signer.Sign(req, MaxTTL)
	// Its own transport: an upgraded connection leaves the pool anyway,
	// and a stream must not wait behind another's connection.
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true}}
	if c.HTTP != nil && c.HTTP.Transport != nil {
		hc.Transport = c.HTTP.Transport
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s to %s: %w", what, endpoint, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		err := fmt.Errorf("%s to %s: %s: %s", what, endpoint, resp.Status, strings.TrimSpace(string(msg)))
		if cause := streamRefusals[resp.StatusCode]; cause != nil {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		return nil, err
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return nil, fmt.Errorf("%s to %s: the upgraded connection is not writable", what, endpoint)
	}
	return rw, nil
}

// streamRefusals are the driver's answers a host endpoint refuses a
// stream with, by status, so the caller sees the driver's error.
var streamRefusals = map[int]error{
	http.StatusNotFound:       virt.ErrNotFound,
	http.StatusNotImplemented: virt.ErrNotSupported,
	http.StatusLocked:         virt.ErrNotRunning,
}

// streamer relays migration streams into the host's driver.
type streamer struct {
	receiver virt.MigrationReceiver
}

func (h *streamer) serve(w http.ResponseWriter, r *http.Request) {
	id, channel := r.PathValue("id"), r.PathValue("channel")
	if _, err := uuid.Parse(id); err != nil || !channelRE.MatchString(channel) {
		http.Error(w, "bad instance id or channel", http.StatusBadRequest)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), migrationProtocol) {
		http.Error(w, "a migration stream upgrades to "+migrationProtocol, http.StatusUpgradeRequired)
		return
	}
	if h.receiver == nil {
		http.Error(w, "this host's driver cannot receive live migrations", http.StatusConflict)
		return
	}
	in, err := h.receiver.ConnectIncoming(r.Context(), id, channel)
	if errors.Is(err, virt.ErrNotFound) {
		http.Error(w, "no incoming migration of "+id+" here", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	upgrade(w, migrationProtocol, in)
}

// upgrade answers 101 Switching Protocols to protocol and relays the
// connection to in until either ends.
func upgrade(w http.ResponseWriter, protocol string, in io.ReadWriteCloser) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		in.Close()
		http.Error(w, "cannot upgrade this connection: "+err.Error(), http.StatusInternalServerError)
		return
	}
	// The server's deadlines were for a request; a stream runs as long
	// as its two ends want.
	_ = conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(buf, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+protocol+"\r\n\r\n"); err == nil {
		err = buf.Flush()
	}
	if err != nil {
		conn.Close()
		in.Close()
		return
	}
	virt.Relay(readWriter{Reader: buf.Reader, ReadWriteCloser: conn}, in)
}

// readWriter reads what the server had buffered before the connection's
// own bytes.
type readWriter struct {
	*bufio.Reader
	io.ReadWriteCloser
}

func (rw readWriter) Read(p []byte) (int, error) { return rw.Reader.Read(p) }
