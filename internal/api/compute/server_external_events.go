package compute

// os-server-external-events (Nova's server_external_events.py): the
// network and volume services tell Nova about changes to a server's
// ports and volumes. kumo's built-in network sends none itself; events
// posted here are checked and answered per server as Nova does (200 for
// a server on a host, 404 unknown, 422 not on a host yet, 400 without a
// required tag), with 207 when not all are accepted. kumo's drivers have
// nothing waiting on these events, so accepting one changes nothing.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// serverExternalEventRoutes serve os-server-external-events.
func (h *handlers) serverExternalEventRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/os-server-external-events", Rule: "os_compute_api:os-server-external-events:create", Handler: h.createServerExternalEvents},
	}
}

// externalEventNames are the event names Nova accepts at c's version.
func externalEventNames(c *api.Call) []any {
	names := []any{"network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"}
	for _, n := range []struct {
		from mv.Version
		name string
	}{{mv.V2_51, "volume-extended"}, {mv.V2_76, "power-update"}, {mv.V2_82, "accelerator-request-bound"}, {mv.V2_93, "volume-reimaged"}} {
		if c.AtLeast(n.from) {
			names = append(names, n.name)
		}
	}
	return names
}

func externalEventsSchema(c *api.Call) js.Schema {
	event := js.Object([]string{"name", "server_uuid"},
		js.Property{Name: "name", Schema: js.Schema{js.Type("string"), js.Enum(externalEventNames(c)...)}},
		js.Property{Name: "server_uuid", Schema: csUUID},
		js.Property{Name: "status", Schema: js.Schema{js.Type("string"), js.Enum("failed", "completed", "in-progress")}},
		js.Property{Name: "tag", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}})
	return js.Object([]string{"events"}, js.Property{Name: "events", Schema: js.Schema{js.Type("array"), js.MinItems(1), js.Items(event)}})
}

// taggedEvents need a tag naming what they are about.
var taggedEvents = map[string]bool{"volume-extended": true, "power-update": true, "accelerator-request-bound": true, "volume-reimaged": true}

func (h *handlers) createServerExternalEvents(c *api.Call) (*api.Reply, error) {
	body, err := decodeSchemaBody(c, externalEventsSchema(c))
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	events := body["events"].([]any)
	out := make([]map[string]any, 0, len(events))
	for _, e := range events {
		ev := e.(map[string]any)
		resp := map[string]any{}
		for k, v := range ev {
			resp[k] = v
		}
		if _, ok := resp["status"]; !ok {
			resp["status"] = "completed"
		}
		out = append(out, resp)
		srv, err := h.Servers.Get(c.Ctx, c.Principal, ev["server_uuid"].(string))
		if errs.Is(err, errs.KindNotFound) {
			resp["status"], resp["code"], status = "failed", 404, http.StatusMultiStatus
			continue
		}
		if err != nil {
			return nil, err
		}
		_, tagged := ev["tag"]
		switch {
		case taggedEvents[ev["name"].(string)] && !tagged:
			resp["status"], resp["code"], status = "failed", 400, http.StatusMultiStatus
		case srv.Host != "":
			resp["status"], resp["code"] = "completed", 200
			if ev["name"] == "volume-extended" {
				// The host grows the guest's disk; a volume the server
				// does not have is its compute manager's failure to log,
				// not the API's.
				tag, _ := ev["tag"].(string)
				if err := h.Servers.VolumeExtended(c.Ctx, c.Principal, srv.ID, tag, c.RequestID); err != nil && !errs.Is(err, errs.KindNotFound) {
					return nil, err
				}
			}
		default:
			resp["status"], resp["code"], status = "failed", 422, http.StatusMultiStatus
		}
	}
	return api.JSON(status, map[string]any{"events": out}), nil
}
