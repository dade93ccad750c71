// Package metadata is the link-local metadata service guests reach at
// http://169.254.169.254: the OpenStack and EC2 layouts of Nova's metadata
// API (nova/api/metadata), answered for the server the request comes from.
//
// The caller listens (one listener per routing-domain namespace) and knows
// which addresses belong to which server there; Handler asks its Resolver
// for the requesting address and its Source for that server's facts.
package metadata

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// Source answers for one server what its metadata holds.
//
// A Source returns an error wrapping ErrNotFound when the server is gone
// (the guest gets 404, as from Nova), any other error gives 500.
type Source interface {
	// Files are the server's OpenStack metadata files as the config drive has
	// them (keys like "openstack/latest/meta_data.json",
	// ".../network_data.json", ".../vendor_data.json", ".../user_data"; no
	// user_data key when the server has no user data). meta_data.json is
	// required; an "admin_pass" in it is never served (Nova gives it only to
	// the config drive).
	Files(ctx context.Context, serverID string) (map[string][]byte, error)
	// Password is the encrypted admin password the guest posted ("" when none).
	Password(ctx context.Context, serverID string) (string, error)
	// SetPassword stores the password the guest posts (at most MaxPasswordSize
	// bytes; Nova keeps it as four 255-character system metadata items
	// password_0..password_3). It may return an error wrapping ErrConflict when
	// a password is already set, closing the window between Handler's check
	// and the store.
	SetPassword(ctx context.Context, serverID, password string) error
	// EC2 gives the facts the EC2 layout needs that the config drive files do
	// not hold.
	EC2(ctx context.Context, serverID string) (EC2Facts, error)
}

// EC2Facts are the EC2 layout's values that meta_data.json does not carry.
type EC2Facts struct {
	// Number is the server's integer id: instance-id is "i-%08x" of it, as
	// Nova formats its instance id.
	Number int64
	// ImageID is the Glance image the server booted from ("" when booted from
	// a volume). ami-id is "ami-%08x" of a stable hash of it: Nova numbers
	// images in a table kumo does not have.
	ImageID string
	// ReservationID is the server's reservation ("r-xxxxxxxx").
	ReservationID string
	// FlavorName is instance-type.
	FlavorName string
	// FixedIPv4 is local-ipv4, the server's first fixed IPv4 address; "" means
	// the requesting address (as Nova falls back to it).
	FixedIPv4 string
	// FloatingIPv4 is public-ipv4, the first floating IP ("" when none).
	FloatingIPv4 string
	// SecurityGroups are the names of the server's security groups.
	SecurityGroups []string
	// RootDeviceName is the root disk's device ("/dev/vda"); "" gives Nova's
	// default block-device-mapping (ami sda1, root /dev/sda1, ...).
	RootDeviceName string
	// EphemeralDevice and SwapDevice are the flavor's ephemeral and swap
	// disks' devices ("" when none).
	EphemeralDevice, SwapDevice string
	// VolumeDevices are the devices of the attached volumes (the root volume
	// too when booted from one): block-device-mapping's ebs0, ebs1, ...
	VolumeDevices []string
}

// Resolver maps the requesting address (as seen in one namespace) to its
// server; ok=false → 404.
type Resolver func(ctx context.Context, remote netip.Addr) (serverID string, ok bool)

// ErrNotFound, wrapped by a Source, says the server is gone.
var ErrNotFound = errors.New("metadata: server not found")

// ErrConflict, wrapped by Source.SetPassword, says a password is already set.
var ErrConflict = errors.New("metadata: password already set")

// MaxPasswordSize is the largest password a guest may post, in bytes (Nova's
// password.py: 4 chunks of 255).
const MaxPasswordSize = 4 * 255

// Handler serves the metadata API; log gets the refused and failed requests
// (nil: none).
func Handler(src Source, resolve Resolver, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{src: src, resolve: resolve, log: log}
}

type handler struct {
	src     Source
	resolve Resolver
	log     *slog.Logger
}

// reply is one response; handlers build it and ServeHTTP writes it.
type reply struct {
	status      int
	contentType string
	body        []byte
	allow       string // the Allow header of a 405
}

const (
	textPlain = "text/plain; charset=UTF-8"
	appJSON   = "application/json"
)

func text(s string) reply {
	return reply{status: http.StatusOK, contentType: textPlain, body: []byte(s)}
}
func raw(b []byte) reply       { return reply{status: http.StatusOK, contentType: textPlain, body: b} }
func jsonReply(b []byte) reply { return reply{status: http.StatusOK, contentType: appJSON, body: b} }

// errorReply is a plain text error body as webob writes one: status line,
// explanation, detail.
func errorReply(status int, explanation, detail string) reply {
	body := strconv.Itoa(status) + " " + http.StatusText(status) + "\n\n" + explanation + "\n"
	if detail != "" {
		body += "\n" + detail + "\n"
	}
	return reply{status: status, contentType: textPlain, body: []byte(body)}
}

func notFound() reply {
	return errorReply(http.StatusNotFound, "The resource could not be found.", "")
}

func badRequest(detail string) reply {
	return errorReply(http.StatusBadRequest,
		"The server could not comply with the request since it is either malformed or otherwise incorrect.", detail)
}

func conflict() reply {
	return errorReply(http.StatusConflict, "There was a conflict when trying to complete your request.", "")
}

func internalError() reply {
	return errorReply(http.StatusInternalServerError,
		"The server has either erred or is incapable of performing the requested operation.",
		"An unknown error has occurred. Please try your request again.")
}

// readOnly answers GET and HEAD with r, anything else with 405.
func readOnly(req *http.Request, r reply) reply {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return r
	}
	e := errorReply(http.StatusMethodNotAllowed, "The method "+req.Method+" is not allowed for this resource.", "")
	e.allow = "GET, HEAD"
	return e
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	h.write(w, req, h.serve(req))
}

func (h *handler) serve(req *http.Request) reply {
	p := cleanPath(req.URL.Path)
	// Nova answers the root before it looks for the instance.
	if p == "/" {
		return readOnly(req, text(strings.Join(append(ec2Versions[:len(ec2Versions):len(ec2Versions)], "latest"), "\n")))
	}
	ctx := req.Context()
	remote, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		h.log.WarnContext(ctx, "metadata request from an unparsable address", "remote", req.RemoteAddr)
		return notFound()
	}
	addr := remote.Addr().Unmap()
	id, ok := h.resolve(ctx, addr)
	if !ok {
		h.log.WarnContext(ctx, "metadata request from an address of no server", "remote", addr)
		return notFound()
	}
	tokens := strings.Split(p[1:], "/")
	var r reply
	switch tokens[0] {
	case "openstack":
		r, err = h.openstack(ctx, req, id, tokens[1:])
	case "ec2":
		r, err = h.ec2(ctx, req, id, addr, tokens[1:])
	default:
		r, err = h.ec2(ctx, req, id, addr, tokens)
	}
	switch {
	case err == nil:
		return r
	case errors.Is(err, ErrNotFound):
		return notFound()
	default:
		h.log.ErrorContext(ctx, "metadata request failed", "server", id, "path", p, "err", err)
		return internalError()
	}
}

// cleanPath normalises the path as Nova does (posixpath.normpath): "/a/../b/"
// is "/b".
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

func (h *handler) write(w http.ResponseWriter, req *http.Request, r reply) {
	hd := w.Header()
	hd.Set("Content-Type", r.contentType)
	hd.Set("Content-Length", strconv.Itoa(len(r.body)))
	if r.allow != "" {
		hd.Set("Allow", r.allow)
	}
	w.WriteHeader(r.status)
	if req.Method != http.MethodHead {
		_, _ = w.Write(r.body)
	}
}
