package policy

// neutronManagerOrAdmin is neutron-lib's ADMIN_OR_PROJECT_MANAGER.
const neutronManagerOrAdmin = "(" + neutronAdmin + ") or (role:manager and project_id:%(project_id)s)"

// neutronL3Rules are Neutron's default policies of the L3 resources
// kumo serves (neutron/conf/policies/floatingip.py, router.py; not the
// rules of attributes kumo does not take: distributed, ha, bfd, ecmp,
// external_gateways).
func neutronL3Rules() []Rule {
	return append(routerRules(), floatingIPRules()...)
}

func routerRules() []Rule {
	post, get, put, del, getTags, putTags, postTags, delTags := neutronOps("routers", "router_id")
	gw := "external_gateway_info"
	return []Rule{
		{"create_router", neutronAdminOrMember, post},
		{"create_router:" + gw, neutronAdminOrMember, post},
		{"create_router:" + gw + ":network_id", neutronAdminOrMember, post},
		{"create_router:" + gw + ":enable_snat", neutronAdmin, post},
		{"create_router:" + gw + ":external_fixed_ips", neutronAdmin, post},
		{"create_router:tags", neutronAdminOrMember, postTags},
		{"get_router", neutronAdminOrReader, get},
		{"get_router:tags", neutronAdminOrReader, getTags},
		{"update_router", neutronAdminOrMember, put},
		{"update_router:" + gw, neutronAdminOrMember, put},
		{"update_router:" + gw + ":network_id", neutronAdminOrMember, put},
		{"update_router:" + gw + ":enable_snat", neutronAdmin, put},
		{"update_router:" + gw + ":external_fixed_ips", neutronAdmin, put},
		{"update_router:tags", neutronAdminOrMember, putTags},
		{"delete_router", neutronAdminOrMember, del},
		{"delete_router:tags", neutronAdminOrMember, delTags},
		{"add_router_interface", neutronAdminOrMember, []string{"PUT /v2.0/routers/{router_id}/add_router_interface"}},
		{"remove_router_interface", neutronAdminOrMember, []string{"PUT /v2.0/routers/{router_id}/remove_router_interface"}},
	}
}

func floatingIPRules() []Rule {
	post, get, put, del, getTags, putTags, postTags, delTags := neutronOps("floatingips", "floatingip_id")
	return []Rule{
		{"create_floatingip", neutronAdminOrMember, post},
		{"create_floatingip:floating_ip_address", neutronManagerOrAdmin, post},
		{"create_floatingip:tags", neutronAdminOrMember, postTags},
		{"get_floatingip", neutronAdminOrReader, get},
		{"get_floatingip:tags", neutronAdminOrReader, getTags},
		{"update_floatingip", neutronAdminOrMember, put},
		{"update_floatingip:tags", neutronAdminOrMember, putTags},
		{"delete_floatingip", neutronAdminOrMember, del},
		{"delete_floatingip:tags", neutronAdminOrMember, delTags},
	}
}
