package policy

// Compute is Nova's rule set, with the rules kumo adds for the calls Nova
// serves without a policy of its own.
func Compute() *Set {
	return NewSet("compute", append(withOperations(novaRules(), map[string][]string{
		// Nova's documentation says /os-hypervisors/details.
		"os_compute_api:os-hypervisors:list-detail": {"GET /os-hypervisors/detail"},
	}), kumoComputeRules()...)).limitScopes(projectScoped(novaRules()))
}

// Image is Glance's rule set for images, with kumo's additions.
func Image() *Set {
	const ns = "/v2/metadefs/namespaces/{namespace_name}"
	return NewSet("image", append(withOperations(append(glanceRules(), glanceMetadefRules()...), map[string][]string{
		// Glance's image_tags.py checks modify_image for tag changes.
		"modify_image": {"PUT /v2/images/{image_id}/tags/{tag_value}", "DELETE /v2/images/{image_id}/tags/{tag_value}"},
		// metadef.py documents these with the wrong method; its
		// controllers check them on the calls below. Deleting all objects
		// or properties of a namespace checks delete_metadef_namespace.
		"modify_metadef_property":                  {"PUT " + ns + "/properties/{property_name}"},
		"remove_metadef_resource_type_association": {"DELETE " + ns + "/resource_types/{name}"},
		"delete_metadef_namespace":                 {"DELETE " + ns + "/objects", "DELETE " + ns + "/properties"},
	}), kumoImageRules()...)).limitScopes(projectScoped(glanceRules(), glanceMetadefRules()))
}

// withOperations lists more calls under rules that guard them upstream
// without their policy documentation saying so.
func withOperations(rules []Rule, more map[string][]string) []Rule {
	for i, r := range rules {
		if ops, ok := more[r.Name]; ok {
			rules[i].Operations = append(r.Operations[:len(r.Operations):len(r.Operations)], ops...)
		}
	}
	return rules
}

// Network is Neutron's rule set, with kumo's additions.
func Network() *Set {
	return NewSet("network", append(append(neutronRules(), neutronL3Rules()...), kumoNetworkRules()...)).
		limitScopes(projectScoped(neutronRules(), neutronL3Rules()))
}

// Identity is Keystone's rule set.
func Identity() *Set { return NewSet("identity", keystoneRules()).limitScopes(keystoneScopes()) }

const (
	// Removed names the rule of the APIs Nova removed: they answer 410
	// Gone to every caller, before any policy.
	Removed = "kumo:compute:removed"
	// Action names the rule of the routes that dispatch on the body's
	// first key (POST .../action): each action then checks its own rule.
	Action = "kumo:compute:action"
)

// kumoComputeRules guard the calls Nova serves without a policy of its own.
// The images proxy forwards to Glance with the caller's token, so its
// rules are Glance's (get_images, get_image, delete_image, modify_image)
// under names of their own here.
func kumoComputeRules() []Rule {
	const (
		glanceReadImages = "rule:context_is_admin or (role:reader and project_id:%(project_id)s)"
		glanceWriteImage = "rule:context_is_admin or (role:member and project_id:%(project_id)s)"
	)
	return []Rule{
		{"kumo:compute:images:list", glanceReadImages, []string{"GET /images", "GET /images/detail"}},
		{"kumo:compute:images:show", glanceReadImages, []string{"GET /images/{image_id}",
			"GET /images/{image_id}/metadata", "GET /images/{image_id}/metadata/{key}"}},
		{"kumo:compute:images:delete", glanceWriteImage, []string{"DELETE /images/{image_id}"}},
		{"kumo:compute:images:modify", glanceWriteImage, []string{"POST /images/{image_id}/metadata",
			"PUT /images/{image_id}/metadata", "PUT /images/{image_id}/metadata/{key}",
			"DELETE /images/{image_id}/metadata/{key}"}},
		{Removed, "@", []string{"* the APIs Nova removed (410 Gone)"}},
		{Action, "@", []string{"POST /servers/{server_id}/action", "POST /flavors/{flavor_id}/action",
			"POST /os-aggregates/{aggregate_id}/action", "POST /servers/{server_id}/migrations/{migration_id}/action"}},
		// Nova lists and shows flavors to every caller (flavors.py has no
		// policy check).
		{"kumo:compute:flavors:read", "@", []string{"GET /flavors", "GET /flavors/detail", "GET /flavors/{flavor_id}"}},
	}
}

// kumoImageRules guard the Glance calls that Glance serves to any
// authenticated caller without a policy check.
func kumoImageRules() []Rule {
	return []Rule{
		{"kumo:image:get_schemas", "", []string{"GET /v2/schemas/image", "GET /v2/schemas/images",
			"GET /v2/schemas/member", "GET /v2/schemas/members", "GET /v2/schemas/task", "GET /v2/schemas/tasks",
			"GET /v2/schemas/metadefs/namespace", "GET /v2/schemas/metadefs/namespaces",
			"GET /v2/schemas/metadefs/object", "GET /v2/schemas/metadefs/objects",
			"GET /v2/schemas/metadefs/property", "GET /v2/schemas/metadefs/properties",
			"GET /v2/schemas/metadefs/tag", "GET /v2/schemas/metadefs/tags",
			"GET /v2/schemas/metadefs/resource_type", "GET /v2/schemas/metadefs/resource_types"}},
		{"kumo:image:get_info", "", []string{"GET /v2/info/import", "GET /v2/info/stores", "GET /v2/info/usage"}},
		{"kumo:image:collection_methods", "", []string{"PUT /v2/images", "PATCH /v2/images", "DELETE /v2/images"}},
		{"kumo:image:location_methods", "", []string{"PUT /v2/images/{image_id}/locations",
			"PATCH /v2/images/{image_id}/locations", "DELETE /v2/images/{image_id}/locations"}},
	}
}

// Volume is Cinder's rule set, with kumo's additions.
func Volume() *Set {
	return NewSet("volume", append(withOperations(cinderRules(), map[string][]string{
		// Cinder's documentation names the collection for these calls
		// on one object, and leaves out the ones below.
		"volume:update":                          {"PUT /volumes/{volume_id}"},
		"volume_extension:type_update":           {"PUT /types/{type_id}"},
		"volume_extension:type_delete":           {"DELETE /types/{type_id}"},
		"volume_extension:default_set_or_update": {"PUT /default-types/{project_id}"},
		"volume_extension:quotas:show":           {"GET /os-quota-sets/{project_id}/defaults"},
		"volume:update_snapshot_metadata":        {"PUT /snapshots/{snapshot_id}/metadata"},
		"volume:get_all_transfers":               {"GET /volume-transfers"},
		"volume:create_transfer":                 {"POST /volume-transfers"},
	}), kumoVolumeRules()...)).limitScopes(projectScoped(cinderRules()))
}

// The rules of the block storage calls Cinder serves to any
// authenticated caller without a policy check of its own.
const (
	VolumeExtensions        = "kumo:volume:extensions"
	VolumeAvailabilityZones = "kumo:volume:availability_zones"
	VolumeLimits            = "kumo:volume:limits"
	VolumeAttachmentsRead   = "kumo:volume:attachments:read"
)

func kumoVolumeRules() []Rule {
	return []Rule{
		{VolumeExtensions, "", []string{"GET /extensions"}},
		{VolumeAvailabilityZones, "", []string{"GET /os-availability-zone"}},
		// The absolute limits; the used ones are limits_extension:used_limits'.
		{VolumeLimits, "", []string{"GET /limits"}},
		// Cinder's attachments index, detail and show check no policy:
		// the caller sees its project's attachments.
		{VolumeAttachmentsRead, "", []string{"GET /attachments", "GET /attachments/detail", "GET /attachments/{attachment_id}"}},
		{Action, "@", []string{"POST /volumes/{volume_id}/action", "POST /snapshots/{snapshot_id}/action", "POST /backups/{backup_id}/action",
			"POST /types/{type_id}/action", "POST /attachments/{attachment_id}/action"}},
	}
}
