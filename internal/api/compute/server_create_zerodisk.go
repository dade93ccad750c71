package compute

import (
	"context"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
)

// zeroDiskFlavorRule is Nova's policy for booting an image on a flavor
// without a root disk (admin only by default): the image would fill the
// host's disk unchecked.
const zeroDiskFlavorRule = "os_compute_api:servers:create:zero_disk_flavor"

// checkZeroDiskFlavor refuses non-admins an image boot on a zero-disk
// flavor with Nova's 403. Nova makes the check after finding the flavor
// and the image and checking the image is active and fits the flavor's
// memory, so when any of those fails the compute service reports it.
func (h *handlers) checkZeroDiskFlavor(ctx context.Context, c *api.Call, in *serverCreateInput) error {
	if c.Allowed(zeroDiskFlavorRule, nil) || in.req.ImageRef == "" {
		return nil
	}
	fl, err := h.Flavors.Get(ctx, flavor.ViewerOf(c.Principal), in.req.FlavorRef)
	if err != nil || fl.Disabled || fl.Disk != 0 {
		return nil
	}
	img, err := h.Images.Get(ctx, c.Principal, in.req.ImageRef)
	if err != nil || img.Status != "active" || img.MinRAM > fl.RAM {
		return nil
	}
	return errs.Forbidden("Only volume-backed servers are allowed for flavors with zero disk.")
}
