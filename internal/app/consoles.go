package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api/consoleproxy"
	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/virt"
)

// DialConsole reaches a guest's console through the host endpoint its
// host registered, in kumo serve (its own endpoint) as between kumo api
// and kumo compute processes, and says what the driver answered in the
// console service's words.
func (l hostLink) DialConsole(ctx context.Context, host, id, protocol string) (io.ReadWriteCloser, error) {
	url, err := l.hosts.Endpoint(ctx, host)
	if err != nil {
		return nil, err
	}
	c, err := l.client.DialConsole(ctx, url, id, virt.ConsoleKind(protocol))
	switch {
	case errors.Is(err, virt.ErrNotSupported):
		return nil, errors.Join(err, console.ErrUnavailable)
	case errors.Is(err, virt.ErrNotRunning):
		return nil, errors.Join(err, console.ErrNotRunning)
	case errors.Is(err, virt.ErrNotFound):
		return nil, errors.Join(err, console.ErrNoGuest)
	}
	return c, err
}

// withConsoleProxy serves the console proxies beside h. Their websockets
// take over the connection, so they are served outside the APIs'
// middleware, as the host endpoint is.
func (a *App) withConsoleProxy(h http.Handler) http.Handler {
	proxy := consoleproxy.Handler(a.Consoles, a.Log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, consoleproxy.Mount) {
			proxy.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
