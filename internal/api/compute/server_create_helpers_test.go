package compute_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/api"
	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// createCloud is the compute API over a real store with seeded flavors,
// the kumo-tiny image, quotas, and a running agent with the fake driver
// (host "fake-host" in zone "nova").
type createCloud struct {
	client  *apitest.Client
	servers *compute.Service
	flavors *flavor.Service
	imageID string
}

func newCreateCloud(t *testing.T, db *store.DB) *createCloud {
	t.Helper()
	ctx := context.Background()
	flavors := flavor.New(db)
	if err := flavors.SeedDefaults(ctx); err != nil {
		t.Fatalf("seed flavors: %v", err)
	}
	images := image.New(db, t.TempDir())
	if err := images.SeedTiny(ctx, "admin"); err != nil {
		t.Fatalf("seed image: %v", err)
	}
	page, err := images.List(ctx, &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}, image.ListOptions{})
	if err != nil || len(page.Images) == 0 {
		t.Fatalf("list images: %v", err)
	}
	quotas := quota.New(db, quota.Options{})
	var a *agent.Agent
	servers := compute.New(compute.Deps{DB: db, Flavors: flavors, Images: images, Quotas: quotas, Wake: func(string) {
		if a != nil {
			a.Wake()
		}
	}})
	a = agent.New(db, servers, fake.New(fake.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)), agent.Options{Poll: 20 * time.Millisecond})
	if err := a.Start(ctx); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	v21, v2 := computeapi.NewServices(computeapi.Deps{Flavors: flavors, Images: images, Quotas: quotas, Servers: servers},
		api.Options{Auth: auth.NoAuth{}})
	r := mv.Range{Min: mv.Version{Major: 2, Minor: 1}, Max: mv.Version{Major: 2, Minor: 104}}
	v21.Versions = &r
	mux := http.NewServeMux()
	mux.Handle("/v2.1/", v21)
	mux.Handle("/v2/", v2)
	return &createCloud{client: apitest.New(t, mux), servers: servers, flavors: flavors, imageID: page.Images[0].ID}
}

// body is a minimal valid create body at version (networks from 2.37).
func (cc *createCloud) body(version string, extra map[string]any) map[string]any {
	server := map[string]any{"name": "web", "imageRef": cc.imageID, "flavorRef": "1"}
	if v, err := mv.Parse(version); err == nil && v.AtLeast(2, 37) {
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
// existing server for same_host.
//
// Nova's 2.90 and 2.94 request samples still carry "personality" (gone
// since 2.57) and lack "networks" (required since 2.37), so Nova's own
// schema refuses them; they are brought in line with their version.
func (cc *createCloud) sampleRequest(t *testing.T, rel, version string) map[string]any {
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
		server["imageRef"] = cc.imageID
	}
	if v, err := mv.Parse(version); err == nil {
		if _, ok := server["networks"]; !ok && v.AtLeast(2, 37) {
			server["networks"] = "auto"
		}
		if v.AtLeast(2, 57) {
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
		}
	}
	// Samples that boot from a volume boot from the image instead: kumo
	// has no volume service (see TestServerCreateBlockDevices).
	if bdms, ok := server["block_device_mapping_v2"].([]any); ok {
		for _, item := range bdms {
			m := item.(map[string]any)
			if m["source_type"] == "image" {
				server["imageRef"] = cc.imageID
				m["uuid"] = cc.imageID
				m["destination_type"] = "local"
				delete(m, "volume_size")
				delete(m, "volume_type")
			}
		}
	}
	return body
}

// faultMessage is the message of a Nova fault body.
func createFaultMessage(t *testing.T, r *apitest.Response) string {
	t.Helper()
	for _, v := range r.JSON(t) {
		if m, ok := v.(map[string]any); ok {
			msg, _ := m["message"].(string)
			return msg
		}
	}
	t.Fatalf("not a fault: %s", r.Body)
	return ""
}

// waitForStatus polls the server until it has status.
func (cc *createCloud) waitForStatus(t *testing.T, id, status string) *compute.Server {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := cc.servers.GetAny(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if srv.Status() == status {
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s is %s, want %s", id, srv.Status(), status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
