package compute

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/mv"
)

// os-services: each compute host as its nova-compute service, plus the
// control services kumo runs in-process. Admin only.
func (h *handlers) serviceRoutes() []api.Route {
	rule := func(op string) string { return "os_compute_api:os-services:" + op }
	return []api.Route{
		{Method: "GET", Path: "/os-services", Rule: rule("list"), Handler: h.listServices},
		{Method: "PUT", Path: "/os-services/{service_id}", Rule: rule("update"), Handler: h.updateService},
		{Method: "DELETE", Path: "/os-services/{service_id}", Rule: rule("delete"), Handler: h.deleteService},
	}
}

func (h *handlers) listServices(c *api.Call) (*api.Reply, error) {
	// host and binary may repeat (common_query_param); the last counts,
	// as webob reads it. Other parameters are refused from 2.75.
	q := c.Query()
	if c.AtLeast(mv.V2_75) {
		var extra []string
		for k := range q {
			if k != "host" && k != "binary" {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sortStrings(extra)
			return nil, errs.Invalid("%s", js.AdditionalPropertiesMessage(extra))
		}
	}
	all, err := h.Hosts.Services(c.Ctx)
	if err != nil {
		return nil, err
	}
	host, binary := lastValue(q, "host"), lastValue(q, "binary")
	items := []map[string]any{}
	for _, s := range all {
		if (host != "" && s.Host != host) || (binary != "" && s.Binary != binary) {
			continue
		}
		items = append(items, serviceView(c, s))
	}
	return api.JSON(http.StatusOK, map[string]any{"services": items}), nil
}

// serviceView is Nova's _get_service_detail (forced_down from 2.11).
func serviceView(c *api.Call, s hosts.Service) map[string]any {
	var id any = s.ID
	if c.AtLeast(mv.V2_53) {
		id = s.UUID
	}
	v := map[string]any{
		"id": id, "binary": s.Binary, "host": s.Host, "zone": s.Zone,
		"status": enabledDisabled(s.Disabled), "state": upDown(s.Up),
		"updated_at": s.UpdatedAt.UTC().Format(pyDatetimeLayout), "disabled_reason": s.DisabledReason,
	}
	if c.AtLeast(mv.V2_11) {
		v["forced_down"] = s.ForcedDown
	}
	return v
}

// findService looks a service up by the id the version shows.
func (h *handlers) findService(c *api.Call, id string) (hosts.Service, error) {
	all, err := h.Hosts.Services(c.Ctx)
	if err != nil {
		return hosts.Service{}, err
	}
	for _, s := range all {
		if (c.AtLeast(mv.V2_53) && s.UUID == id) || (!c.AtLeast(mv.V2_53) && strconv.FormatInt(s.ID, 10) == id) {
			return s, nil
		}
	}
	return hosts.Service{}, errs.NotFound("Service %s could not be found.", id)
}

// serviceUUID is Nova's uuid check on the path id from 2.53.
func serviceUUID(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", errs.Invalid("Invalid uuid %s", id)
	}
	return u.String(), nil
}

func (h *handlers) deleteService(c *api.Call) (*api.Reply, error) {
	id := c.Param("service_id")
	if c.AtLeast(mv.V2_53) {
		u, err := serviceUUID(id)
		if err != nil {
			return nil, err
		}
		id = u
	} else if n, ok := pyInt(id); ok {
		id = strconv.FormatInt(n, 10)
	} else {
		return nil, errs.Invalid("Invalid input received: id must be an integer")
	}
	s, err := h.findService(c, id)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.NotFound("Service %s not found.", c.Param("service_id"))
	}
	if err != nil {
		return nil, err
	}
	if s.Compute == nil {
		// The control services are this process; there is no record to drop.
		return nil, errs.Conflict("The %s service runs inside kumo and cannot be deleted.", s.Binary)
	}
	if err := h.Hosts.Delete(c.Ctx, s.Host); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// pyInt is Python's int(str(v)) as oslo's validate_integer applies it:
// surrounding spaces and a sign are allowed.
func pyInt(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}
