package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestImageLimitsCLI drives Keystone's unified limits with the real CLI:
// kumo registers Glance's default limits for the image service, an admin
// overrides one for a project, and Glance refuses the project's image
// past it with its 413.
func TestImageLimitsCLI(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)
	clouds, projectID := newProjectUser(t, s, "p-lim", "u-lim")
	user := NewCLI(clouds, "kumo")

	var regs []obj
	admin.JSON(t, &regs, "registered", "limit", "list", "--service", "glance")
	want := map[string]float64{"image_size_total": 2000, "image_stage_total": 2000, "image_count_total": 100, "image_count_uploading": 100}
	if len(regs) != len(want) {
		t.Fatalf("registered limits of glance = %v, want %v", regs, want)
	}
	for _, r := range regs {
		if r.num(t, "Default Limit") != want[r.str(t, "Resource Name")] {
			t.Errorf("registered limit %v, want the defaults %v", r, want)
		}
	}
	// Anyone may read the registered limits.
	user.JSON(t, &regs, "registered", "limit", "list")
	if len(regs) != len(want) {
		t.Errorf("the member sees registered limits %v", regs)
	}

	var lim obj
	admin.JSON(t, &lim, "limit", "create", "--project", "p-lim", "--service", "glance", "--resource-limit", "2", "image_count_total")
	if lim.num(t, "resource_limit") != 2 || lim.str(t, "project_id") != projectID || lim.str(t, "resource_name") != "image_count_total" {
		t.Fatalf("limit create = %v", lim)
	}
	limitID := lim.str(t, "id")
	if stderr := admin.Fail(t, "limit", "create", "--project", "p-lim", "--service", "glance", "--resource-limit", "3", "image_count_total"); !strings.Contains(stderr, "409") {
		t.Errorf("duplicate limit create failed with:\n%s", stderr)
	}
	if stderr := user.Fail(t, "limit", "create", "--project", "p-lim", "--service", "glance", "--resource-limit", "3", "image_size_total"); !strings.Contains(stderr, "403") {
		t.Errorf("member limit create failed with:\n%s", stderr)
	}
	var limits []obj
	user.JSON(t, &limits, "limit", "list")
	if len(limits) != 1 || limits[0].str(t, "ID") != limitID {
		t.Errorf("the member's limit list = %v, want its project's limit", limits)
	}

	// The first two images are set-up: the CLI's subject is the refusal.
	c := NewClients(t, clouds, "kumo")
	for _, name := range []string{"one", "two"} {
		if _, err := images.Create(context.Background(), c.Image, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"}).Extract(); err != nil {
			t.Fatalf("create image %s: %v", name, err)
		}
	}
	if stderr := user.Fail(t, "image", "create", "--disk-format", "raw", "--container-format", "bare", "three"); !strings.Contains(stderr, "413") {
		t.Errorf("the third image create failed with:\n%s", stderr)
	}
	// The CLI shows only the status; Glance's text is in the body.
	_, err := images.Create(context.Background(), c.Image, images.CreateOpts{Name: "three"}).Extract()
	var resp gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &resp) || resp.Actual != http.StatusRequestEntityTooLarge ||
		!strings.Contains(string(resp.Body), "Project "+projectID+" is over a limit for [Resource image_count_total is over limit of 2 due to current usage 2 and delta 1]") {
		t.Errorf("the third image create with gophercloud: %v", err)
	}
	admin.Run(t, "limit", "set", "--resource-limit", "3", limitID)
	user.Run(t, "image", "create", "--disk-format", "raw", "--container-format", "bare", "three")

	// A registered limit a project limit overrides cannot change (Keystone).
	for _, r := range regs {
		if r.str(t, "Resource Name") == "image_count_total" {
			if stderr := admin.Fail(t, "registered", "limit", "set", "--default-limit", "5", r.str(t, "ID")); !strings.Contains(stderr, "403") {
				t.Errorf("registered limit set failed with:\n%s", stderr)
			}
		}
	}
	admin.Run(t, "limit", "delete", limitID)
	var reg obj
	admin.JSON(t, &reg, "registered", "limit", "create", "--service", "glance", "--default-limit", "5", "--region", "RegionOne", "image_count_total")
	if reg.num(t, "default_limit") != 5 || reg.str(t, "region_id") != "RegionOne" {
		t.Fatalf("registered limit create = %v", reg)
	}
	// RegionOne's registered limit comes before the one without a region.
	var usage struct {
		Usage map[string]struct{ Limit, Usage int64 } `json:"usage"`
	}
	if _, err := c.Image.Get(context.Background(), c.Image.ServiceURL("info", "usage"), &usage, nil); err != nil {
		t.Fatalf("GET /v2/info/usage: %v", err)
	}
	if u := usage.Usage["image_count_total"]; u.Limit != 5 || u.Usage != 3 {
		t.Errorf("usage image_count_total = %+v, want limit 5, usage 3", u)
	}
	admin.Run(t, "registered", "limit", "delete", reg.str(t, "id"))
}

// TestImageStoreFull runs kumo on a small filesystem: a member filling
// it with uploads gets Glance's 413 without paths and leaves the
// reserve free, so other projects still create servers and key pairs;
// with the disk then full to the last byte, reads and deletes still work
// and a delete gives the space back.
func TestImageStoreFull(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	disk := storetest.SmallDisk(t, 96<<20)
	s := Start(t, kumoBin, Options{DataDir: disk, Args: []string{"--image-disk-reserve-mb", "16"}})
	fillerClouds, _ := newProjectUser(t, s, "p-fill", "u-fill")
	otherClouds, _ := newProjectUser(t, s, "p-other", "u-other")
	filler, other := NewClients(t, fillerClouds, "kumo"), NewClients(t, otherClouds, "kumo")
	otherCLI := NewCLI(otherClouds, "kumo")
	ctx := context.Background()

	newImage := func(name string) string {
		t.Helper()
		img, err := images.Create(ctx, filler.Image, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatalf("create image %s: %v", name, err)
		}
		return img.ID
	}
	want413 := func(what string, err error) {
		t.Helper()
		var resp gophercloud.ErrUnexpectedResponseCode
		if !errors.As(err, &resp) || resp.Actual != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: %v, want 413", what, err)
		}
		body := string(resp.Body)
		if !strings.Contains(body, "Image storage media is full") || strings.Contains(body, disk) || strings.Contains(body, ".upload-") {
			t.Fatalf("%s: 413 body %q, want Glance's storage-full text without paths", what, body)
		}
	}

	// Uploads with a length are refused up front once the next would eat
	// into the reserve.
	var uploaded []string
	for i := 0; ; i++ {
		id := newImage("chunk")
		err := imagedata.Upload(ctx, filler.Image, id, bytes.NewReader(make([]byte, 16<<20))).ExtractErr()
		if err != nil {
			want413("upload "+id, err)
			break
		}
		uploaded = append(uploaded, id)
		if i > 10 {
			t.Fatal("uploads never ran out of space on a 96 MiB disk")
		}
	}
	if len(uploaded) < 2 {
		t.Fatalf("only %d uploads of 16 MiB fit", len(uploaded))
	}
	t.Logf("%d uploads of 16 MiB fit on the 96 MiB disk with 16 MiB kept free", len(uploaded))
	// An upload without a length is cut off when it reaches the reserve.
	id := newImage("stream")
	err := imagedata.Upload(ctx, filler.Image, id, io.MultiReader(bytes.NewReader(make([]byte, 48<<20)))).ExtractErr()
	want413("streamed upload", err)
	if img, err := images.Get(ctx, filler.Image, id).Extract(); err != nil || img.Status != images.ImageStatusQueued {
		t.Fatalf("image after the refused upload: %+v %v", img, err)
	}
	if partial := globData(t, filepath.Join(disk, "images"), ".upload-*"); len(partial) != 0 {
		t.Fatalf("partial uploads left: %v", partial)
	}

	// The reserve is there for everyone else.
	pub, _ := sshKeygen(t, "other-key")
	otherCLI.Run(t, "keypair", "create", "--public-key", pub, "other-key")
	otherCLI.Run(t, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "--wait", "other-server")...)

	// Now something else fills the disk to the last byte.
	storetest.FillDisk(t, disk, "filler")
	// Writes that need new space fail now (kumo cannot help that), which
	// is what the delete below repairs.
	_, err = keypairs.Create(ctx, other.Compute, keypairs.CreateOpts{Name: "no-room"}).Extract()
	t.Logf("key pair create on the full disk: %v", err)
	// Reads still work...
	pages, err := images.List(filler.Image, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatalf("image list on a full disk: %v", err)
	}
	if list, _ := images.ExtractImages(pages); len(list) < len(uploaded) {
		t.Fatalf("image list on a full disk: %d images", len(list))
	}
	if rc, err := imagedata.Download(ctx, filler.Image, uploaded[0]).Extract(); err != nil {
		t.Fatalf("download on a full disk: %v", err)
	} else {
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		if n != 16<<20 {
			t.Fatalf("downloaded %d bytes", n)
		}
	}
	// ...and so do deletes, which give the space back.
	if err := images.Delete(ctx, filler.Image, uploaded[0]).ExtractErr(); err != nil {
		t.Fatalf("delete on a full disk: %v", err)
	}
	if _, err := os.Stat(filepath.Join(disk, "images", uploaded[0])); !os.IsNotExist(err) {
		t.Fatalf("deleted image's file: %v", err)
	}
	if _, err := keypairs.Create(ctx, other.Compute, keypairs.CreateOpts{Name: "after-delete"}).Extract(); err != nil {
		t.Fatalf("key pair create after the delete freed space: %v", err)
	}
	otherCLI.Run(t, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "--wait", "after-delete")...)
}
