package networking

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// portAttrs are the port attributes a body may hold.
var portAttrs = attrSpec{
	post: []string{"name", "description", "network_id", "admin_state_up", "device_id", "device_owner", "mac_address",
		"fixed_ips", "tenant_id", "project_id", "port_security_enabled", "security_groups", "allowed_address_pairs",
		"binding:host_id", "binding:profile", "binding:vnic_type"},
	put: []string{"name", "description", "admin_state_up", "device_id", "device_owner", "fixed_ips",
		"port_security_enabled", "security_groups", "allowed_address_pairs", "binding:host_id", "binding:profile",
		"binding:vnic_type"},
	readOnly: []string{"id", "network_id", "mac_address", "tenant_id", "project_id", "status", "created_at", "updated_at",
		"revision_number", "tags", "ip_allocation", "binding:vif_type", "binding:vif_details"},
}

// portFields reads the port attributes of a body and checks the rules
// of those it sets (create_port:device_owner, ...).
func portFields(c *api.Call, a attrs, action string, target policy.Target) (network.PortFields, error) {
	var f network.PortFields
	var err error
	if f.Name, err = a.str("name", 255); err != nil {
		return f, err
	}
	if f.Description, err = a.str("description", 255); err != nil {
		return f, err
	}
	if f.AdminStateUp, err = a.boolean("admin_state_up"); err != nil {
		return f, err
	}
	if f.DeviceID, err = a.str("device_id", 255); err != nil {
		return f, err
	}
	if f.DeviceOwner, err = a.str("device_owner", 255); err != nil {
		return f, err
	}
	if f.DeviceOwner != nil {
		target["device_owner"] = *f.DeviceOwner
	}
	fixed, err := a.fixedIPs()
	if err != nil {
		return f, err
	}
	f.FixedIPs = fixed
	if f.PortSecurity, err = a.boolean("port_security_enabled"); err != nil {
		return f, err
	}
	if f.SecurityGroups, err = a.securityGroups(); err != nil {
		return f, err
	}
	if f.AddressPairs, err = a.addressPairs(); err != nil {
		return f, err
	}
	if err := bindingFields(a, &f); err != nil {
		return f, err
	}
	// Neutron lets admins give groups of any project.
	f.AnyProjectGroups = c.IsAdmin()
	rules := securityRules(a, action, f.AddressPairs)
	rules = append(rules, bindingRules(a, action)...)
	for _, attr := range []string{"device_id", "device_owner", "fixed_ips"} {
		if _, ok := a[attr]; ok {
			rules = append(rules, action+"_port:"+attr)
		}
	}
	if fixed != nil {
		for _, r := range *fixed {
			if r.IPAddress != "" {
				rules = append(rules, action+"_port:fixed_ips:ip_address")
			}
			if r.SubnetID != "" {
				rules = append(rules, action+"_port:fixed_ips:subnet_id")
			}
		}
	}
	for _, rule := range rules {
		if err := forbidden(c, rule, target); err != nil {
			return f, err
		}
	}
	return f, nil
}

// bindingFields reads the binding attributes as neutron-lib's
// portbindings validates them: binding:host_id a string (null unbinds),
// binding:profile a dictionary or null, binding:vnic_type one of its
// values.
func bindingFields(a attrs, f *network.PortFields) error {
	if v, ok := a["binding:host_id"]; ok {
		none := ""
		f.BindingHost = &none
		if v != nil {
			host, err := a.str("binding:host_id", 255)
			if err != nil {
				return err
			}
			f.BindingHost = host
		}
	}
	if v, ok := a["binding:profile"]; ok {
		profile := map[string]any{}
		if v != nil {
			m, ok := v.(map[string]any)
			if !ok {
				return invalidAttr("binding:profile", "'"+stringOf(v)+"' is not a dictionary")
			}
			profile = m
		}
		f.BindingProfile = &profile
	}
	vnic, err := a.str("binding:vnic_type", 0)
	if err != nil {
		return err
	}
	if vnic != nil && !slices.Contains(network.VNICTypes, *vnic) {
		return invalidAttr("binding:vnic_type", fmt.Sprintf("'%s' is not in %s", *vnic, pyList(network.VNICTypes)))
	}
	f.VNICType = vnic
	return nil
}

// bindingRules are the rules of the binding attributes a body sets, as
// Neutron's policy engine picks them: any value of the host and profile,
// a VNIC type other than the default on a create.
func bindingRules(a attrs, action string) []string {
	var rules []string
	for _, attr := range []string{"binding:host_id", "binding:profile", "binding:vnic_type"} {
		v, ok := a[attr]
		if !ok || (action == "create" && attr == "binding:vnic_type" && v == network.VNICNormal) {
			continue
		}
		rules = append(rules, action+"_port:"+attr)
	}
	return rules
}

// fixedIPs reads fixed_ips: a list of {subnet_id, ip_address} objects,
// each with at least one of them.
func (a attrs) fixedIPs() (*[]network.FixedIPRequest, error) {
	v, ok := a["fixed_ips"]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalidAttr("fixed_ips", "'"+stringOf(v)+"' is not a list")
	}
	out := make([]network.FixedIPRequest, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, invalidAttr("fixed_ips", "'"+stringOf(e)+"' is not a dictionary")
		}
		var r network.FixedIPRequest
		for key, dst := range map[string]*string{"subnet_id": &r.SubnetID, "ip_address": &r.IPAddress} {
			if x, ok := m[key]; ok {
				s, ok := x.(string)
				if !ok {
					return nil, invalidAttr("fixed_ips", "'"+stringOf(x)+"' is not a valid string")
				}
				*dst = s
			}
		}
		if r.SubnetID == "" && r.IPAddress == "" {
			return nil, invalidInput("Exactly one of subnet_id or ip_address is needed in fixed_ips")
		}
		out = append(out, r)
	}
	return &out, nil
}

// create makes one port of a create body.
func (h *portHandlers) create(c *api.Call, a attrs) (view, error) {
	if _, ok := a["network_id"]; !ok {
		return nil, badRequest("Failed to parse request. Required attribute 'network_id' not specified")
	}
	netID, err := a.str("network_id", 36)
	if err != nil {
		return nil, err
	}
	project, err := projectOf(c, a)
	if err != nil {
		return nil, err
	}
	net, err := visibleNetwork(c, h.svc, *netID)
	if err != nil {
		return nil, err
	}
	target := policy.Target{"project_id": project, "tenant_id": project, "network:project_id": net.ProjectID,
		"network:tenant_id": net.ProjectID, "shared": pyBool(net.Shared), "router:external": pyBool(net.External),
		"device_owner": ""}
	if err := forbidden(c, "create_port", target); err != nil {
		return nil, err
	}
	f, err := portFields(c, a, "create", target)
	if err != nil {
		return nil, err
	}
	mac, err := a.str("mac_address", 32)
	if err != nil {
		return nil, err
	}
	pc := network.PortCreate{NetworkID: net.ID, ProjectID: project, PortFields: f}
	if mac != nil {
		if err := forbidden(c, "create_port:mac_address", target); err != nil {
			return nil, err
		}
		pc.MAC = *mac
	}
	p, err := h.svc.CreatePort(c.Ctx, pc)
	if err != nil {
		return nil, err
	}
	views, err := h.views(c, []network.Port{p})
	if err != nil {
		return nil, err
	}
	return views[0], nil
}

func (h *portHandlers) update(c *api.Call) (*api.Reply, error) {
	id := c.Param("port_id")
	a, err := decodeAttrs(c, "port", portAttrs, true)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.GetPort(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := portFields(c, a, "update", portTarget(p))
	if err != nil {
		return nil, err
	}
	if p, err = h.svc.UpdatePort(c.Ctx, id, f); err != nil {
		return nil, err
	}
	views, err := h.views(c, []network.Port{p})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"port": views[0]}), nil
}

func (h *portHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeletePort(c.Ctx, c.Param("port_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func stringOf(v any) string { return fmt.Sprint(pyRepr(v)) }
