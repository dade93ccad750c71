package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// imageData is a small payload with a known checksum.
var imageData = bytes.Repeat([]byte("kumo image bytes\n"), 1000)

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func TestImagesCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)
	file := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(file, imageData, 0o600); err != nil {
		t.Fatal(err)
	}

	var id string
	t.Run("create img1", func(t *testing.T) {
		var img obj
		cli.JSON(t, &img, "image", "create", "--file", file, "--disk-format", "raw", "--container-format", "bare", "img1")
		id = img.str(t, "id")
		if img.str(t, "name") != "img1" || img.str(t, "disk_format") != "raw" || img.str(t, "container_format") != "bare" {
			t.Errorf("image create printed %v", img)
		}
	})

	t.Run("list", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "image", "list")
		r := findBy(rows, "Name", "img1")
		if r == nil || r.str(t, "ID") != id || r.str(t, "Status") != "active" {
			t.Errorf("image list = %v, want img1 (%s) active", rows, id)
		}
	})

	t.Run("show", func(t *testing.T) {
		var img obj
		cli.JSON(t, &img, "image", "show", "img1")
		if img.str(t, "id") != id || img.str(t, "status") != "active" || int(img.num(t, "size")) != len(imageData) {
			t.Errorf("image show = %v, want id %s active size %d", img, id, len(imageData))
		}
		if got := img.str(t, "checksum"); got != md5hex(imageData) {
			t.Errorf("checksum = %s, want %s", got, md5hex(imageData))
		}
	})

	t.Run("set property", func(t *testing.T) {
		cli.Run(t, "image", "set", "--property", "a=b", "img1")
		var img obj
		cli.JSON(t, &img, "image", "show", "img1")
		if got := img.property(t, "a"); got != "b" {
			t.Errorf("property a = %q after image set, want b; image: %v", got, img)
		}
	})

	t.Run("delete", func(t *testing.T) {
		cli.Run(t, "image", "delete", "img1")
		var rows []obj
		cli.JSON(t, &rows, "image", "list")
		if r := findBy(rows, "ID", id); r != nil {
			t.Errorf("img1 still listed after delete: %v", r)
		}
		if stderr := cli.Fail(t, "image", "show", id); !strings.Contains(stderr, "No Image found for "+id) {
			t.Errorf("image show of the deleted img1 failed with:\n%s", stderr)
		}
	})
}

func TestImagesGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()

	private := images.ImageVisibilityPrivate
	img, err := images.Create(ctx, c.Image, images.CreateOpts{
		Name: "gc-image", DiskFormat: "raw", ContainerFormat: "bare", Visibility: &private, Tags: []string{"e2e"},
	}).Extract()
	if err != nil {
		t.Fatalf("create image: %v", err)
	}
	if img.ID == "" || img.Name != "gc-image" || img.Status != images.ImageStatusQueued || img.Visibility != private {
		t.Errorf("created image = %+v, want queued private gc-image", img)
	}

	if err := imagedata.Upload(ctx, c.Image, img.ID, bytes.NewReader(imageData)).ExtractErr(); err != nil {
		t.Fatalf("upload image data: %v", err)
	}
	got, err := images.Get(ctx, c.Image, img.ID).Extract()
	if err != nil {
		t.Fatalf("get image: %v", err)
	}
	if got.Status != images.ImageStatusActive || got.SizeBytes != int64(len(imageData)) || got.Checksum != md5hex(imageData) {
		t.Errorf("image after upload = status %s size %d checksum %s, want active %d %s",
			got.Status, got.SizeBytes, got.Checksum, len(imageData), md5hex(imageData))
	}

	rc, err := imagedata.Download(ctx, c.Image, img.ID).Extract()
	if err != nil {
		t.Fatalf("download image: %v", err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(data, imageData) {
		t.Errorf("downloaded %d bytes (err %v), want the %d uploaded", len(data), err, len(imageData))
	}

	pages, err := images.List(c.Image, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatalf("list images: %v", err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil {
		t.Fatalf("extract images: %v", err)
	}
	names := map[string]string{}
	for _, i := range list {
		names[i.Name] = i.ID
	}
	if names["gc-image"] != img.ID {
		t.Errorf("image list = %v, want gc-image with id %s", names, img.ID)
	}
	if _, ok := names["kumo-tiny"]; !ok {
		t.Errorf("image list = %v, want the seeded kumo-tiny", names)
	}

	if err := images.Delete(ctx, c.Image, img.ID).ExtractErr(); err != nil {
		t.Fatalf("delete image: %v", err)
	}
	_, err = images.Get(ctx, c.Image, img.ID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get deleted image: err = %v, want 404", err)
	}
}
