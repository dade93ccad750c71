package identity

// s3tokens: an S3 request signed with an EC2 credential's secret
// authenticates its owner on the credential's project, as
// keystone/api/s3tokens.py and EC2_S3_Resource.handle_authenticate. The
// token is rendered, never stored: its id is not returned.

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
)

// S3Credentials are an s3tokens body's credentials: the access key, the
// request's string to sign (base64) and its signature.
type S3Credentials struct {
	Access    string
	Token     string
	Signature string
}

// AuthenticateS3 checks an S3 signature and returns the token Keystone
// would issue for the credential's user on its project.
func (s *Service) AuthenticateS3(ctx context.Context, in S3Credentials) (*Token, error) {
	if in.Access == "" {
		return nil, errs.Unauthorized("EC2 Signature not supplied")
	}
	ec2, err := s.ec2CredentialForAuth(ctx, in.Access)
	if err != nil {
		return nil, err
	}
	toSign, err := base64.URLEncoding.DecodeString(in.Token)
	if err != nil {
		if toSign, err = base64.StdEncoding.DecodeString(in.Token); err != nil {
			return nil, errs.Unauthorized("Credential signature mismatch")
		}
	}
	var want string
	if strings.HasPrefix(string(toSign), "AWS4") {
		if want, err = s3SignatureV4(toSign, ec2.Secret); err != nil {
			return nil, err
		}
	} else {
		m := hmac.New(sha1.New, []byte(ec2.Secret))
		m.Write(toSign)
		want = base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(in.Signature)) != 1 {
		return nil, errs.Unauthorized("Credential signature mismatch")
	}
	return s.credentialToken(ctx, ec2.UserID, ec2.ProjectID)
}

// s3SignatureV4 is Keystone's _calculate_signature_v4.
func s3SignatureV4(toSign []byte, secret string) (string, error) {
	invalid := errs.Unauthorized("Invalid EC2 signature.")
	parts := strings.Split(string(toSign), "\n")
	if len(parts) != 4 || parts[0] != "AWS4-HMAC-SHA256" {
		return "", invalid
	}
	scope := strings.Split(parts[2], "/")
	if len(scope) != 4 || scope[3] != "aws4_request" {
		return "", invalid
	}
	if scope[2] != "s3" && scope[2] != "iam" && scope[2] != "sts" {
		return "", invalid
	}
	sign := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	key := sign([]byte("AWS4"+secret), scope[0])
	key = sign(key, scope[1])
	key = sign(key, scope[2])
	key = sign(key, "aws4_request")
	return hex.EncodeToString(sign(key, string(toSign))), nil
}

// credentialToken is the ec2credential token of a user on a project: both
// enabled, the user holding a role there.
func (s *Service) credentialToken(ctx context.Context, userID, projectID string) (*Token, error) {
	p, err := getProject(ctx, s.db, projectID)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	if !u.Enabled || !p.Enabled {
		return nil, unauthorized()
	}
	ud, err := getDomain(ctx, s.db, u.DomainID)
	if err != nil {
		return nil, err
	}
	now := truncMicro(s.opts.now())
	t := &Token{UserID: u.ID, UserName: u.Name, UserDomainID: u.DomainID, UserDomainName: ud.Name,
		Methods: []string{"ec2credential"}, AuditIDs: []string{newAuditID()}, IssuedAt: now, ExpiresAt: now.Add(s.opts.TokenTTL)}
	if err := s.scopeToProject(ctx, t, p); err != nil {
		if errs.Is(err, errs.KindUnauthorized) {
			return nil, errs.Unauthorized("User not valid for project.")
		}
		return nil, err
	}
	return t, nil
}
