package compute_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/mv"
)

// createCloud is the compute test cloud (host "fake-host" in zone "nova")
// and a client of its API.
type createCloud struct {
	*computetest.Cloud
	client *apitest.Client
}

func newCreateCloud(t *testing.T, database string) *createCloud {
	t.Helper()
	c, client := newCloud(t, database, computetest.Options{})
	return &createCloud{Cloud: c, client: client}
}

// body is a minimal valid create body at version (networks from 2.37).
func (cc *createCloud) body(version string, extra map[string]any) map[string]any {
	server := map[string]any{"name": "web", "imageRef": cc.ImageID, "flavorRef": "1"}
	if v, err := mv.Parse(version); err == nil && v.AtLeast(mv.V2_37) {
		server["networks"] = "auto"
	}
	for k, v := range extra {
		if v == nil {
			delete(server, k)
			continue
		}
		server[k] = v
	}
	return map[string]any{"server": server}
}

// sampleRequest loads a Nova create request sample and points it at
// kumo: the seeded image and flavor, zone "nova", host "fake-host", an
// existing server for same_host, a server group of token's project for
// the group hint.
//
// Nova's 2.90 and 2.94 request samples still carry "personality" (gone
// since 2.57) and lack "networks" (required since 2.37), so Nova's own
// schema refuses them; they are brought in line with their version.
func (cc *createCloud) sampleRequest(t *testing.T, rel, version, token string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apisamples.Root(t), "nova/api_samples", rel))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("parse sample %s: %v", rel, err)
	}
	server := body["server"].(map[string]any)
	if _, ok := server["imageRef"]; ok {
		server["imageRef"] = cc.ImageID
	}
	if v, err := mv.Parse(version); err == nil {
		if _, ok := server["networks"]; !ok && v.AtLeast(mv.V2_37) {
			server["networks"] = "auto"
		}
		if v.AtLeast(mv.V2_57) {
			delete(server, "personality")
		}
	}
	if server["flavorRef"] == "6" {
		server["flavorRef"] = "1"
	}
	if _, ok := server["availability_zone"]; ok {
		server["availability_zone"] = "nova"
	}
	for _, k := range []string{"host", "hypervisor_hostname"} {
		if _, ok := server[k]; ok {
			server[k] = "fake-host"
		}
	}
	for _, k := range []string{"os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"} {
		if h, ok := body[k].(map[string]any); ok {
			h["same_host"] = "48e6a9f6-30af-47e0-bc04-acaed113bb4e"
			if _, ok := h["group"]; ok {
				h["group"] = cc.serverGroupFor(t, token)
			}
		}
	}
	// Requested networks are the project's own.
	if nets, ok := server["networks"].([]any); ok {
		_, project, _ := strings.Cut(token, ":")
		for _, item := range nets {
			if m, ok := item.(map[string]any); ok && m["uuid"] != nil {
				m["uuid"] = cc.networkOf(t, project)
			}
		}
	}
	// Samples that boot from a volume boot from the image instead: kumo
	// has no volume service (see TestServerCreateBlockDevices).
	if bdms, ok := server["block_device_mapping_v2"].([]any); ok {
		for _, item := range bdms {
			m := item.(map[string]any)
			if m["source_type"] == "image" {
				server["imageRef"] = cc.ImageID
				m["uuid"] = cc.ImageID
				m["destination_type"] = "local"
				delete(m, "volume_size")
				delete(m, "volume_type")
			}
		}
	}
	return body
}

// waitForStatus polls the server until it has status.
func (cc *createCloud) waitForStatus(t *testing.T, id, status string) *compute.Server {
	t.Helper()
	return cc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == status })
}

// networkOf is the id of project's private network (made at the first
// ask, as its first server would make it).
func (cc *createCloud) networkOf(t *testing.T, project string) string {
	t.Helper()
	nets, err := cc.App.Networks.Networks(context.Background(), project)
	if err != nil || len(nets) == 0 {
		t.Fatalf("networks of %s: %v %v", project, nets, err)
	}
	return nets[0].ID
}

// serverGroupFor creates an anti-affinity server group in the project of
// a noauth token ("user:project").
func (cc *createCloud) serverGroupFor(t *testing.T, token string) string {
	t.Helper()
	body := map[string]any{"server_group": map[string]any{"name": "sample", "policies": []string{"anti-affinity"}}}
	r := cc.client.As(token, "2.1").Do("POST", "/v2.1/os-server-groups", body).Expect(t, http.StatusOK)
	return r.JSON(t)["server_group"].(map[string]any)["id"].(string)
}
