package image_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/tasks"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/image"
)

// TestGophercloudImport drives staging, interoperable import and the
// tasks API with gophercloud's image/v2 packages over HTTP.
func TestGophercloudImport(t *testing.T) {
	t.Parallel()
	data := []byte("downloaded by kumo")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	apptest.Each(t, func(t *testing.T, database string) {
		c := apptest.New(t, apptest.Options{Database: database})
		// The web server the test downloads from is on a port Glance's
		// default filter refuses.
		c.App.Images.ImportFilter = image.ImportFilter{AllowedSchemes: []string{"http"}, AllowedPorts: []int{port}}
		ictx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.App.Images.RunImports(ictx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
		creds, err := app.ReadClouds(c.App.Config.CloudsFile())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
			IdentityEndpoint: c.URL() + "/identity/v3", Username: "admin", Password: creds.Password,
			TenantName: "admin", DomainID: "default"})
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		client, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
		if err != nil {
			t.Fatalf("image endpoint: %v", err)
		}

		info, err := imageimport.Get(ctx, client).Extract()
		if err != nil || strings.Join(info.ImportMethods.Value, ",") != "glance-direct,web-download" {
			t.Fatalf("import info %+v %v", info, err)
		}

		waitActive := func(id string) *images.Image {
			t.Helper()
			for {
				img, err := images.Get(ctx, client, id).Extract()
				if err != nil {
					t.Fatal(err)
				}
				if img.Status == images.ImageStatusActive {
					return img
				}
				if ctx.Err() != nil {
					t.Fatalf("image %s stays %s", id, img.Status)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}

		// glance-direct.
		img, err := images.Create(ctx, client, images.CreateOpts{Name: "staged", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if err := imagedata.Stage(ctx, client, img.ID, strings.NewReader("staged data")).ExtractErr(); err != nil {
			t.Fatalf("stage: %v", err)
		}
		if got, _ := images.Get(ctx, client, img.ID).Extract(); got.Status != images.ImageStatusUploading || got.SizeBytes != 11 {
			t.Fatalf("staged image %+v", got)
		}
		if err := imageimport.Create(ctx, client, img.ID, imageimport.CreateOpts{Name: imageimport.GlanceDirectMethod}).ExtractErr(); err != nil {
			t.Fatalf("import: %v", err)
		}
		if got := waitActive(img.ID); got.SizeBytes != 11 || got.Checksum == "" {
			t.Fatalf("imported image %+v", got)
		}

		// web-download.
		wd, err := images.Create(ctx, client, images.CreateOpts{Name: "web", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if err := imageimport.Create(ctx, client, wd.ID, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: srv.URL}).ExtractErr(); err != nil {
			t.Fatalf("web-download: %v", err)
		}
		if got := waitActive(wd.ID); got.SizeBytes != int64(len(data)) {
			t.Fatalf("downloaded image %+v", got)
		}

		// The tasks that recorded both.
		pages, err := tasks.List(client, tasks.ListOpts{Status: tasks.TaskStatusSuccess}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list, err := tasks.ExtractTasks(pages)
		if err != nil || len(list) != 2 {
			t.Fatalf("tasks %+v %v", list, err)
		}
		task, err := tasks.Get(ctx, client, list[0].ID).Extract()
		if err != nil || task.Type != "api_image_import" || task.Result["image_id"] != wd.ID || task.ExpiresAt.IsZero() {
			t.Fatalf("task %+v %v", task, err)
		}

		// The legacy import task.
		created, err := tasks.Create(ctx, client, tasks.CreateOpts{Type: "import", Input: map[string]any{
			"import_from": srv.URL, "import_from_format": "raw",
			"image_properties": map[string]any{"disk_format": "raw", "container_format": "bare"}}}).Extract()
		if err != nil || created.Status != string(tasks.TaskStatusPending) {
			t.Fatalf("create task %+v %v", created, err)
		}
		for {
			got, err := tasks.Get(ctx, client, created.ID).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == string(tasks.TaskStatusSuccess) {
				waitActive(got.Result["image_id"].(string))
				break
			}
			if got.Status == string(tasks.TaskStatusFailure) || ctx.Err() != nil {
				t.Fatalf("legacy import %s %q", got.Status, got.Message)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
