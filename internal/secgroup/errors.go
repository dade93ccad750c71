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

// Neutron's own errors (neutron/extensions/securitygroup.py), named for
// the Neutron face's NeutronError bodies.

// GroupNotFound is SecurityGroupNotFound.
func GroupNotFound(id string) error { return errs.Named("SecurityGroupNotFound", groupNotFound(id)) }

// RuleNotFound is SecurityGroupRuleNotFound.
func RuleNotFound(id string) error { return errs.Named("SecurityGroupRuleNotFound", ruleNotFound(id)) }

func groupInUse(id string) error {
	return errs.Named("SecurityGroupInUse", errs.Conflict("Security Group %s in use.", id))
}

func cannotRemoveDefault() error {
	return errs.Named("SecurityGroupCannotRemoveDefault", errs.Conflict("Insufficient rights for removing default security group."))
}

func cannotUpdateDefault() error {
	return errs.Named("SecurityGroupCannotUpdateDefault", errs.Conflict("Updating default security group not allowed."))
}

func defaultAlreadyExists() error {
	return errs.Named("SecurityGroupDefaultAlreadyExists", errs.Conflict("Default security group already exists."))
}

func ruleExists(id string) error {
	return errs.Named("SecurityGroupRuleExists", errs.Conflict("Security group rule already exists. Rule id is %s.", id))
}

// invalid is one of Neutron's named InvalidInput errors (400).
func invalid(name, format string, args ...any) error {
	return errs.Named(name, errs.Invalid(format, args...))
}
