package compute

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/flavor"
)

// createFlavor is POST /flavors (os-flavor-manage). Nova answers 200.
func (h *handlers) createFlavor(c *api.Call) (*api.Reply, error) {
	body, err := decodeAny(c)
	if err != nil {
		return nil, err
	}
	in, err := parseFlavorCreate(c, body)
	if err != nil {
		return nil, err
	}
	f, err := h.Flavors.Create(c.Ctx, in)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"flavor": flavorFull(c, f, canReadExtraSpecs(c))}), nil
}

// updateFlavor is PUT /flavors/{id} (2.55+): only the description changes.
func (h *handlers) updateFlavor(c *api.Call) (*api.Reply, error) {
	body, err := decodeAny(c)
	if err != nil {
		return nil, err
	}
	desc, err := parseFlavorUpdate(c, body)
	if err != nil {
		return nil, err
	}
	f, err := h.Flavors.UpdateDescription(c.Ctx, c.Param("flavor_id"), desc)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"flavor": flavorFull(c, f, canReadExtraSpecs(c))}), nil
}

// deleteFlavor is DELETE /flavors/{id}; Nova answers 202 with no body.
func (h *handlers) deleteFlavor(c *api.Call) (*api.Reply, error) {
	if err := h.Flavors.Delete(c.Ctx, c.Param("flavor_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// flavorViewer is the caller as the flavor service sees it.
func flavorViewer(c *api.Call) flavor.Viewer { return flavor.ViewerOf(c.Principal) }
