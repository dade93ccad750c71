package blockstorage

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
)

func (h *handlers) serviceRoutes() []api.Route {
	return []api.Route{
		{Method: "PUT", Path: "/os-services/{action}", Rule: "volume_extension:services:update", Handler: h.updateService},
	}
}

// updateService answers PUT /os-services/{action}: enable and disable.
// Cinder's other actions (disable-log-reason, freeze, thaw, failover,
// set-log, get-log) are not built, so they are missing as an unknown
// path is.
func (h *handlers) updateService(c *api.Call) (*api.Reply, error) {
	switch c.Param("action") {
	case "enable":
		return h.enableService(true)(c)
	case "disable":
		return h.enableService(false)(c)
	}
	return nil, errs.NotFound("The resource could not be found.")
}

// enableDisableSchema is Cinder's services enable_and_disable schema.
var enableDisableSchema = append(js.Object(nil,
	js.Property{Name: "binary", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}},
	js.Property{Name: "host", Schema: js.Schema{js.Type("string", "null"), js.MinLength(1), js.MaxLength(255)}},
	js.Property{Name: "cluster", Schema: js.Schema{js.Type("string", "null")}},
	js.Property{Name: "service", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}},
), anyRequired("binary", "service"))

// enableService answers PUT /os-services/enable and /disable (admin) as
// Cinder's services controller does: the service of the host and binary
// (the deprecated "service" key when binary is not given) is looked up —
// a missing one is 404 — and the answer echoes the request; Cinder's
// controller saves the service unchanged, so its status stays.
func (h *handlers) enableService(enable bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		body, err := decodeBody(c, enableDisableSchema)
		if err != nil {
			return nil, err
		}
		host, _ := str(body, "host")
		if host == "" {
			return nil, errs.Invalid("Invalid input received: Host field is missing.")
		}
		service, _ := str(body, "service")
		binary, _ := str(body, "binary")
		key := binary
		if key == "" {
			key = service
		}
		svcs, err := h.vols.Services(c.Ctx)
		if err != nil {
			return nil, err
		}
		found := false
		for _, s := range svcs {
			found = found || (s.Binary == key && hostMatches(s.Host, host))
		}
		if !found {
			return nil, errs.Named("ServiceNotFound", errs.NotFound("Service %s could not be found on host %s.", key, host))
		}
		status := "enabled"
		if !enable {
			status = "disabled"
		}
		return api.JSON(http.StatusOK, map[string]any{"host": host, "service": service, "binary": binary,
			"status": status, "disabled": !enable}), nil
	}
}
