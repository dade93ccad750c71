package identity

// OS-FEDERATION objects (/v3/OS-FEDERATION/...), served as
// keystone/api/os_federation.py does with its default policies (admin
// writes, admin or system reader reads). kumo keeps identity providers,
// their protocols, mappings and service providers; it does not
// authenticate federated users.

import (
	"net/http"
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) federationRoutes() []api.Route {
	const idps = "/v3/OS-FEDERATION/identity_providers"
	const idp = idps + "/{idp_id}"
	const protos = idp + "/protocols"
	const maps = "/v3/OS-FEDERATION/mappings"
	const sps = "/v3/OS-FEDERATION/service_providers"
	return []api.Route{
		{Method: "GET", Path: idps, Rule: "identity:list_identity_providers", Handler: h.listIdentityProviders},
		{Method: "GET", Path: idp, Rule: "identity:get_identity_provider", Handler: h.showIdentityProvider},
		{Method: "PUT", Path: idp, Rule: "identity:create_identity_provider", Handler: h.createIdentityProvider},
		{Method: "PATCH", Path: idp, Rule: "identity:update_identity_provider", Handler: h.updateIdentityProvider},
		{Method: "DELETE", Path: idp, Rule: "identity:delete_identity_provider", Handler: h.deleteIdentityProvider},

		{Method: "GET", Path: protos, Rule: "identity:list_protocols", Handler: h.listProtocols},
		{Method: "GET", Path: protos + "/{protocol_id}", Rule: "identity:get_protocol", Handler: h.showProtocol},
		{Method: "PUT", Path: protos + "/{protocol_id}", Rule: "identity:create_protocol", Handler: h.createProtocol},
		{Method: "PATCH", Path: protos + "/{protocol_id}", Rule: "identity:update_protocol", Handler: h.updateProtocol},
		{Method: "DELETE", Path: protos + "/{protocol_id}", Rule: "identity:delete_protocol", Handler: h.deleteProtocol},

		{Method: "GET", Path: maps, Rule: "identity:list_mappings", Handler: h.listMappings},
		{Method: "GET", Path: maps + "/{mapping_id}", Rule: "identity:get_mapping", Handler: h.showMapping},
		{Method: "PUT", Path: maps + "/{mapping_id}", Rule: "identity:create_mapping", Handler: h.createMapping},
		{Method: "PATCH", Path: maps + "/{mapping_id}", Rule: "identity:update_mapping", Handler: h.updateMapping},
		{Method: "DELETE", Path: maps + "/{mapping_id}", Rule: "identity:delete_mapping", Handler: h.deleteMapping},

		{Method: "GET", Path: sps, Rule: "identity:list_service_providers", Handler: h.listServiceProviders},
		{Method: "GET", Path: sps + "/{service_provider_id}", Rule: "identity:get_service_provider", Handler: h.showServiceProvider},
		{Method: "PUT", Path: sps + "/{service_provider_id}", Rule: "identity:create_service_provider", Handler: h.createServiceProvider},
		{Method: "PATCH", Path: sps + "/{service_provider_id}", Rule: "identity:update_service_provider", Handler: h.updateServiceProvider},
		{Method: "DELETE", Path: sps + "/{service_provider_id}", Rule: "identity:delete_service_provider", Handler: h.deleteServiceProvider},
	}
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func intOrNil(i *int) any {
	if i == nil {
		return nil
	}
	return *i
}

func idpView(c *api.Call, idp *identity.IdentityProvider) obj {
	self := v3(c) + "/OS-FEDERATION/identity_providers/" + idp.ID
	remote := idp.RemoteIDs
	if remote == nil {
		remote = []string{}
	}
	return obj{
		"id": idp.ID, "enabled": idp.Enabled, "description": strOrNil(idp.Description), "domain_id": idp.DomainID,
		"authorization_ttl": intOrNil(idp.AuthorizationTTL), "remote_ids": remote,
		"links": obj{"self": self, "protocols": self + "/protocols"},
	}
}

// idpFields reads the attributes an identity provider create or update
// may set, as _identity_provider_properties defines them.
func idpFields(f *fields) (p identity.IdentityProviderPatch, err error) {
	if p.Enabled, err = f.boolean("enabled"); err != nil {
		return p, err
	}
	if p.Description, p.SetDescription, err = f.str("description", true, 0); err != nil {
		return p, err
	}
	if p.AuthorizationTTL, p.SetAuthorizationTTL, err = f.integer("authorization_ttl", 0); err != nil {
		return p, err
	}
	if x, ok := f.m["remote_ids"]; ok {
		p.SetRemoteIDs = true
		if x != nil {
			list, isList := x.([]any)
			if !isList {
				return p, f.invalid("remote_ids", "%s is not of type 'array', 'null'", jsonText(x))
			}
			for _, r := range list {
				s, isStr := r.(string)
				if !isStr {
					return p, f.invalid("remote_ids", "%s is not of type 'string'", jsonText(r))
				}
				if len(s) > 64 {
					return p, f.invalid("remote_ids", "'%s' is too long", s)
				}
				if slices.Contains(p.RemoteIDs, s) {
					return p, f.invalid("remote_ids", "%s has non-unique elements", jsonText(x))
				}
				p.RemoteIDs = append(p.RemoteIDs, s)
			}
		}
	}
	return p, nil
}

func (h *handlers) listIdentityProviders(c *api.Call) (*api.Reply, error) {
	list, err := h.svc.ListIdentityProviders(c.Ctx, c.Query().Get("id"), boolQuery(c, "enabled"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "identity_providers", views(c, list, idpView))), nil
}

func (h *handlers) showIdentityProvider(c *api.Call) (*api.Reply, error) {
	idp, err := h.svc.GetIdentityProvider(c.Ctx, c.Param("idp_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"identity_provider": idpView(c, idp)}), nil
}

func (h *handlers) createIdentityProvider(c *api.Call) (*api.Reply, error) {
	f, err := memberBody(c, "identity_provider", false, true)
	if err != nil {
		return nil, err
	}
	if err := f.only("enabled", "description", "authorization_ttl", "remote_ids", "domain_id"); err != nil {
		return nil, err
	}
	p, err := idpFields(f)
	if err != nil {
		return nil, err
	}
	domain, _, err := f.str("domain_id", true, 64)
	if err != nil {
		return nil, err
	}
	idp := identity.IdentityProvider{ID: c.Param("idp_id"), Description: p.Description, AuthorizationTTL: p.AuthorizationTTL,
		RemoteIDs: p.RemoteIDs}
	if p.Enabled != nil {
		idp.Enabled = *p.Enabled
	}
	if domain != nil {
		idp.DomainID = *domain
	}
	out, err := h.svc.CreateIdentityProvider(c.Ctx, idp)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"identity_provider": idpView(c, out)}), nil
}

func (h *handlers) updateIdentityProvider(c *api.Call) (*api.Reply, error) {
	f, err := memberBody(c, "identity_provider", true, false)
	if err != nil {
		return nil, err
	}
	if err := f.only("enabled", "description", "authorization_ttl", "remote_ids"); err != nil {
		return nil, err
	}
	if len(f.m) == 0 {
		return nil, errs.Invalid("Invalid input for field 'identity_provider': {} does not have enough properties")
	}
	p, err := idpFields(f)
	if err != nil {
		return nil, err
	}
	out, err := h.svc.UpdateIdentityProvider(c.Ctx, c.Param("idp_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"identity_provider": idpView(c, out)}), nil
}

func (h *handlers) deleteIdentityProvider(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteIdentityProvider(c.Ctx, c.Param("idp_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// protocolView is a protocol as show, create and update answer it (the
// list adds idp_id and remote_id_attribute).
func protocolView(c *api.Call, p *identity.FederationProtocol) obj {
	idp := v3(c) + "/OS-FEDERATION/identity_providers/" + p.IdPID
	return obj{"id": p.ID, "mapping_id": p.MappingID,
		"links": obj{"self": idp + "/protocols/" + p.ID, "identity_provider": idp}}
}

func protocolListView(c *api.Call, p *identity.FederationProtocol) obj {
	v := protocolView(c, p)
	v["idp_id"], v["remote_id_attribute"] = p.IdPID, strOrNil(p.RemoteIDAttribute)
	return v
}

// protocolFields reads a protocol body: mapping_id is required, and
// remote_id_attribute may be null only on create.
func protocolFields(c *api.Call, create bool) (string, *string, error) {
	f, err := memberBody(c, "protocol", true, true)
	if err != nil {
		return "", nil, err
	}
	if err := f.only("mapping_id", "remote_id_attribute"); err != nil {
		return "", nil, err
	}
	if err := f.need("mapping_id"); err != nil {
		return "", nil, err
	}
	mapping, _, err := f.str("mapping_id", false, 64)
	if err != nil {
		return "", nil, err
	}
	if *mapping == "" {
		return "", nil, f.invalid("mapping_id", "'' is too short")
	}
	attr, _, err := f.str("remote_id_attribute", create, 64)
	if err != nil {
		return "", nil, err
	}
	return *mapping, attr, nil
}

func (h *handlers) listProtocols(c *api.Call) (*api.Reply, error) {
	list, err := h.svc.ListProtocols(c.Ctx, c.Param("idp_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "protocols", views(c, list, protocolListView))), nil
}

func (h *handlers) showProtocol(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.GetProtocol(c.Ctx, c.Param("idp_id"), c.Param("protocol_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"protocol": protocolView(c, p)}), nil
}

func (h *handlers) createProtocol(c *api.Call) (*api.Reply, error) {
	mapping, attr, err := protocolFields(c, true)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.CreateProtocol(c.Ctx, identity.FederationProtocol{ID: c.Param("protocol_id"), IdPID: c.Param("idp_id"),
		MappingID: mapping, RemoteIDAttribute: attr})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"protocol": protocolView(c, p)}), nil
}

func (h *handlers) updateProtocol(c *api.Call) (*api.Reply, error) {
	mapping, attr, err := protocolFields(c, false)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.UpdateProtocol(c.Ctx, c.Param("idp_id"), c.Param("protocol_id"), mapping, attr)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"protocol": protocolView(c, p)}), nil
}

func (h *handlers) deleteProtocol(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteProtocol(c.Ctx, c.Param("idp_id"), c.Param("protocol_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func mappingView(c *api.Call, m *identity.Mapping) obj {
	rules := m.Rules
	if rules == nil {
		rules = []any{}
	}
	return obj{"id": m.ID, "rules": rules, "schema_version": m.SchemaVersion,
		"links": selfLink(c, "/OS-FEDERATION/mappings/"+m.ID)}
}

// mappingBody reads and validates a mapping as Keystone's
// _internal_normalize_and_validate_attribute_mapping: a missing schema
// version gets the default before validation.
func mappingBody(c *api.Call) (identity.Mapping, error) {
	f, err := memberBody(c, "mapping", false, false)
	if err != nil {
		return identity.Mapping{}, err
	}
	if v, _ := f.m["schema_version"].(string); v == "" {
		f.m["schema_version"] = identity.DefaultMappingSchemaVersion
	}
	if err := identity.ValidateMapping(f.m); err != nil {
		return identity.Mapping{}, err
	}
	rules, _ := f.m["rules"].([]any)
	version, _ := f.m["schema_version"].(string)
	return identity.Mapping{ID: c.Param("mapping_id"), Rules: rules, SchemaVersion: version}, nil
}

func (h *handlers) listMappings(c *api.Call) (*api.Reply, error) {
	list, err := h.svc.ListMappings(c.Ctx)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "mappings", views(c, list, mappingView))), nil
}

func (h *handlers) showMapping(c *api.Call) (*api.Reply, error) {
	m, err := h.svc.GetMapping(c.Ctx, c.Param("mapping_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"mapping": mappingView(c, m)}), nil
}

func (h *handlers) createMapping(c *api.Call) (*api.Reply, error) {
	m, err := mappingBody(c)
	if err != nil {
		return nil, err
	}
	out, err := h.svc.CreateMapping(c.Ctx, m)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"mapping": mappingView(c, out)}), nil
}

func (h *handlers) updateMapping(c *api.Call) (*api.Reply, error) {
	m, err := mappingBody(c)
	if err != nil {
		return nil, err
	}
	out, err := h.svc.UpdateMapping(c.Ctx, m)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"mapping": mappingView(c, out)}), nil
}

func (h *handlers) deleteMapping(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteMapping(c.Ctx, c.Param("mapping_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func spView(c *api.Call, sp *identity.ServiceProvider) obj {
	return obj{"id": sp.ID, "enabled": sp.Enabled, "description": strOrNil(sp.Description), "auth_url": sp.AuthURL,
		"sp_url": sp.SPURL, "relay_state_prefix": sp.RelayStatePrefix,
		"links": selfLink(c, "/OS-FEDERATION/service_providers/"+sp.ID)}
}

// spFields reads a service provider body as _service_provider_properties
// defines it (URLs of at most 225 characters).
func spFields(c *api.Call, create bool) (p identity.ServiceProviderPatch, err error) {
	f, err := memberBody(c, "service_provider", true, true)
	if err != nil {
		return p, err
	}
	if err := f.only("auth_url", "sp_url", "description", "enabled", "relay_state_prefix"); err != nil {
		return p, err
	}
	if create {
		if err := f.need("auth_url", "sp_url"); err != nil {
			return p, err
		}
	} else if len(f.m) == 0 {
		return p, errs.Invalid("Invalid input for field 'service_provider': {} does not have enough properties")
	}
	if p.AuthURL, _, err = f.str("auth_url", false, 225); err != nil {
		return p, err
	}
	if p.SPURL, _, err = f.str("sp_url", false, 225); err != nil {
		return p, err
	}
	for name, u := range map[string]*string{"auth_url": p.AuthURL, "sp_url": p.SPURL} {
		if u != nil && !isURL(*u) {
			return p, f.invalid(name, "'%s' does not match '^https?://'", *u)
		}
	}
	if p.Description, p.SetDescription, err = f.str("description", true, 0); err != nil {
		return p, err
	}
	if p.Enabled, err = f.boolean("enabled"); err != nil {
		return p, err
	}
	if p.RelayStatePrefix, _, err = f.str("relay_state_prefix", true, 0); err != nil {
		return p, err
	}
	return p, nil
}

// isURL is the gist of Keystone's parameter_types.url pattern: a scheme
// and something after it.
func isURL(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ':':
			return i > 0 && len(s) > i+3 && s[i+1:i+3] == "//"
		case (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (i > 0 && (ch >= '0' && ch <= '9' || ch == '+' || ch == '-' || ch == '.')):
		default:
			return false
		}
	}
	return false
}

func (h *handlers) listServiceProviders(c *api.Call) (*api.Reply, error) {
	list, err := h.svc.ListServiceProviders(c.Ctx, c.Query().Get("id"), boolQuery(c, "enabled"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "service_providers", views(c, list, spView))), nil
}

func (h *handlers) showServiceProvider(c *api.Call) (*api.Reply, error) {
	sp, err := h.svc.GetServiceProvider(c.Ctx, c.Param("service_provider_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"service_provider": spView(c, sp)}), nil
}

func (h *handlers) createServiceProvider(c *api.Call) (*api.Reply, error) {
	p, err := spFields(c, true)
	if err != nil {
		return nil, err
	}
	sp := identity.ServiceProvider{ID: c.Param("service_provider_id"), AuthURL: *p.AuthURL, SPURL: *p.SPURL, Description: p.Description}
	if p.Enabled != nil {
		sp.Enabled = *p.Enabled
	}
	if p.RelayStatePrefix != nil {
		sp.RelayStatePrefix = *p.RelayStatePrefix
	}
	out, err := h.svc.CreateServiceProvider(c.Ctx, sp)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"service_provider": spView(c, out)}), nil
}

func (h *handlers) updateServiceProvider(c *api.Call) (*api.Reply, error) {
	p, err := spFields(c, false)
	if err != nil {
		return nil, err
	}
	out, err := h.svc.UpdateServiceProvider(c.Ctx, c.Param("service_provider_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"service_provider": spView(c, out)}), nil
}

func (h *handlers) deleteServiceProvider(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteServiceProvider(c.Ctx, c.Param("service_provider_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
