package identity

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

// domainConfigRoutes are Keystone's domain configuration API
// (keystone/api/domains.py, DomainConfig* and DefaultConfig* resources).
// The security_compliance group has routes of its own for its rule; its
// writes go to the {group} routes, which refuse the group.
func (h *handlers) domainConfigRoutes() []api.Route {
	const (
		base   = "/v3/domains/{domain_id}/config"
		group  = base + "/{group}"
		option = group + "/{option}"
	)
	var routes []api.Route
	for _, p := range []string{base, group, option} {
		if p == base {
			routes = append(routes, api.Route{Method: "PUT", Path: p, Rule: "identity:create_domain_config", Handler: h.createDomainConfig})
		}
		routes = append(routes,
			api.Route{Method: "GET", Path: p, Rule: "identity:get_domain_config", Handler: h.showDomainConfig},
			api.Route{Method: "PATCH", Path: p, Rule: "identity:update_domain_config", Handler: h.updateDomainConfig},
			api.Route{Method: "DELETE", Path: p, Rule: "identity:delete_domain_config", Handler: h.deleteDomainConfig})
	}
	return append(routes,
		api.Route{Method: "GET", Path: base + "/security_compliance", Rule: "identity:get_security_compliance_domain_config", Handler: h.showSecurityCompliance},
		api.Route{Method: "GET", Path: base + "/security_compliance/{option}", Rule: "identity:get_security_compliance_domain_config", Handler: h.showSecurityCompliance},
		api.Route{Method: "GET", Path: "/v3/domains/config/default", Rule: "identity:get_domain_config_default", Handler: h.showDefaultConfig},
		api.Route{Method: "GET", Path: "/v3/domains/config/{group}/default", Rule: "identity:get_domain_config_default", Handler: h.showDefaultConfig},
		api.Route{Method: "GET", Path: "/v3/domains/config/{group}/{option}/default", Rule: "identity:get_domain_config_default", Handler: h.showDefaultConfig},
	)
}

// configBody reads the request's "config" with its objects in request
// order. Keystone reads a missing body, or one without "config", as an
// empty config (which it then refuses as having no options).
func configBody(c *api.Call) (any, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	if !json.Valid(b) {
		return nil, errs.Invalid(malformedJSON)
	}
	v, order, err := jsonschema.Decode(b)
	if err != nil {
		return nil, errs.Invalid(malformedJSON)
	}
	body, ok := v.(map[string]any)
	if !ok {
		// json_body.py: "resulting JSON load was not a dict".
		return nil, errs.Invalid(malformedJSON)
	}
	run := &jsonschema.Run{Order: order}
	return ordered(run, body["config"]), nil
}

// ordered turns the objects in v into identity.ConfigObjects.
func ordered(run *jsonschema.Run, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := identity.ConfigObject{}
		for _, k := range run.Keys(x) {
			out = append(out, identity.ConfigMember{Key: k, Value: ordered(run, x[k])})
		}
		return out
	case []any:
		for i := range x {
			x[i] = ordered(run, x[i])
		}
	}
	return v
}

// configReply is {"config": ...}: a whole configuration, or with an
// option named just {option: value}, as Keystone's _list_to_config.
func configReply(cfg identity.DomainConfig, group, option string) *api.Reply {
	var out any = cfg
	if option != "" {
		out = obj{option: cfg[group][option]}
	}
	return api.JSON(http.StatusOK, obj{"config": out})
}

func (h *handlers) createDomainConfig(c *api.Call) (*api.Reply, error) {
	cfg, err := configBody(c)
	if err != nil {
		return nil, err
	}
	out, replaced, err := h.svc.CreateDomainConfig(c.Ctx, c.Param("domain_id"), cfg)
	if err != nil {
		return nil, err
	}
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	return api.JSON(status, obj{"config": out}), nil
}

func (h *handlers) showDomainConfig(c *api.Call) (*api.Reply, error) {
	group, option := c.Param("group"), c.Param("option")
	cfg, err := h.svc.GetDomainConfig(c.Ctx, c.Param("domain_id"), group, option)
	if err != nil {
		return nil, err
	}
	return configReply(cfg, group, option), nil
}

func (h *handlers) updateDomainConfig(c *api.Call) (*api.Reply, error) {
	cfg, err := configBody(c)
	if err != nil {
		return nil, err
	}
	out, err := h.svc.UpdateDomainConfig(c.Ctx, c.Param("domain_id"), c.Param("group"), c.Param("option"), cfg)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"config": out}), nil
}

func (h *handlers) deleteDomainConfig(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteDomainConfig(c.Ctx, c.Param("domain_id"), c.Param("group"), c.Param("option")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) showSecurityCompliance(c *api.Call) (*api.Reply, error) {
	option := c.Param("option")
	cfg, err := h.svc.SecurityComplianceConfig(c.Ctx, c.Param("domain_id"), option)
	if err != nil {
		return nil, err
	}
	return configReply(cfg, "security_compliance", option), nil
}

func (h *handlers) showDefaultConfig(c *api.Call) (*api.Reply, error) {
	group, option := c.Param("group"), c.Param("option")
	cfg, err := identity.DefaultDomainConfig(group, option)
	if err != nil {
		return nil, err
	}
	return configReply(cfg, group, option), nil
}
