package hostlink

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/virt"
)

// A guest's interactive console (virt.Driver.OpenConsole) reaches the
// API process a client connected to as an upgraded connection, as a
// live migration's streams do:
//
//	POST /kumo/v1/host/instances/{id}/console/{kind}
//	Connection: Upgrade
//	Upgrade: kumo-console
//
// signed as every call, answered 101 and then the console's bytes both
// ways; or 404 (no such guest), 423 (the guest does not run), 501 (no
// such console), which DialConsole turns back into the driver's errors.
const consoleProtocol = "kumo-console"

func consolePath(id string, kind virt.ConsoleKind) string {
	return Prefix + "instances/" + id + "/console/" + string(kind)
}

// DialConsole opens console kind of guest id on the host whose endpoint
// is endpoint.
func (c *Client) DialConsole(ctx context.Context, endpoint, id string, kind virt.ConsoleKind) (io.ReadWriteCloser, error) {
	return c.dialStream(ctx, endpoint, consolePath(id, kind), consoleProtocol, string(kind)+" console of "+id)
}

// consoles relays console streams from the host's driver.
type consoles struct {
	driver virt.Driver
}

func (h *consoles) serve(w http.ResponseWriter, r *http.Request) {
	id, kind := r.PathValue("id"), virt.ConsoleKind(r.PathValue("kind"))
	if _, err := uuid.Parse(id); err != nil || !kind.Valid() {
		http.Error(w, "bad instance id or console kind", http.StatusBadRequest)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), consoleProtocol) {
		http.Error(w, "a console stream upgrades to "+consoleProtocol, http.StatusUpgradeRequired)
		return
	}
	if h.driver == nil {
		http.Error(w, "this host has no guests", http.StatusNotFound)
		return
	}
	// The stream outlives the request's context: the relay ends it.
	in, err := h.driver.OpenConsole(context.WithoutCancel(r.Context()), id, kind)
	if err != nil {
		status := http.StatusInternalServerError
		for s, cause := range streamRefusals {
			if errors.Is(err, cause) {
				status = s
			}
		}
		http.Error(w, err.Error(), status)
		return
	}
	upgrade(w, consoleProtocol, in)
}
