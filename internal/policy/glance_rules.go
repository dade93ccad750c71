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
		{"get_image", "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))", []string{"GET /v2/images/{image_id}"}},
		{"get_images", "rule:context_is_admin or (role:reader and project_id:%(project_id)s)", []string{"GET /v2/images"}},
		{"modify_image", "rule:context_is_admin or (role:member and project_id:%(project_id)s)", []string{"PATCH /v2/images/{image_id}"}},
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
	}
}
