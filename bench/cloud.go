package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// Cloud is an authenticated session with an OpenStack cloud: the token
// and endpoints come from gophercloud (so any cloud works); requests go
// through one keep-alive HTTP client so that what is measured is the
// cloud, not the client library.
type Cloud struct {
	auth      gophercloud.AuthOptions
	provider  *gophercloud.ProviderClient
	compute   string // compute endpoint, ending in /
	identity  string // identity v3 endpoint, ending in /
	image     string // image v2 endpoint (with its version), ending in /; "" if none
	network   string // networking v2.0 endpoint (with its version), ending in /; "" if none
	projectID string
	http      *http.Client
	// microversion sent with every compute request.
	microversion string
}

// connect logs in with the named cloud of clouds.yaml (file may be "" for
// the standard locations), or with OS_* variables when cloud is "" and
// OS_CLOUD is unset.
func connect(ctx context.Context, file, cloud string) (*Cloud, error) {
	var (
		ao  gophercloud.AuthOptions
		eo  gophercloud.EndpointOpts
		err error
	)
	if cloud == "" {
		cloud = os.Getenv("OS_CLOUD")
	}
	if cloud != "" {
		opts := []clouds.ParseOption{clouds.WithCloudName(cloud)}
		if file != "" {
			opts = append(opts, clouds.WithLocations(file))
		}
		ao, eo, _, err = clouds.Parse(opts...)
	} else {
		ao, err = openstack.AuthOptionsFromEnv()
		eo.Region = os.Getenv("OS_REGION_NAME")
	}
	if err != nil {
		return nil, fmt.Errorf("read cloud credentials: %w", err)
	}
	ao.AllowReauth = true
	provider, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	computeClient, err := openstack.NewComputeV2(provider, eo)
	if err != nil {
		return nil, fmt.Errorf("find compute endpoint: %w", err)
	}
	identityClient, err := openstack.NewIdentityV3(provider, eo)
	if err != nil {
		return nil, fmt.Errorf("find identity endpoint: %w", err)
	}
	var imageEndpoint string
	if imageClient, err := openstack.NewImageV2(provider, eo); err == nil {
		imageEndpoint = imageClient.Endpoint + "v2/"
		if strings.HasSuffix(imageClient.Endpoint, "/v2/") {
			imageEndpoint = imageClient.Endpoint
		}
	}
	var networkEndpoint string
	if networkClient, err := openstack.NewNetworkV2(provider, eo); err == nil {
		networkEndpoint = networkClient.ResourceBaseURL()
	}
	c := &Cloud{auth: ao, provider: provider, compute: computeClient.Endpoint, identity: identityClient.Endpoint, image: imageEndpoint,
		network: networkEndpoint,
		http: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}},
		microversion: "2.37"}
	var tok struct {
		Token struct {
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := c.do(ctx, "GET", c.identity+"auth/tokens", nil, &tok, http.StatusOK, "X-Subject-Token", provider.Token()); err != nil {
		return nil, fmt.Errorf("read token project: %w", err)
	}
	c.projectID = tok.Token.Project.ID
	return c, nil
}

// computeURL is the compute endpoint's path p (no leading slash).
func (c *Cloud) computeURL(p string) string { return c.compute + strings.TrimPrefix(p, "/") }

// networkURL is the networking endpoint's path p (no leading slash, no
// version: "ports", not "v2.0/ports").
func (c *Cloud) networkURL(p string) string { return c.network + strings.TrimPrefix(p, "/") }

// do sends a JSON request and decodes a JSON answer into out (when not
// nil), failing unless the status is want. headers are extra name/value
// pairs.
func (c *Cloud) do(ctx context.Context, method, url string, body, out any, want int, headers ...string) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", c.provider.Token())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OpenStack-API-Version", "compute "+c.microversion)
	req.Header.Set("X-OpenStack-Nova-API-Version", c.microversion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d (want %d): %.300s", method, url, resp.StatusCode, want, raw)
	}
	if body, ok := out.(*[]byte); ok {
		*body = raw
		return nil
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, url, err)
		}
	}
	return nil
}

// get is do for a GET answering 200.
func (c *Cloud) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, "GET", c.computeURL(path), nil, out, http.StatusOK)
}

// issueToken logs in once more with the session's credentials, for the
// token latency figure.
func (c *Cloud) issueToken(ctx context.Context) error {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": c.auth.Username, "password": c.auth.Password,
			"domain": map[string]any{"name": orDefault(c.auth.DomainName, "Default")}}}},
		"scope": map[string]any{"project": map[string]any{"id": c.projectID}},
	}}
	return c.do(ctx, "POST", c.identity+"auth/tokens", body, nil, http.StatusCreated)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
