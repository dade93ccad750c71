package policy

// Neutron's check strings are built from neutron-lib's pieces
// (neutron_lib/policy/rules.py); kept here under the same names.
const (
	neutronAdmin              = "role:admin"
	neutronService            = "role:service"
	neutronProjectMember      = "role:member and project_id:%(project_id)s"
	neutronProjectReader      = "role:reader and project_id:%(project_id)s"
	neutronAdminOrMember      = "(" + neutronAdmin + ") or (" + neutronProjectMember + ")"
	neutronAdminOrReader      = "(" + neutronAdmin + ") or (" + neutronProjectReader + ")"
	neutronProjectManager     = "role:manager and project_id:%(project_id)s"
	neutronAdminOrManager     = "(" + neutronAdmin + ") or (" + neutronProjectManager + ")"
	neutronAdminOrService     = "(" + neutronAdmin + ") or (" + neutronService + ")"
	neutronNetOwnerMember     = "role:member and rule:network_owner"
	neutronNetOwnerReader     = "role:reader and rule:network_owner"
	neutronAdminOrNetOwnerMem = "(" + neutronAdmin + ") or (" + neutronNetOwnerMember + ")"
	neutronAdminOrNetOwnerRdr = "(" + neutronAdmin + ") or (" + neutronNetOwnerReader + ")"
	neutronAdminOrSGOwnerMem  = "(" + neutronAdmin + ") or (role:member and rule:sg_owner)"
	neutronAdminOrSGOwnerRdr  = "(" + neutronAdmin + ") or (role:reader and rule:sg_owner)"
)

// neutronOps are the calls of one Neutron resource's policy
// documentation (neutron/conf/policies/<resource>.py), by the kind of
// rule: the collection, one object, its tags.
func neutronOps(collection, param string) (post, get, put, del, getTags, putTags, postTags, delTags []string) {
	coll := "/v2.0/" + collection
	res := coll + "/{" + param + "}"
	tags, tag := res+"/tags", res+"/tags/{tag}"
	return []string{"POST " + coll}, []string{"GET " + coll, "GET " + res}, []string{"PUT " + res},
		[]string{"DELETE " + res}, []string{"GET " + tags, "GET " + tag}, []string{"PUT " + tags, "PUT " + tag},
		[]string{"POST " + tags}, []string{"DELETE " + tags, "DELETE " + tag}
}

// neutronRules are Neutron's default policies (neutron/conf/policies:
// base.py, network.py, subnet.py, port.py, security_group.py, quotas.py,
// network_ip_availability.py, availability_zone.py) for the resources
// kumo serves. Rules
// named RESOURCE:ATTRIBUTE guard one attribute of a request or a view;
// their calls are the resource's.
func neutronRules() []Rule {
	netPost, netGet, netPut, netDel, netGetTags, netPutTags, netPostTags, netDelTags := neutronOps("networks", "network_id")
	subPost, subGet, subPut, subDel, subGetTags, subPutTags, subPostTags, subDelTags := neutronOps("subnets", "subnet_id")
	portPost, portGet, portPut, portDel, portGetTags, portPutTags, portPostTags, portDelTags := neutronOps("ports", "port_id")
	adminOrService := "(" + neutronAdmin + ") or (" + neutronService + ")"
	sgPost, sgGet, sgPut, sgDel, sgGetTags, sgPutTags, sgPostTags, sgDelTags := neutronOps("security-groups", "security_group_id")
	rulePost, ruleGet, _, ruleDel, _, _, _, _ := neutronOps("security-group-rules", "security_group_rule_id")
	sgRead := "(" + neutronAdminOrReader + ") or rule:shared_security_group"
	subnetRead := "(" + neutronProjectReader + ") or rule:shared or rule:external_network or (" + neutronAdminOrNetOwnerRdr + ") or " + neutronService
	subnetWrite := "(" + neutronProjectMember + ") or (" + neutronAdminOrNetOwnerMem + ")"
	return []Rule{
		{"context_is_admin", "role:admin", nil},
		{"context_with_global_access", "!", nil},
		{"context_is_advsvc", "role:advsvc", nil},
		{"service_api", "role:service", nil},
		{"owner", "project_id:%(project_id)s", nil},
		{"admin_or_owner", "rule:context_is_admin or rule:owner", nil},
		{"admin_or_network_owner", "rule:context_is_admin or project_id:%(network:project_id)s", nil},
		{"admin_owner_or_network_owner", "rule:owner or rule:admin_or_network_owner", nil},
		{"network_owner", "project_id:%(network:project_id)s", nil},
		{"admin_only", "rule:context_is_admin", nil},
		{"regular_user", "", nil},
		{"shared", "field:networks:shared=True", nil},
		{"default", "rule:admin_or_owner", nil},
		{"external", "field:networks:router:external=True", nil},
		{"external_network", "field:subnets:router:external=True", nil},
		{"network_device", "field:port:device_owner=~^network:", nil},
		{"sg_owner", "project_id:%(security_group:project_id)s", nil},
		{"admin_or_sg_owner", "rule:context_is_admin or project_id:%(security_group:project_id)s", nil},
		{"admin_owner_or_sg_owner", "rule:owner or rule:admin_or_sg_owner", nil},
		{"shared_security_group", "field:security_groups:shared=True", nil},
		{"rule_default_sg", "field:security_group_rules:belongs_to_default_sg=True", nil},

		{"create_network", neutronAdminOrMember, netPost},
		{"create_network:shared", neutronAdmin, netPost},
		{"create_network:router:external", neutronAdmin, netPost},
		{"create_network:is_default", neutronAdmin, netPost},
		{"create_network:port_security_enabled", neutronAdminOrMember, netPost},
		{"create_network:segments", neutronAdmin, netPost},
		{"create_network:provider:network_type", neutronAdmin, netPost},
		{"create_network:provider:physical_network", neutronAdmin, netPost},
		{"create_network:provider:segmentation_id", neutronAdmin, netPost},
		{"create_network:tags", neutronAdminOrMember, netPostTags},
		{"get_network", "(" + neutronAdminOrReader + ") or " + neutronService + " or rule:shared or rule:external", netGet},
		{"get_network:segments", neutronAdmin, netGet},
		{"get_network:provider:network_type", neutronAdmin, netGet},
		{"get_network:provider:physical_network", neutronAdmin, netGet},
		{"get_network:provider:segmentation_id", neutronAdmin, netGet},
		{"get_network:tags", "(" + neutronAdminOrReader + ") or rule:shared or rule:external", netGetTags},
		{"update_network", neutronAdminOrMember, netPut},
		{"update_network:segments", neutronAdmin, netPut},
		{"update_network:shared", neutronAdmin, netPut},
		{"update_network:provider:network_type", neutronAdmin, netPut},
		{"update_network:provider:physical_network", neutronAdmin, netPut},
		{"update_network:provider:segmentation_id", neutronAdmin, netPut},
		{"update_network:router:external", neutronAdmin, netPut},
		{"update_network:is_default", neutronAdmin, netPut},
		{"update_network:port_security_enabled", neutronAdminOrMember, netPut},
		{"update_network:tags", neutronAdminOrMember, netPutTags},
		{"delete_network", neutronAdminOrMember, netDel},
		{"delete_network:tags", neutronAdminOrMember, netDelTags},

		{"create_subnet", neutronAdminOrNetOwnerMem, subPost},
		{"create_subnet:segment_id", neutronAdmin, subPost},
		{"create_subnet:service_types", neutronAdmin, subPost},
		{"create_subnet:tags", subnetWrite, subPostTags},
		{"get_subnet", subnetRead, subGet},
		{"get_subnet:segment_id", neutronAdmin, subGet},
		{"get_subnet:tags", "(" + neutronProjectReader + ") or rule:shared or rule:external_network or (" + neutronAdminOrNetOwnerRdr + ")", subGetTags},
		{"update_subnet", subnetWrite, subPut},
		{"update_subnet:segment_id", neutronAdmin, subPut},
		{"update_subnet:service_types", neutronAdmin, subPut},
		{"update_subnet:tags", subnetWrite, subPutTags},
		{"delete_subnet", subnetWrite, subDel},
		{"delete_subnet:tags", subnetWrite, subDelTags},

		// Ports (neutron/conf/policies/port.py), without the attributes
		// kumo does not take (hints, trusted, extra DHCP options).
		{"create_port", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ") or rule:shared", portPost},
		{"create_port:device_id", "(" + neutronAdminOrMember + ") or " + neutronService, portPost},
		{"create_port:device_owner", "not rule:network_device or (" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPost},
		{"create_port:mac_address", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPost},
		{"create_port:fixed_ips", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ") or rule:shared", portPost},
		{"create_port:fixed_ips:ip_address", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPost},
		{"create_port:fixed_ips:subnet_id", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ") or rule:shared", portPost},
		{"create_port:binding:host_id", adminOrService, portPost},
		{"create_port:binding:profile", neutronService, portPost},
		{"create_port:binding:vnic_type", "(" + neutronAdminOrMember + ") or " + neutronService, portPost},
		{"create_port:port_security_enabled", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPost},
		{"create_port:allowed_address_pairs", "(" + neutronAdminOrNetOwnerMem + ") or " + neutronService, portPost},
		{"create_port:allowed_address_pairs:mac_address", "(" + neutronAdminOrNetOwnerMem + ") or " + neutronService, portPost},
		{"create_port:allowed_address_pairs:ip_address", "(" + neutronAdminOrNetOwnerMem + ") or " + neutronService, portPost},
		{"update_port", "(" + adminOrService + ") or (" + neutronProjectMember + ")", portPut},
		{"update_port:device_id", "(" + neutronAdminOrMember + ") or " + neutronService, portPut},
		{"update_port:device_owner", "not rule:network_device or (" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPut},
		{"update_port:fixed_ips", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPut},
		{"update_port:fixed_ips:ip_address", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPut},
		{"update_port:fixed_ips:subnet_id", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ") or rule:shared", portPut},
		{"update_port:binding:host_id", adminOrService, portPut},
		{"update_port:binding:profile", neutronService, portPut},
		{"update_port:binding:vnic_type", "(" + adminOrService + ") or (" + neutronProjectMember + ")", portPut},
		{"update_port:port_security_enabled", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ")", portPut},
		{"update_port:allowed_address_pairs", "(" + neutronAdminOrNetOwnerMem + ") or " + neutronService, portPut},
		{"update_port:allowed_address_pairs:mac_address", "(" + neutronAdminOrNetOwnerMem + ") or " + neutronService, portPut},
		{"update_port:allowed_address_pairs:ip_address", "(" + neutronAdminOrNetOwnerMem + ") or " + neutronService, portPut},
		{"delete_port", "(" + adminOrService + ") or (" + neutronNetOwnerMember + ") or (" + neutronProjectMember + ")", portDel},
		{"get_port", "(" + adminOrService + ") or (" + neutronNetOwnerReader + ") or (" + neutronProjectReader + ")", portGet},
		{"get_port:binding:vif_type", adminOrService, portGet},
		{"get_port:binding:vif_details", adminOrService, portGet},
		{"get_port:binding:host_id", adminOrService, portGet},
		{"get_port:binding:profile", adminOrService, portGet},
		{"get_port:tags", "rule:context_is_advsvc or (" + neutronAdminOrNetOwnerRdr + ") or (" + neutronProjectReader + ")", portGetTags},
		{"update_port:tags", "(" + neutronAdminOrMember + ") or rule:context_is_advsvc", portPutTags},
		{"create_port:tags", "(" + neutronAdminOrMember + ") or rule:context_is_advsvc", portPostTags},
		{"delete_port:tags", "rule:context_is_advsvc or (" + neutronProjectMember + ") or (" + neutronAdminOrNetOwnerMem + ")", portDelTags},
		{"create_security_group", neutronAdminOrMember, sgPost},
		{"create_security_group:tags", neutronAdminOrMember, sgPostTags},
		{"get_security_group", sgRead, sgGet},
		{"get_security_group:tags", sgRead, sgGetTags},
		{"update_security_group", neutronAdminOrMember, sgPut},
		{"update_security_group:tags", neutronAdminOrMember, sgPutTags},
		{"delete_security_group", neutronAdminOrMember, sgDel},
		{"delete_security_group:tags", neutronAdminOrMember, sgDelTags},

		{"create_security_group_rule", neutronAdminOrSGOwnerMem, rulePost},
		{"get_security_group_rule", neutronAdminOrSGOwnerRdr, ruleGet},
		{"delete_security_group_rule", neutronAdminOrSGOwnerMem, ruleDel},
		// quotas.py: Neutron checks these against the caller's own project
		// (validate_policy), and not at all on the caller's own quota.
		{"get_quota", neutronAdminOrManager, []string{"GET /v2.0/quotas"}},
		{"update_quota", neutronAdmin, []string{"PUT /v2.0/quotas/{project_id}"}},
		{"delete_quota", neutronAdmin, []string{"DELETE /v2.0/quotas/{project_id}"}},

		// Neutron checks get_network_ip_availability on each object only:
		// its list drops the others, its show answers 404 (base.py).
		{NetworkIPAvailabilities, "role:reader",
			[]string{"GET /v2.0/network-ip-availabilities", "GET /v2.0/network-ip-availabilities/{network_id}"}},
		{"get_network_ip_availability", neutronAdminOrService, nil},
		{"get_availability_zone", "role:reader", []string{"GET /v2.0/availability_zones"}},
	}
}

// kumoNetworkRules guard the Neutron calls Neutron serves to any
// authenticated caller without a policy check (the resource and
// extension lists).
func kumoNetworkRules() []Rule {
	return []Rule{
		{NetworkDiscovery, "", []string{"GET /v2.0", "GET /v2.0/extensions", "GET /v2.0/extensions/{alias}"}},
		// Neutron's quota controller reads a project's quota for its own
		// members without a policy check, and checks get_quota otherwise;
		// its details for the own project or an admin (context.is_admin).
		// The target's quota:project_id is the project the path names.
		{NetworkQuota, "project_id:%(quota:project_id)s or rule:get_quota",
			[]string{"GET /v2.0/quotas/{project_id}", "GET /v2.0/quotas/{project_id}/default"}},
		{NetworkQuotaDetails, "project_id:%(quota:project_id)s or rule:context_is_admin",
			[]string{"GET /v2.0/quotas/{project_id}/details", "GET /v2.0/quotas/{project_id}/details.json"}},
	}
}

// NetworkDiscovery names the rule of the networking API's resource and
// extension lists.
const NetworkDiscovery = "kumo:network:discovery"

// NetworkQuota and NetworkQuotaDetails name the rules of a project's
// quota and its usage: Neutron's controller checks, which answer as
// get_quota and as Neutron's AdminRequired when they refuse.
const (
	NetworkQuota        = "kumo:network:quota"
	NetworkQuotaDetails = "kumo:network:quota_details"
)

// NetworkIPAvailabilities lets a call reach the IP availability handlers,
// which check Neutron's get_network_ip_availability on each network.
const NetworkIPAvailabilities = "kumo:network:ip_availabilities"
