package blockstorage

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/volume"
)

// transferRoutes serve volume transfers at /os-volume-transfer (the v2
// extension, every microversion) and /volume-transfers (3.55).
func (h *handlers) transferRoutes() []api.Route {
	var rs []api.Route
	for _, base := range []struct {
		path string
		min  mv.Version
	}{{"/os-volume-transfer", mv.Version{}}, {"/volume-transfers", mv.V3_55}} {
		one := base.path + "/{transfer_id}"
		rs = append(rs,
			api.Route{Method: "GET", Path: base.path, Rule: "volume:get_all_transfers", Handler: h.listTransfers(false), MinVer: base.min},
			api.Route{Method: "GET", Path: base.path + "/detail", Rule: "volume:get_all_transfers", Handler: h.listTransfers(true), MinVer: base.min},
			api.Route{Method: "POST", Path: base.path, Rule: "volume:create_transfer", Handler: h.createTransfer, MinVer: base.min},
			api.Route{Method: "GET", Path: one, Rule: "volume:get_transfer", Handler: h.showTransfer, MinVer: base.min},
			api.Route{Method: "DELETE", Path: one, Rule: "volume:delete_transfer", Handler: h.deleteTransfer, MinVer: base.min},
			api.Route{Method: "POST", Path: one + "/accept", Rule: "volume:accept_transfer", Handler: h.acceptTransfer, MinVer: base.min},
		)
	}
	return rs
}

// transferSummary and transferDetail are views/transfers.py's; links
// name the os-volume-transfer collection on both paths, as Cinder's.
func transferSummary(c *api.Call, t *volume.Transfer) map[string]any {
	return map[string]any{"id": t.ID, "volume_id": t.VolumeID, "name": t.Name, "links": links(c, "os-volume-transfer", t.ID)}
}

func transferDetail(c *api.Call, t *volume.Transfer) map[string]any {
	d := transferSummary(c, t)
	d["created_at"] = cinderTime(t.CreatedAt)
	if c.AtLeast(mv.V3_55) {
		d["no_snapshots"] = t.NoSnapshots
	}
	if c.AtLeast(mv.Version{Major: 3, Minor: 57}) {
		d["destination_project_id"], d["source_project_id"], d["accepted"] = t.DestinationProjectID, t.ProjectID, t.Accepted
	}
	return d
}

func (h *handlers) listTransfers(detail bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		q := c.Query()
		pg, err := listParams(q)
		if err != nil {
			return nil, err
		}
		opts := volume.TransferListOptions{Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset, Filters: map[string]string{}}
		if q.Has("all_tenants") && c.IsAdmin() {
			opts.AllTenants = true
		}
		for _, k := range []string{"name", "volume_id", "id"} {
			if q.Has(k) {
				opts.Filters[k] = q.Get(k)
			}
		}
		ts, err := h.vols.Transfers(c.Ctx, c.Principal, opts)
		if err != nil {
			return nil, err
		}
		l := listing[*volume.Transfer]{key: "transfers", linksKey: "transfers_links", collection: "os-volume-transfer", items: ts, limit: pg.Limit,
			id: func(t *volume.Transfer) string { return t.ID }, view: func(t *volume.Transfer) map[string]any { return transferSummary(c, t) }}
		if detail {
			l.view = func(t *volume.Transfer) map[string]any { return transferDetail(c, t) }
		}
		return l.reply(c)
	}
}

func transferCreateSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "volume_id", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
		{Name: "name", Schema: js.Schema{js.OneOf(js.Schema{js.Type("string")}, js.Schema{js.Type("null")})}},
	}
	if c.AtLeast(mv.V3_55) {
		props = append(props, js.Property{Name: "no_snapshots", Schema: boolean})
	}
	return js.Object([]string{"transfer"}, js.Property{Name: "transfer", Schema: js.Object([]string{"volume_id"}, props...)})
}

// createTransfer offers a volume: 202 with the auth key, shown once.
func (h *handlers) createTransfer(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, transferCreateSchema(c))
	if err != nil {
		return nil, err
	}
	tr := body["transfer"].(map[string]any)
	req := volume.TransferCreate{Name: strPtr(tr, "name"), NoSnapshots: boolValue(tr["no_snapshots"])}
	req.VolumeID, _ = str(tr, "volume_id")
	t, err := h.vols.CreateTransfer(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	v := transferDetail(c, t)
	v["auth_key"] = t.AuthKey
	return api.JSON(http.StatusAccepted, map[string]any{"transfer": v}), nil
}

func (h *handlers) showTransfer(c *api.Call) (*api.Reply, error) {
	t, err := h.vols.Transfer(c.Ctx, c.Principal, c.Param("transfer_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"transfer": transferDetail(c, t)}), nil
}

func (h *handlers) deleteTransfer(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteTransfer(c.Ctx, c.Principal, c.Param("transfer_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

var acceptSchema = js.Object([]string{"accept"}, js.Property{Name: "accept", Schema: js.Object([]string{"auth_key"},
	js.Property{Name: "auth_key", Schema: js.Schema{js.Type("string", "integer")}})})

// acceptTransfer takes a volume into the caller's project: 202 with the
// transfer's summary. Cinder's controller answers a gigabytes quota
// failure with a plain 413 (no exception name).
func (h *handlers) acceptTransfer(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, acceptSchema)
	if err != nil {
		return nil, err
	}
	var key string
	switch k := body["accept"].(map[string]any)["auth_key"].(type) {
	case string:
		key = k
	default:
		_, key, _ = js.NumberOf(k)
	}
	t, err := h.vols.AcceptTransfer(c.Ctx, c.Principal, c.Param("transfer_id"), key)
	if errs.NameOf(err) == "VolumeSizeExceedsAvailableQuota" {
		return nil, errs.OverQuota("%s", errs.Message(err))
	}
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusAccepted, map[string]any{"transfer": transferSummary(c, t)}), nil
}
