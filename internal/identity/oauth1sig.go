package identity

// OAuth 1.0 signed requests (RFC 5849), checked as Keystone checks them
// through oauthlib: the protocol parameters come in the Authorization
// header; the signature covers the method, the URL and every parameter;
// HMAC-SHA1, HMAC-SHA256, HMAC-SHA512 and PLAINTEXT signatures are
// recomputed with the consumer's and the token's secrets and compared in
// constant time.

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// OAuthRequest is a request signed by an OAuth1 client: its method, the
// URL the client sent it to (scheme://host/path), its Authorization
// header and its raw query.
type OAuthRequest struct {
	Method        string
	URL           string
	Authorization string
	Query         string
}

// signatureMethods are oauthlib's allowed signature methods, in its
// order (its error message lists them). kumo, like Keystone, has no RSA
// key for a consumer, so RSA signatures never verify.
var signatureMethods = []string{"HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA512", "RSA-SHA1", "RSA-SHA256", "RSA-SHA512", "PLAINTEXT"}

// timestampLifetime is oauthlib's timestamp_lifetime: how far a request's
// timestamp may be from the server's clock.
const timestampLifetime = 600

// signedRequest is a parsed OAuthRequest.
type signedRequest struct {
	method, url string
	// params are every parameter but oauth_signature and realm, decoded.
	params [][2]string
	// oauth are the protocol parameters (oauth_*), decoded.
	oauth map[string]string
}

// oauthInvalid is Keystone's 400 for a request oauthlib refuses.
func oauthInvalid(description string) error {
	return errs.Invalid("Validation failed with errors: invalid_request, detail message is: %s.", description)
}

// parseOAuth reads the protocol parameters of r's Authorization header
// (oauthlib's parse_authorization_header) and its query.
func parseOAuth(r OAuthRequest) (*signedRequest, error) {
	scheme, rest, _ := strings.Cut(r.Authorization, " ")
	if !strings.EqualFold(scheme, "OAuth") {
		// Keystone's OAuthHeadersMissingError is a 500; a missing header
		// is the client's error, so kumo answers 400 with its words.
		return nil, errs.Invalid("No Authorization headers found, cannot proceed with OAuth related calls. If running under HTTPd or Apache, ensure WSGIPassAuthorization is set to On.")
	}
	s := &signedRequest{method: strings.ToUpper(r.Method), url: r.URL, oauth: map[string]string{}}
	for _, item := range splitHeaderList(rest) {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return nil, errs.Invalid("Malformed authorization header")
		}
		k = strings.TrimSpace(k)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if strings.HasPrefix(k, "oauth_") {
			dec, err := url.PathUnescape(v)
			if err != nil {
				return nil, errs.Invalid("Malformed authorization header")
			}
			v = dec
			if _, dup := s.oauth[k]; dup {
				return nil, oauthInvalid("Duplicate OAuth1 entries.")
			}
			s.oauth[k] = v
		}
		if k != "realm" && k != "oauth_signature" {
			s.params = append(s.params, [2]string{k, v})
		}
	}
	if r.Query != "" {
		for _, pair := range strings.Split(r.Query, "&") {
			k, v, _ := strings.Cut(pair, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				return nil, oauthInvalid("Malformed query string.")
			}
			if strings.HasPrefix(k, "oauth_") {
				return nil, oauthInvalid("oauth_ params must come from only 1 signaturetype but were found in AUTH_HEADER, QUERY")
			}
			s.params = append(s.params, [2]string{k, v})
		}
	}
	return s, nil
}

// splitHeaderList splits a comma separated header list, commas inside
// quoted strings excepted (urllib's parse_http_list).
func splitHeaderList(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ',' && !quoted:
			if t := strings.TrimSpace(cur.String()); t != "" {
				out = append(out, t)
			}
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// checkProtocol is oauthlib's _check_mandatory_parameters.
func (s *signedRequest) checkProtocol(now time.Time) error {
	o := s.oauth
	for _, k := range []string{"oauth_signature", "oauth_consumer_key", "oauth_nonce", "oauth_timestamp", "oauth_signature_method"} {
		if o[k] == "" {
			return oauthInvalid("Missing mandatory OAuth parameters.")
		}
	}
	if !slices.Contains(signatureMethods, o["oauth_signature_method"]) {
		return errs.Invalid("Validation failed with errors: invalid_signature_method, detail message is: Invalid signature, %s not in ('%s').",
			o["oauth_signature_method"], strings.Join(signatureMethods, "', '"))
	}
	if v, ok := o["oauth_version"]; ok && v != "1.0" {
		return oauthInvalid("Invalid OAuth version.")
	}
	ts := o["oauth_timestamp"]
	if len(ts) != 10 {
		return oauthInvalid("Invalid timestamp size")
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return oauthInvalid("Timestamp must be an integer.")
	}
	if d := now.Unix() - n; d > timestampLifetime || d < -timestampLifetime {
		return oauthInvalid(fmt.Sprintf("Timestamp given is invalid, differ from allowed by over %d seconds.", timestampLifetime))
	}
	if !isOAuthKey(o["oauth_consumer_key"]) {
		return oauthInvalid("Invalid client key format.")
	}
	if strings.Trim(o["oauth_nonce"], hexDigits) != "" {
		return oauthInvalid("Invalid nonce format.")
	}
	return nil
}

const hexDigits = "abcdef0123456789"

// isOAuthKey is Keystone's check of consumer and token keys: uuid4 hex.
func isOAuthKey(k string) bool { return len(k) == 32 && strings.Trim(k, hexDigits) == "" }

// verify reports whether the request's signature is the one its method
// computes with the consumer's and the token's secrets (oauthlib's
// verify_hmac_* and verify_plaintext), compared in constant time.
func (s *signedRequest) verify(consumerSecret, tokenSecret string) bool {
	key := oauthEscape(consumerSecret) + "&" + oauthEscape(tokenSecret)
	var want string
	switch s.oauth["oauth_signature_method"] {
	case "PLAINTEXT":
		want = key
	case "HMAC-SHA1":
		want = s.hmac(sha1.New, key)
	case "HMAC-SHA256":
		want = s.hmac(sha256.New, key)
	case "HMAC-SHA512":
		want = s.hmac(sha512.New, key)
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(s.oauth["oauth_signature"])) == 1
}

func (s *signedRequest) hmac(h func() hash.Hash, key string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(s.baseString()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// baseString is the signature base string (RFC 5849 3.4.1): the method,
// the base string URI and the normalized parameters, each escaped.
func (s *signedRequest) baseString() string {
	pairs := make([]string, 0, len(s.params))
	esc := make([][2]string, 0, len(s.params))
	for _, p := range s.params {
		esc = append(esc, [2]string{oauthEscape(p[0]), oauthEscape(p[1])})
	}
	slices.SortFunc(esc, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	for _, p := range esc {
		pairs = append(pairs, p[0]+"="+p[1])
	}
	return oauthEscape(s.method) + "&" + oauthEscape(baseStringURI(s.url)) + "&" + oauthEscape(strings.Join(pairs, "&"))
}

// baseStringURI is oauthlib's base_string_uri: scheme and host in lower
// case, the default port dropped, no query, and spaces encoded.
func baseStringURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, ok := strings.Cut(host, ":"); ok && (scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		host = h
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.ReplaceAll(scheme+"://"+host+path, " ", "%20")
}

// oauthEscape percent-encodes all but RFC 3986's unreserved characters
// (RFC 5849 3.6).
func oauthEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
