package secgroup

import "github.com/kumocloud/kumo/internal/errs"

// Neutron's messages as Nova's proxy passes them on, with the status Nova
// maps each to (nova/api/openstack/compute/security_groups.py).

func groupNotFound(id string) error { return errs.NotFound("Security group %s does not exist", id) }

func ruleNotFound(id string) error {
	return errs.NotFound("Security group rule %s does not exist", id)
}

// invalidID is security_group_api.validate_id.
func invalidID() error { return errs.Invalid("Security group id should be uuid") }

// defaultExists is Neutron's SecurityGroupDefaultAlreadyExists (409),
// which Nova's create turns into a 403.
func defaultExists() error { return errs.Forbidden("Default security group already exists.") }

// notFoundByName is neutronclient's find_resourceid_by_name_or_id miss.
func notFoundByName(name string) error {
	return errs.NotFound("Unable to find security_group with name or id '%s'", name)
}

// notUnique is neutronclient's NeutronClientNoUniqueMatch (Nova's 409).
func notUnique(name string) error {
	return errs.Conflict("Multiple security_group matches found for name '%s', use an ID to be more specific.", name)
}
