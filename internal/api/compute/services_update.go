package compute

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/mv"
)

func (h *handlers) updateService(c *api.Call) (*api.Reply, error) {
	if c.AtLeast(mv.V2_53) {
		return h.updateServiceByID(c)
	}
	return h.serviceAction(c, c.Param("service_id"))
}

// serviceBody is the PUT body; pointer fields tell absent from given.
type serviceBody struct {
	Host           *string `json:"host"`
	Binary         *string `json:"binary"`
	DisabledReason *string `json:"disabled_reason"`
	ForcedDown     any     `json:"forced_down"`
	Status         *string `json:"status"`
}

// decodeServiceBody checks the body against Nova's update schema at c's
// version (only the listed keys; types and lengths).
func decodeServiceBody(c *api.Call) (serviceBody, map[string]any, error) {
	var raw map[string]any
	if err := c.DecodeJSON(&raw); err != nil {
		return serviceBody{}, nil, err
	}
	allowed := map[string]bool{"host": true, "binary": true, "disabled_reason": true}
	if c.AtLeast(mv.V2_53) {
		allowed = map[string]bool{"status": true, "disabled_reason": true, "forced_down": true}
	} else if c.AtLeast(mv.V2_11) {
		allowed["forced_down"] = true
	}
	var extra []string
	for k := range raw {
		if !allowed[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sortStrings(extra)
		return serviceBody{}, nil, errs.Invalid("%s", js.AdditionalPropertiesMessage(extra))
	}
	var b serviceBody
	str := func(key string, dst **string, check func(string) string) error {
		v, ok := raw[key]
		if !ok {
			return nil
		}
		s, isStr := v.(string)
		if !isStr {
			return errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s is not of type 'string'", key, api.PyRepr(v), api.PyRepr(v))
		}
		if msg := check(s); msg != "" {
			return errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s", key, s, msg)
		}
		*dst = &s
		return nil
	}
	length := func(s string) string {
		if s == "" {
			return "'' is too short"
		}
		if len([]rune(s)) > 255 {
			return api.PyRepr(s) + " is too long"
		}
		return ""
	}
	status := func(s string) string { return enumCheck([]string{"enabled", "disabled"})(s) }
	for _, f := range []struct {
		key   string
		dst   **string
		check func(string) string
	}{{"host", &b.Host, fqdnCheck}, {"binary", &b.Binary, length}, {"disabled_reason", &b.DisabledReason, length}, {"status", &b.Status, status}} {
		if err := str(f.key, f.dst, f.check); err != nil {
			return serviceBody{}, nil, err
		}
	}
	if v, ok := raw["forced_down"]; ok {
		if _, isBool := v.(bool); !isBool {
			if s, isStr := v.(string); !isStr || jsonBooleanCheck(s) != "" {
				shown := api.PyRepr(v)
				if isStr {
					shown = s // Nova prints the value itself, its repr after
				}
				return serviceBody{}, nil, errs.Invalid("Invalid input for field/attribute forced_down. Value: %s. %s is not one of [%s]", shown, api.PyRepr(v), jsonBooleanEnum())
			}
		}
		b.ForcedDown = v
	}
	if !c.AtLeast(mv.V2_53) {
		for _, k := range []string{"host", "binary"} {
			if _, ok := raw[k]; !ok {
				return serviceBody{}, nil, errs.Invalid("'%s' is a required property", k)
			}
		}
	}
	return b, raw, nil
}

// forcedDownValue is oslo's bool_from_string over a JSON boolean or one
// of the schema's strings.
func forcedDownValue(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	s, _ := v.(string)
	return boolFromString(s)
}

// serviceAction is the PUT /os-services/{action} of 2.1-2.52.
func (h *handlers) serviceAction(c *api.Call, action string) (*api.Reply, error) {
	known := map[string]bool{"enable": true, "disable": true, "disable-log-reason": true, "force-down": c.AtLeast(mv.V2_11)}
	b, _, err := decodeServiceBody(c)
	if err != nil {
		return nil, err
	}
	if !known[action] {
		return nil, errs.NotFound("Unknown action")
	}
	host, binary := *b.Host, *b.Binary
	var change hosts.ServiceChange
	reply := map[string]any{"host": host, "binary": binary}
	switch action {
	case "enable":
		f := false
		change.Disabled = &f
		reply["status"] = "enabled"
	case "disable", "disable-log-reason":
		if action == "disable-log-reason" && b.DisabledReason == nil {
			return nil, errs.Invalid("Missing disabled reason field")
		}
		t := true
		change.Disabled, change.Reason = &t, nil
		reply["status"] = "disabled"
		if action == "disable-log-reason" {
			change.Reason = b.DisabledReason
			reply["disabled_reason"] = *b.DisabledReason
		}
	case "force-down":
		if b.ForcedDown == nil {
			return nil, errs.Invalid("Missing forced_down field")
		}
		fd := forcedDownValue(b.ForcedDown)
		change.ForcedDown = &fd
		reply = map[string]any{"host": host, "binary": binary, "forced_down": fd}
	}
	if binary != "nova-compute" {
		return nil, errs.Invalid("Updating a %s service is not supported. Only nova-compute services can be updated.", binary)
	}
	if _, err := h.Hosts.UpdateService(c.Ctx, host, change); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.NotFound("Could not find binary %s on host %s.", binary, host)
		}
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"service": reply}), nil
}

// updateServiceByID is the 2.53 PUT /os-services/{uuid}.
func (h *handlers) updateServiceByID(c *api.Call) (*api.Reply, error) {
	// Nova validates the body before it looks at the id.
	b, _, err := decodeServiceBody(c)
	if err != nil {
		return nil, err
	}
	id, err := serviceUUID(c.Param("service_id"))
	if err != nil {
		return nil, err
	}
	s, err := h.findService(c, id)
	if err != nil {
		return nil, err
	}
	if s.Compute == nil {
		return nil, errs.Invalid("Updating a %s service is not supported. Only nova-compute services can be updated.", s.Binary)
	}
	var change hosts.ServiceChange
	if b.Status != nil {
		disabled := *b.Status == "disabled"
		if !disabled && b.DisabledReason != nil {
			return nil, errs.Invalid("Specifying 'disabled_reason' with status 'enabled' is invalid.")
		}
		change.Disabled = &disabled
		if disabled {
			change.Reason = b.DisabledReason
		}
	}
	if b.ForcedDown != nil {
		fd := forcedDownValue(b.ForcedDown)
		change.ForcedDown = &fd
	}
	if !serviceChanges(s, change) {
		return nil, errs.Invalid("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
	}
	host, err := h.Hosts.UpdateService(c.Ctx, s.Host, change)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"service": serviceView(c, hosts.ComputeService(host, h.Hosts.Now()))}), nil
}

// serviceChanges is oslo's obj_what_changed: setting a field marks it
// changed even to its current value, so any given field counts.
func serviceChanges(_ hosts.Service, c hosts.ServiceChange) bool {
	return c.Disabled != nil || c.ForcedDown != nil
}
