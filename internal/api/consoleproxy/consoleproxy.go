// Package consoleproxy serves Nova's console proxies on kumo's own
// listener, under Mount (Nova runs nova-novncproxy and
// nova-serialproxy on ports of their own):
//
//	GET /console/serial?token=T       websocket: the serial console's bytes
//	GET /console/websockify?token=T   websocket: the guest's RFB (VNC) stream,
//	                                  as websockify relays it to noVNC
//	GET /console/vnc_auto.html?path=console%2Fwebsockify%3Ftoken%3DT
//	                                  a page showing the screen (rfb.js)
//
// A websocket is accepted whatever its origin (the token, a secret the
// API gave its caller, is the authorization) and then checked against
// the console service: a bad, expired or foreign token, a server gone
// or moved, closes it with 1008 (policy violation) and the reason. Each
// binary or text message a client sends goes to the console as it is;
// what the console sends comes back in binary messages. The subprotocol
// "binary" (noVNC's, websockify's) is accepted and answered.
package consoleproxy

import (
	"context"
	"embed"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/errs"
)

// Mount is where the proxies are served on the API listener.
const Mount = "/console/"

const (
	serialPath = Mount + "serial"
	vncPath    = Mount + "websockify"
	pagePath   = Mount + "vnc_auto.html"
)

//go:embed static
var static embed.FS

// SerialURL is the ws:// (wss:// under https) URL of the serial console
// token opens, under root, kumo's public base URL.
func SerialURL(root, token string) string {
	u := base(root)
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path += serialPath
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

// NoVNCURL is the URL of the page showing the screen token opens, in
// Nova's form (vnc_auto.html?path=...): path is the websocket's, from
// the host's root, as noVNC reads it.
func NoVNCURL(root, token string) string {
	u := base(root)
	ws := strings.TrimPrefix(u.Path+vncPath, "/") + "?" + url.Values{"token": {token}}.Encode()
	u.Path += pagePath
	u.RawQuery = url.Values{"path": {ws}}.Encode()
	return u.String()
}

func base(root string) *url.URL {
	u, err := url.Parse(strings.TrimRight(root, "/"))
	if err != nil {
		return &url.URL{Scheme: "http", Host: "localhost"}
	}
	u.RawQuery, u.Fragment = "", ""
	return u
}

// Handler serves the proxies and the page.
func Handler(consoles *console.Service, log *slog.Logger) http.Handler {
	p := &proxy{consoles: consoles, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+serialPath, func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, console.Serial) })
	mux.HandleFunc("GET "+vncPath, func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, console.VNC) })
	for _, name := range []string{"vnc_auto.html", "vnc.html", "vnc_lite.html"} {
		mux.HandleFunc("GET "+Mount+name, file("static/vnc.html", "text/html; charset=utf-8"))
	}
	mux.HandleFunc("GET "+Mount+"rfb.js", file("static/rfb.js", "text/javascript; charset=utf-8"))
	return mux
}

func file(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := static.ReadFile(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

type proxy struct {
	consoles *console.Service
	log      *slog.Logger
}

// maxMessage bounds what a client may send in one message.
const maxMessage = 1 << 20

func (p *proxy) serve(w http.ResponseWriter, r *http.Request, protocol string) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"binary"}, InsecureSkipVerify: true})
	if err != nil {
		return // Accept answered
	}
	// The listener's per-request deadlines do not apply to a console,
	// which stays open while its user works.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws.SetReadLimit(maxMessage)
	ctx := r.Context()
	c, auth, err := p.consoles.Connect(ctx, r.URL.Query().Get("token"), protocol)
	if err != nil {
		reason := "Invalid token"
		if errs.KindOf(err) != errs.KindInternal {
			reason = errs.Message(err)
		} else {
			p.log.Error("console connect", "protocol", protocol, "error", err)
			reason = "console unavailable"
		}
		_ = ws.Close(websocket.StatusPolicyViolation, truncate(reason, 120))
		return
	}
	p.log.Info("console connected", "server", auth.InstanceID, "protocol", protocol, "host", auth.Host)
	relay(ctx, ws, c)
	p.log.Info("console closed", "server", auth.InstanceID, "protocol", protocol)
}

// relay copies the websocket's messages to the console and the console's
// bytes to the websocket until either ends.
func relay(ctx context.Context, ws *websocket.Conn, c io.ReadWriteCloser) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		// 32 KiB messages: within the default read limit of Go clients
		// (coder/websocket's), and browsers take any.
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if werr := ws.Write(ctx, websocket.MessageBinary, buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			break
		}
		if _, err := c.Write(data); err != nil {
			break
		}
	}
	cancel()
	c.Close()
	<-done
	_ = ws.Close(websocket.StatusNormalClosure, "")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
