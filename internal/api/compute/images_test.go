package compute_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/image"
)

const novaImages = "nova/api_samples/images/"

var (
	imgOwner = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
	imgAdmin = &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}}
)

// imageAPI is the compute API of a new cloud (which has kumo-tiny) and
// the cloud's image service.
func imageAPI(t *testing.T, database string) (*apitest.Client, *image.Service) {
	t.Helper()
	c, client := newCloud(t, database, computetest.Options{})
	return client, c.Images
}

func strp(s string) *string { return &s }

// sampleImages creates two active images with the metadata of Nova's
// samples and returns their ids (fakeimage123456, fakeimage7).
func sampleImages(t *testing.T, svc *image.Service) (plain, autoDisk string) {
	t.Helper()
	ctx := context.Background()
	mk := func(name string, props map[string]string) string {
		img, err := svc.CreateFromReader(ctx, imgOwner, image.CreateRequest{
			Name: strp(name), DiskFormat: strp("raw"), ContainerFormat: strp("bare"), Properties: props,
		}, bytes.NewReader(make([]byte, 4096)))
		if err != nil {
			t.Fatal(err)
		}
		return img.ID
	}
	plain = mk("fakeimage123456", map[string]string{"architecture": "x86_64", "kernel_id": "nokernel", "ramdisk_id": "nokernel"})
	autoDisk = mk("fakeimage7", map[string]string{"architecture": "x86_64", "auto_disk_config": "True", "kernel_id": "nokernel", "ramdisk_id": "nokernel"})
	return plain, autoDisk
}

func TestImageProxySamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, svc := imageAPI(t, database)
		user := c.As(userToken, "2.1")
		plain, autoDisk := sampleImages(t, svc)

		r := user.Do("GET", "/v2.1/images/"+autoDisk, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"image-get-resp.json", r.Body, apisamples.Options{})
		img := r.JSON(t)["image"].(map[string]any)
		if img["status"] != "ACTIVE" || img["progress"].(float64) != 100 || img["OS-DCF:diskConfig"] != "AUTO" ||
			img["OS-EXT-IMG-SIZE:size"].(float64) != 4096 {
			t.Errorf("image view: %v", img)
		}
		links := img["links"].([]any)
		wantLinks := []string{
			"http://example.com/v2.1/images/" + autoDisk,
			"http://example.com/images/" + autoDisk,
			"http://example.com/image/images/" + autoDisk,
		}
		for i, want := range wantLinks {
			if got := links[i].(map[string]any)["href"]; got != want {
				t.Errorf("link %d: %v, want %s", i, got, want)
			}
		}

		r = user.Do("GET", "/v2.1/images?name=fakeimage123456", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"images-list-get-resp.json", r.Body, apisamples.Options{})
		r = user.Do("GET", "/v2.1/images/detail?name=fakeimage123456", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"images-details-get-resp.json", r.Body, apisamples.Options{})
		if list := r.JSON(t)["images"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != plain {
			t.Errorf("name filter: %v", list)
		}

		r = user.Do("GET", "/v2.1/images/"+autoDisk+"/metadata", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"image-metadata-get-resp.json", r.Body, apisamples.Options{})
		r = user.Do("GET", "/v2.1/images/"+plain+"/metadata/kernel_id", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"image-meta-key-get.json", r.Body, apisamples.Options{})
		r = user.Do("POST", "/v2.1/images/"+autoDisk+"/metadata", apisamples.Load(t, novaImages+"image-metadata-post-req.json")).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"image-metadata-post-resp.json", r.Body, apisamples.Options{})
		r = user.Do("PUT", "/v2.1/images/"+autoDisk+"/metadata", apisamples.Load(t, novaImages+"image-metadata-put-req.json")).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"image-metadata-put-resp.json", r.Body, apisamples.Options{})
		r = user.Do("PUT", "/v2.1/images/"+autoDisk+"/metadata/auto_disk_config", apisamples.Load(t, novaImages+"image-meta-key-put-req.json")).Expect(t, http.StatusOK)
		apisamples.Assert(t, novaImages+"image-meta-key-put-resp.json", r.Body, apisamples.Options{})
		got, _ := svc.Get(context.Background(), imgOwner, autoDisk)
		if len(got.Properties) != 2 || got.Properties["Label"] != "Changed" || got.Properties["auto_disk_config"] != "False" {
			t.Errorf("properties after PUT metadata and PUT key: %v", got.Properties)
		}
	})
}

func TestImageProxyBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, svc := imageAPI(t, database)
		ctx := context.Background()
		plain, autoDisk := sampleImages(t, svc)
		other := &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member", "reader"}}
		private, err := svc.Create(ctx, other, image.CreateRequest{Name: strp("theirs"), Visibility: image.Private})
		if err != nil {
			t.Fatal(err)
		}
		public, err := svc.Create(ctx, imgAdmin, image.CreateRequest{Name: strp("public"), Visibility: image.Public,
			Properties: map[string]string{"instance_uuid": "8e3a2f0c-1c7b-4d3e-9b55-1e7c5f0d2a11", "image_type": "snapshot"}})
		if err != nil {
			t.Fatal(err)
		}
		user := c.As(userToken, "2.1")
		tooMany := map[string]any{}
		for i := 0; i <= 128; i++ {
			tooMany[fmt.Sprintf("k%d", i)] = "v"
		}
		cases := []struct {
			name    string
			version string
			method  string
			path    string
			body    any
			status  int
		}{
			{"show at 2.35", "2.35", "GET", "/v2.1/images/" + plain, nil, 200},
			{"show gone at 2.36", "2.36", "GET", "/v2.1/images/" + plain, nil, 404},
			{"list gone at 2.36", "2.36", "GET", "/v2.1/images", nil, 404},
			{"detail gone at 2.36", "2.36", "GET", "/v2.1/images/detail", nil, 404},
			{"metadata at 2.38", "2.38", "GET", "/v2.1/images/" + plain + "/metadata", nil, 200},
			{"metadata gone at 2.39", "2.39", "GET", "/v2.1/images/" + plain + "/metadata", nil, 404},
			{"legacy v2 endpoint", "", "GET", "/v2/p1/images/" + plain, nil, 200},
			{"another project's private image", "2.1", "GET", "/v2.1/images/" + private.ID, nil, 404},
			{"another project's private metadata", "2.1", "GET", "/v2.1/images/" + private.ID + "/metadata", nil, 404},
			{"unknown image", "2.1", "GET", "/v2.1/images/00000000-0000-0000-0000-000000000000", nil, 404},
			{"delete public image of another project", "2.1", "DELETE", "/v2.1/images/" + public.ID, nil, 403},
			{"delete private image of another project", "2.1", "DELETE", "/v2.1/images/" + private.ID, nil, 404},
			{"set metadata on another project's image", "2.1", "POST", "/v2.1/images/" + public.ID + "/metadata", map[string]any{"metadata": map[string]any{"a": "b"}}, 403},
			{"key mismatch", "2.1", "PUT", "/v2.1/images/" + plain + "/metadata/a", map[string]any{"meta": map[string]any{"b": "c"}}, 400},
			{"two keys in meta", "2.1", "PUT", "/v2.1/images/" + plain + "/metadata/a", map[string]any{"meta": map[string]any{"a": "1", "b": "2"}}, 400},
			{"bad key", "2.1", "POST", "/v2.1/images/" + plain + "/metadata", map[string]any{"metadata": map[string]any{"a/b": "c"}}, 400},
			{"non-string value", "2.1", "POST", "/v2.1/images/" + plain + "/metadata", map[string]any{"metadata": map[string]any{"a": 1}}, 400},
			{"long value", "2.1", "POST", "/v2.1/images/" + plain + "/metadata", map[string]any{"metadata": map[string]any{"a": strings.Repeat("v", 256)}}, 400},
			{"missing wrapper", "2.1", "POST", "/v2.1/images/" + plain + "/metadata", map[string]any{"meta": map[string]any{}}, 400},
			{"metadata limit", "2.1", "PUT", "/v2.1/images/" + plain + "/metadata", map[string]any{"metadata": tooMany}, 403},
			{"missing key", "2.1", "GET", "/v2.1/images/" + plain + "/metadata/nope", nil, 404},
			{"delete missing key", "2.1", "DELETE", "/v2.1/images/" + plain + "/metadata/nope", nil, 404},
			{"delete key", "2.1", "DELETE", "/v2.1/images/" + plain + "/metadata/kernel_id", nil, 204},
			{"bad limit", "2.1", "GET", "/v2.1/images?limit=abc", nil, 400},
			{"zero limit", "2.1", "GET", "/v2.1/images?limit=0", nil, 400},
			{"unknown marker", "2.1", "GET", "/v2.1/images?marker=00000000-0000-0000-0000-000000000000", nil, 400},
			{"delete own image", "2.1", "DELETE", "/v2.1/images/" + autoDisk, nil, 204},
			{"deleted image is gone", "2.1", "GET", "/v2.1/images/" + autoDisk, nil, 404},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				user.As(userToken, tc.version).Do(tc.method, tc.path, tc.body).Expect(t, tc.status)
			})
		}
		r := user.Do("GET", "/v2.1/images/"+public.ID, nil).Expect(t, http.StatusOK).JSON(t)["image"].(map[string]any)
		server, ok := r["server"].(map[string]any)
		if !ok || server["id"] != "8e3a2f0c-1c7b-4d3e-9b55-1e7c5f0d2a11" || r["status"] != "SAVING" || r["progress"].(float64) != 25 || r["OS-EXT-IMG-SIZE:size"].(float64) != 0 {
			t.Errorf("queued snapshot view: %v", r)
		}
		for _, q := range []string{"?server=http://example.com/v2.1/servers/8e3a2f0c-1c7b-4d3e-9b55-1e7c5f0d2a11", "?type=snapshot", "?status=QUEUED", "?property-image_type=snapshot"} {
			list := user.Do("GET", "/v2.1/images"+q, nil).Expect(t, http.StatusOK).JSON(t)["images"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["id"] != public.ID {
				t.Errorf("%s: %v", q, list)
			}
		}
		body := user.Do("GET", "/v2.1/images/detail?limit=1", nil).Expect(t, http.StatusOK).JSON(t)
		links, ok := body["images_links"].([]any)
		if !ok || len(body["images"].([]any)) != 1 {
			t.Fatalf("limit=1: %v", body)
		}
		next := links[0].(map[string]any)["href"].(string)
		if !strings.HasPrefix(next, "http://example.com/v2.1/images/detail?limit=1&marker=") {
			t.Errorf("next link %s", next)
		}
		page2 := user.Do("GET", strings.TrimPrefix(next, "http://example.com"), nil).Expect(t, http.StatusOK).JSON(t)
		if imgs := page2["images"].([]any); len(imgs) != 1 || imgs[0].(map[string]any)["id"] == body["images"].([]any)[0].(map[string]any)["id"] {
			t.Errorf("second page: %v", imgs)
		}
		if all := user.Do("GET", "/v2.1/images", nil).Expect(t, http.StatusOK).JSON(t); all["images_links"] != nil {
			t.Errorf("unpaged list has links: %v", all)
		}
	})
}
