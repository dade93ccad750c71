package compute

// Server metadata (/servers/{id}/metadata): Nova's server_metadata.py.
// PUT on the collection replaces, POST merges, PUT on a key sets one item;
// the body schema is Nova's metadata schema (shared with the image
// metadata proxy), the item count is checked against metadata_items.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

func (h *handlers) listServerMetadata(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	meta, err := h.Servers.Metadata(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": nonNilMap(meta)}), nil
}

// mergeServerMetadata answers POST: items are added or replaced, the
// answer is the whole resulting metadata.
func (h *handlers) mergeServerMetadata(c *api.Call) (*api.Reply, error) {
	return h.setServerMetadata(c, false)
}

// replaceServerMetadata answers PUT: the items become all of them.
func (h *handlers) replaceServerMetadata(c *api.Call) (*api.Reply, error) {
	return h.setServerMetadata(c, true)
}

func (h *handlers) setServerMetadata(c *api.Call, replace bool) (*api.Reply, error) {
	items, err := decodeImageMetadata(c, "metadata", false)
	if err != nil {
		return nil, err
	}
	meta, err := h.Servers.SetMetadata(c.Ctx, c.Principal, c.Param("server_id"), items, replace, h.ServerMetadataLimit)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": nonNilMap(meta)}), nil
}

func (h *handlers) showServerMetadataItem(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	meta, err := h.Servers.Metadata(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	v, ok := meta[key]
	if !ok {
		return nil, errs.NotFound("Metadata item was not found")
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": map[string]string{key: v}}), nil
}

// setServerMetadataItem answers PUT on a key: the body holds exactly that
// one key.
func (h *handlers) setServerMetadataItem(c *api.Call) (*api.Reply, error) {
	item, err := decodeImageMetadata(c, "meta", true)
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	if _, ok := item[key]; !ok {
		return nil, errs.Invalid("Request body and URI mismatch")
	}
	if _, err := h.Servers.SetMetadata(c.Ctx, c.Principal, c.Param("server_id"), item, false, h.ServerMetadataLimit); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": item}), nil
}

func (h *handlers) deleteServerMetadataItem(c *api.Call) (*api.Reply, error) {
	if err := h.Servers.DeleteMetadataItem(c.Ctx, c.Principal, c.Param("server_id"), c.Param("key")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
