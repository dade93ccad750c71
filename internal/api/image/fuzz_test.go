package image_test

// Fuzz targets of the image API's request decoding and validation,
// through kumo's whole handler (internal/apifuzz): every answer must be
// below 500 and, when a 4xx, Glance's plain-text error.
// KUMO_FUZZ_ENGINE=postgres runs them on PostgreSQL. The seeds are
// testdata/fuzz/<target>/ and the reference API samples.

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apifuzz"
)

// The patch media types Glance accepts: JSON-patch (draft 10) and its
// older draft-4 form.
var patchTypes = []string{"application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch"}

// FuzzImageCreate: POST /v2/images bodies, as the member or the admin;
// an image an input creates is deleted after it.
func FuzzImageCreate(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "glance/v2/samples/image-create-request.json") {
		f.Add(false, s.Body)
	}
	f.Fuzz(func(t *testing.T, admin bool, body []byte) {
		r := c.Send(t, apifuzz.Request{Method: "POST", Target: "/image/v2/images", Token: c.Token(admin), Body: c.FillBytes(t, body)})
		if r != nil && r.Status == http.StatusCreated {
			deleteImage(t, c, r.Body)
		}
	})
}

// deleteImage deletes the image whose view is body, unprotecting it first.
func deleteImage(t *testing.T, c *apifuzz.Cloud, body []byte) {
	t.Helper()
	var img struct {
		ID        string `json:"id"`
		Protected bool   `json:"protected"`
	}
	if err := json.Unmarshal(body, &img); err != nil || img.ID == "" {
		t.Fatalf("image without an id: %s", body)
	}
	target := "/image/v2/images/" + img.ID
	if img.Protected {
		c.Expect(t, apifuzz.Request{Method: "PATCH", Target: target, Token: c.Admin,
			Body: []byte(`[{"op":"replace","path":"/protected","value":false}]`), Header: []string{"Content-Type", patchTypes[0]}}, http.StatusOK)
	}
	c.Expect(t, apifuzz.Request{Method: "DELETE", Target: target, Token: c.Admin}, http.StatusNoContent)
}

// FuzzImagePatch: PATCH /v2/images/{id} bodies of both patch media
// types, as the member (who owns the image) or the admin. An image an
// input changed is replaced by a fresh one.
func FuzzImagePatch(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "glance/v2/samples/image-update-request.json") {
		f.Add(uint8(0), false, s.Body)
	}
	var image string // the image to patch, made on first need
	fresh := func(t *testing.T) {
		r, ok := c.Do(apifuzz.Request{Method: "POST", Target: "/image/v2/images", Token: c.Member,
			Body: []byte(`{"name":"fuzz-patch","disk_format":"raw","container_format":"bare","tags":["fuzz"],"fuzz_property":"x"}`)})
		var img struct{ ID string }
		if !ok || r.Status != http.StatusCreated || json.Unmarshal(r.Body, &img) != nil {
			t.Fatalf("create the image to patch: %v", r)
		}
		image = img.ID
	}
	f.Fuzz(func(t *testing.T, mediaType uint8, admin bool, body []byte) {
		if image == "" {
			fresh(t)
		}
		r := c.Send(t, apifuzz.Request{Method: "PATCH", Target: "/image/v2/images/" + image, Token: c.Token(admin),
			Body: c.FillBytes(t, body), Header: []string{"Content-Type", patchTypes[int(mediaType)%len(patchTypes)]}})
		if r != nil && r.Status == http.StatusOK {
			deleteImage(t, c, r.Body)
			fresh(t)
		}
	})
}

// FuzzImageList: query strings of GET /v2/images (filters, sorting,
// paging), as the member or the admin.
func FuzzImageList(f *testing.F) {
	c := apifuzz.Open(f)
	f.Fuzz(func(t *testing.T, admin bool, query string) {
		c.Send(t, apifuzz.Request{Method: "GET", Target: "/image/v2/images?" + c.Fill(t, query), Token: c.Token(admin)})
	})
}
