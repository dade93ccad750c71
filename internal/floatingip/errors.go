package floatingip

import "github.com/kumocloud/kumo/internal/errs"

// Nova's messages (nova/api/openstack/compute/floating_ips.py and the
// exceptions it translates from nova/network/neutron.py).

func notFoundForID(id string) error { return errs.NotFound("Floating IP not found for ID %s", id) }

func notFoundForAddress(address string) error {
	return errs.NotFound("Floating IP not found for address %s.", address)
}

func poolNotFound() error { return errs.NotFound("Floating IP pool not found.") }

func noMoreFloatingIPs(requested string) error {
	if requested != "" {
		return errs.NotFound("No more floating IPs in pool %s.", requested)
	}
	return errs.NotFound("No more floating IPs available.")
}

func notAssociated(address, instanceID string) error {
	return errs.Conflict("Floating IP %s is not associated with instance %s.", address, instanceID)
}
