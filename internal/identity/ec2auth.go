package identity

// ec2tokens: an EC2 API request signed (signature version 2 or 4) with an
// EC2 credential's secret authenticates its owner on the credential's
// project, as keystone/api/ec2tokens.py with keystoneclient's Ec2Signer.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// EC2Request is an ec2tokens body's credentials: the signed request.
type EC2Request struct {
	Access    string
	Signature string
	Host      string
	Verb      string
	Path      string
	Params    map[string]string
	Headers   map[string]string
	BodyHash  string
}

// ec2AuthTTL is Keystone's [credential] auth_ttl: how old a signed
// request's timestamp may be.
const ec2AuthTTL = 15 * time.Minute

// ec2CredentialForAuth is the EC2 credential of an access key that
// /v3/ec2tokens and /v3/s3tokens check a signature with: Keystone's 404
// "EC2 access key not found." when none is, or it is another type.
func (s *Service) ec2CredentialForAuth(ctx context.Context, access string) (*EC2Credential, error) {
	cred, err := s.GetCredential(ctx, ec2CredentialID(access))
	if errs.Is(err, errs.KindNotFound) || (err == nil && cred.Type != credTypeEC2) {
		return nil, errs.NotFound("EC2 access key not found.")
	}
	if err != nil {
		return nil, err
	}
	return s.GetEC2Credential(ctx, access)
}

// AuthenticateEC2 checks an EC2 request's signature and issues a token
// for the credential's owner on its project.
func (s *Service) AuthenticateEC2(ctx context.Context, in EC2Request) (*Token, error) {
	if in.Access == "" {
		return nil, errs.Unauthorized("EC2 Signature not supplied")
	}
	ec2, err := s.ec2CredentialForAuth(ctx, in.Access)
	if err != nil {
		return nil, err
	}
	ok := ec2SignatureMatches(ec2.Secret, in)
	if !ok {
		// As Keystone: some clients sign without the port.
		if host, _, found := strings.Cut(in.Host, ":"); found {
			in.Host = host
			ok = ec2SignatureMatches(ec2.Secret, in)
		}
	}
	if !ok {
		return nil, errs.Unauthorized("Invalid EC2 signature.")
	}
	if err := s.checkEC2Timestamp(in); err != nil {
		return nil, err
	}
	t, err := s.credentialToken(ctx, ec2.UserID, ec2.ProjectID)
	if err != nil {
		return nil, err
	}
	if err := s.storeToken(ctx, t, t.AuditIDs[0], ""); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Service) checkEC2Timestamp(in EC2Request) error {
	ts := in.Params["Timestamp"]
	if ts == "" {
		ts = in.Headers["X-Amz-Date"]
	}
	if ts == "" {
		ts = in.Params["X-Amz-Date"]
	}
	if ts == "" {
		return nil
	}
	var at time.Time
	var err error
	for _, layout := range []string{"20060102T150405Z", time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if at, err = time.Parse(layout, ts); err == nil {
			break
		}
	}
	if err != nil {
		return errs.Unauthorized("Credential timestamp is invalid: %s", ts)
	}
	if s.opts.now().After(at.Add(ec2AuthTTL)) {
		return errs.Unauthorized("Credential is expired")
	}
	return nil
}

// ec2SignatureMatches computes the request's signature as Ec2Signer does.
func ec2SignatureMatches(secret string, in EC2Request) bool {
	var want string
	switch {
	case in.Params["SignatureVersion"] == "2":
		params := map[string]string{}
		for k, v := range in.Params {
			params[k] = v
		}
		delete(params, "Signature")
		params["SignatureMethod"] = "HmacSHA256" // Ec2Signer always has SHA-256
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(strings.ToUpper(in.Verb) + "\n" + in.Host + "\n" + in.Path + "\n" + canonicalQS(params)))
		want = base64.StdEncoding.EncodeToString(m.Sum(nil))
	case strings.HasPrefix(in.Headers["Authorization"], "AWS4-HMAC-SHA256") || in.Params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256":
		want = ec2SignatureV4(secret, in)
	default:
		return false
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(in.Signature)) == 1
}

// ec2SignatureV4 is Ec2Signer._calc_signature_4 ("" when the request is
// not well formed).
func ec2SignatureV4(secret string, in EC2Request) string {
	authParam := func(name string) string {
		if v, ok := in.Params["X-Amz-"+name]; ok {
			return v
		}
		_, after, _ := strings.Cut(in.Headers["Authorization"], name+"=")
		v, _, _ := strings.Cut(after, ",")
		return v
	}
	date := in.Params["X-Amz-Date"]
	if date == "" {
		date = in.Headers["X-Amz-Date"]
	}
	lower := map[string]string{}
	for k, v := range in.Headers {
		lower[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	signed := authParam("SignedHeaders")
	var hs []string
	for _, h := range strings.Split(signed, ";") {
		if v, ok := lower[h]; ok {
			hs = append(hs, h+":"+v)
		}
	}
	qs := ""
	if strings.ToUpper(in.Verb) != "POST" {
		qs = canonicalQS(in.Params)
	}
	cr := strings.Join([]string{strings.ToUpper(in.Verb), in.Path, qs, strings.Join(hs, "\n") + "\n", signed, in.BodyHash}, "\n")
	scope := strings.Split(authParam("Credential"), "/")
	if len(scope) != 5 || !strings.HasPrefix(date, scope[1]) {
		return ""
	}
	crHash := sha256.Sum256([]byte(cr))
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", date, strings.Join(scope[1:], "/"), hex.EncodeToString(crHash[:])}, "\n")
	sign := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	key := sign([]byte("AWS4"+secret), scope[1])
	key = sign(key, scope[2])
	key = sign(key, scope[3])
	key = sign(key, "aws4_request")
	return hex.EncodeToString(sign(key, toSign))
}

// canonicalQS is Ec2Signer._canonical_qs: sorted keys, values quoted as
// Python's urllib.parse.quote with safe "-_.~".
func canonicalQS(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, k+"="+pyQuote(params[k]))
	}
	return strings.Join(pairs, "&")
}

func pyQuote(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
