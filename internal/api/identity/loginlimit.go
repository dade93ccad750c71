package identity

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// Failed logins are limited per client address: each password check
// (POST /v3/auth/tokens with the password method, POST
// /v3/users/{user_id}/password) takes a token from the address's bucket
// and gives it back unless the answer is a 401. Keystone has no such
// limit; its answer here is shaped like Keystone's errors.

// loginSource is the address failed logins are counted against: the
// connection's (X-Forwarded-For is not trusted), IPv6 by /64, the block
// one host usually gets.
func loginSource(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// startLogin takes a token for a password check from c's source; a
// source with none left gets its 429 reply.
func (h *handlers) startLogin(c *api.Call) (source string, refused *api.Reply) {
	source = loginSource(c.Req)
	ok, wait := h.failedLogins.Take(source)
	if ok {
		return source, nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	ct, body := api.KeystoneError(http.StatusTooManyRequests, fmt.Sprintf(
		"Too many failed authentication attempts from this address. Retry in %d seconds.", secs))
	refused = &api.Reply{Status: http.StatusTooManyRequests, ContentType: ct, Raw: body}
	return source, refused.WithHeader("Retry-After", strconv.Itoa(secs))
}

// endLogin gives the token back unless the check failed with a 401.
func (h *handlers) endLogin(source string, err error) {
	if !errs.Is(err, errs.KindUnauthorized) {
		h.failedLogins.Return(source)
	}
}
