package policy

// neutronManagerOrAdmin is neutron-lib's ADMIN_OR_PROJECT_MANAGER.
const neutronManagerOrAdmin = "(" + neutronAdmin + ") or (role:manager and project_id:%(project_id)s)"

// neutronL3Rules are Neutron's default policies of the L3 resources
// kumo serves (neutron/conf/policies/floatingip.py).
func neutronL3Rules() []Rule {
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
