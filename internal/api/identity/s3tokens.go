package identity

// POST /v3/s3tokens, as keystone/api/s3tokens.py: a service (or an admin)
// checks an S3 request's signature and gets the token body of the
// credential's owner.

import (
	"encoding/json"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) s3tokens(c *api.Call) (*api.Reply, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]json.RawMessage
	if len(b) == 0 || json.Unmarshal(b, &body) != nil || len(body) == 0 {
		return nil, errs.Invalid("request must include a request body")
	}
	var creds struct {
		Access    string `json:"access"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	}
	for _, k := range []string{"credentials", "credential", "ec2Credentials"} {
		if raw, ok := body[k]; ok {
			_ = json.Unmarshal(raw, &creds)
			break
		}
	}
	t, err := h.svc.AuthenticateS3(c.Ctx, identity.S3Credentials{Access: creds.Access, Token: creds.Token, Signature: creds.Signature})
	if err != nil {
		return nil, err
	}
	v, err := h.tokenView(c, t)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"token": v}), nil
}

// ec2tokens answers POST /v3/ec2tokens, as keystone/api/ec2tokens.py: a
// service (or an admin) checks an EC2 request's signature and gets a
// token of the credential's owner.
func (h *handlers) ec2tokens(c *api.Call) (*api.Reply, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]json.RawMessage
	if len(b) == 0 || json.Unmarshal(b, &body) != nil || len(body) == 0 {
		return nil, errs.Invalid("request must include a request body")
	}
	var creds struct {
		Access    string            `json:"access"`
		Signature string            `json:"signature"`
		Host      string            `json:"host"`
		Verb      string            `json:"verb"`
		Path      string            `json:"path"`
		Params    map[string]string `json:"params"`
		Headers   map[string]string `json:"headers"`
		BodyHash  string            `json:"body_hash"`
	}
	for _, k := range []string{"credentials", "credential", "ec2Credentials"} {
		if raw, ok := body[k]; ok {
			_ = json.Unmarshal(raw, &creds)
			break
		}
	}
	t, err := h.svc.AuthenticateEC2(c.Ctx, identity.EC2Request{Access: creds.Access, Signature: creds.Signature, Host: creds.Host,
		Verb: creds.Verb, Path: creds.Path, Params: creds.Params, Headers: creds.Headers, BodyHash: creds.BodyHash})
	if err != nil {
		return nil, err
	}
	v, err := h.tokenView(c, t)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"token": v}).WithHeader("X-Subject-Token", t.ID), nil
}
