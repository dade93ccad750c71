package policy

// glanceRules are Glance's default policies for images
// (glance/policies/base.py, image.py, discovery.py).
func glanceRules() []Rule {
	return []Rule{
		{"default", "", nil},
		{"context_is_admin", "role:admin", nil},
		{"service_api", "role:service or role:admin", nil},
		{"add_image", "rule:context_is_admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)", []string{"POST /v2/images"}},
		{"delete_image", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"DELETE /v2/images/{image_id}"}},
		{"get_image", "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))", []string{"GET /v2/images/{image_id}", "GET /v2/images/{image_id}/tasks"}},
		{"get_images", "rule:context_is_admin or (role:reader and project_id:%(project_id)s)", []string{"GET /v2/images"}},
		{"modify_image", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"PATCH /v2/images/{image_id}", "PUT /v2/images/{image_id}/stage", "POST /v2/images/{image_id}/import"}},
		{"publicize_image", "rule:context_is_admin", []string{"PATCH /v2/images/{image_id}"}},
		{"communitize_image", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"PATCH /v2/images/{image_id}"}},
		{"download_image", "rule:context_is_admin or (role:member and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))", []string{"GET /v2/images/{image_id}/file"}},
		{"download_from_store", "rule:context_is_admin or (role:member and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))", []string{"GET /v2/images/{image_id}/file"}},
		{"upload_image", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"PUT /v2/images/{image_id}/file"}},
		{"delete_image_location", "rule:context_is_admin", []string{"PATCH /v2/images/{image_id}"}},
		{"get_image_location", "rule:context_is_admin or (role:reader and project_id:%(project_id)s)", []string{"GET /v2/images/{image_id}"}},
		{"set_image_location", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"PATCH /v2/images/{image_id}"}},
		{"add_image_location", "rule:service_api or (role:member and project_id:%(project_id)s and project_id:%(owner)s)", []string{"POST /v2/images/{image_id}/locations"}},
		{"fetch_image_location", "rule:service_api", []string{"GET /v2/images/{image_id}/locations"}},
		{"add_member", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"POST /v2/images/{image_id}/members"}},
		{"delete_member", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"DELETE /v2/images/{image_id}/members/{member_id}"}},
		{"get_member", "rule:context_is_admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)", []string{"GET /v2/images/{image_id}/members/{member_id}"}},
		{"get_members", "rule:context_is_admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)", []string{"GET /v2/images/{image_id}/members"}},
		{"modify_member", "rule:context_is_admin or (role:member and project_id:%(member_id)s)", []string{"PUT /v2/images/{image_id}/members/{member_id}"}},
		{"manage_image_cache", "rule:context_is_admin", nil},
		{"deactivate", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"POST /v2/images/{image_id}/actions/deactivate"}},
		{"reactivate", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"POST /v2/images/{image_id}/actions/reactivate"}},
		{"copy_image", "rule:context_is_admin", []string{"POST /v2/images/{image_id}/import"}},
		{"list_cached_nodes", "rule:context_is_admin", []string{"GET /v2/cache/nodes/{image_id}"}},
		{"stores_info_detail", "rule:context_is_admin or rule:service_api", []string{"GET /v2/info/stores/detail"}},
		// glance/policies/tasks.py: the tasks API is admin-only through
		// tasks_api_access; the others are internal and never refuse.
		{"get_task", "rule:default", []string{"GET /v2/tasks/{task_id}"}},
		{"get_tasks", "rule:default", []string{"GET /v2/tasks"}},
		{"add_task", "rule:default", []string{"POST /v2/tasks"}},
		{"modify_task", "rule:default", []string{"DELETE /v2/tasks/{task_id}"}},
		{"tasks_api_access", "rule:context_is_admin", []string{"GET /v2/tasks/{task_id}", "GET /v2/tasks", "POST /v2/tasks", "DELETE /v2/tasks/{task_id}"}},
	}
}

// glanceMetadefRules are Glance's default policies for the metadata
// definitions catalog (glance/policies/metadef.py): admins write, every
// reader reads public namespaces and its project's.
func glanceMetadefRules() []Rule {
	const (
		ns        = "/v2/metadefs/namespaces"
		one       = ns + "/{namespace_name}"
		readNS    = "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"
		readOwn   = "rule:context_is_admin or (role:reader and project_id:%(project_id)s)"
		metaAdmin = "rule:metadef_admin"
	)
	return []Rule{
		{"metadef_default", "", nil},
		{"metadef_admin", "rule:context_is_admin", nil},
		{"get_metadef_namespace", readNS, []string{"GET " + one}},
		{"get_metadef_namespaces", readOwn, []string{"GET " + ns}},
		{"modify_metadef_namespace", metaAdmin, []string{"PUT " + one}},
		{"add_metadef_namespace", metaAdmin, []string{"POST " + ns}},
		{"delete_metadef_namespace", metaAdmin, []string{"DELETE " + one}},
		{"get_metadef_object", readNS, []string{"GET " + one + "/objects/{object_name}"}},
		{"get_metadef_objects", readNS, []string{"GET " + one + "/objects"}},
		{"modify_metadef_object", metaAdmin, []string{"PUT " + one + "/objects/{object_name}"}},
		{"add_metadef_object", metaAdmin, []string{"POST " + one + "/objects"}},
		{"delete_metadef_object", metaAdmin, []string{"DELETE " + one + "/objects/{object_name}"}},
		{"list_metadef_resource_types", readNS, []string{"GET /v2/metadefs/resource_types"}},
		{"get_metadef_resource_type", readNS, []string{"GET " + one + "/resource_types"}},
		{"add_metadef_resource_type_association", metaAdmin, []string{"POST " + one + "/resource_types"}},
		{"remove_metadef_resource_type_association", metaAdmin, []string{"POST " + one + "/resource_types/{name}"}},
		{"get_metadef_property", readNS, []string{"GET " + one + "/properties/{property_name}"}},
		{"get_metadef_properties", readNS, []string{"GET " + one + "/properties"}},
		{"modify_metadef_property", metaAdmin, []string{"GET " + one + "/properties/{property_name}"}},
		{"add_metadef_property", metaAdmin, []string{"POST " + one + "/properties"}},
		{"remove_metadef_property", metaAdmin, []string{"DELETE " + one + "/properties/{property_name}"}},
		{"get_metadef_tag", readNS, []string{"GET " + one + "/tags/{tag_name}"}},
		{"get_metadef_tags", readNS, []string{"GET " + one + "/tags"}},
		{"modify_metadef_tag", metaAdmin, []string{"PUT " + one + "/tags/{tag_name}"}},
		{"add_metadef_tag", metaAdmin, []string{"POST " + one + "/tags/{tag_name}"}},
		{"add_metadef_tags", metaAdmin, []string{"POST " + one + "/tags"}},
		{"delete_metadef_tag", metaAdmin, []string{"DELETE " + one + "/tags/{tag_name}"}},
		{"delete_metadef_tags", metaAdmin, []string{"DELETE " + one + "/tags"}},
	}
}
