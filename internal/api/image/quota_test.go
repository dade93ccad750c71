package image

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// quotaClient is project p1's client on an image API whose projects may
// have 2 images of 1 MiB in all.
func quotaClient(t *testing.T) *apitest.Client {
	t.Helper()
	svc := image.New(storetest.SQLite(t), filepath.Join(t.TempDir(), "images"))
	limits := map[string]int64{image.QuotaImageSizeTotal: 1, image.QuotaImageCountTotal: 2,
		image.QuotaImageStageTotal: 0, image.QuotaImageCountUploading: 3}
	svc.Limits = func(_ context.Context, _ store.Querier, _ string, names []string) (map[string]int64, error) {
		out := map[string]int64{}
		for _, n := range names {
			out[n] = limits[n]
		}
		return out, nil
	}
	c := apitest.New(t, NewService(svc, api.Options{Auth: auth.NoAuth{}}))
	return c.As("u1:p1", "")
}

// glanceBody is Glance's plain-text error body.
func glanceBody(status int, msg string) string {
	return fmt.Sprintf("%d %s\n\n%s\n\n   ", status, http.StatusText(status), msg)
}

const overLimit = "The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota threshold was breached.\n\nThe response body:\n"

func TestQuotaAnswers413(t *testing.T) {
	t.Parallel()
	c := quotaClient(t)
	raw := map[string]any{"disk_format": "raw", "container_format": "bare"}
	first, second := createImage(t, c, raw), createImage(t, c, raw)
	r := c.Do("POST", "/image/v2/images", raw).Expect(t, http.StatusRequestEntityTooLarge)
	if got, want := string(r.Body), glanceBody(413, overLimit+"Project p1 is over a limit for [Resource image_count_total is over limit of 2 due to current usage 2 and delta 1]"); got != want {
		t.Fatalf("body %q\nwant %q", got, want)
	}
	// The request's length is the delta: 2 MiB is refused before reading.
	r = upload(c, first, make([]byte, 2<<20)).Expect(t, http.StatusRequestEntityTooLarge)
	if got, want := string(r.Body), glanceBody(413, overLimit+"Project p1 is over a limit for [Resource image_size_total is over limit of 1 due to current usage 0 and delta 2]"); got != want {
		t.Fatalf("body %q\nwant %q", got, want)
	}
	upload(c, first, make([]byte, 1<<20)).Expect(t, http.StatusNoContent)
	upload(c, second, []byte("x")).Expect(t, http.StatusNoContent)

	r = c.Do("GET", "/image/v2/info/usage", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, glanceV2+"usage-response.json", r.Body, apisamples.Options{})
	usage := r.JSON(t)["usage"].(map[string]any)
	for name, want := range map[string][2]float64{
		"image_size_total": {1, 1}, "image_count_total": {2, 2}, "image_stage_total": {0, 0}, "image_count_uploading": {3, 0},
	} {
		u := usage[name].(map[string]any)
		if u["limit"] != want[0] || u["usage"] != want[1] {
			t.Errorf("%s: %v, want limit %v usage %v", name, u, want[0], want[1])
		}
	}
}
