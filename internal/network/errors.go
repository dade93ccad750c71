package network

import (
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
)

// Causes wrapped in the domain errors below, so callers can tell them
// apart with errors.Is (e.g. to answer 404 instead of 400 outside server
// create, or to put an instance in ERROR like Nova's compute would).
var (
	ErrNetworkNotFound = errors.New("network not found")
	ErrPortNotFound    = errors.New("port not found")
	ErrFixedIPInUse    = errors.New("fixed IP in use")
	ErrInvalidFixedIP  = errors.New("invalid fixed IP")
	ErrNoMoreFixedIPs  = errors.New("no more fixed IPs")
	ErrNoMoreNetworks  = errors.New("network pool exhausted")
)

// Messages are Nova's (nova/exception.py and nova/network/neutron.py);
// server create answers all but exhaustion with 400.

func networkNotFound(id string) error {
	return wrap(errs.Invalid("Network %s could not be found.", id), ErrNetworkNotFound)
}

func portNotFound(id string) error {
	return wrap(errs.Invalid("Port id %s could not be found.", id), ErrPortNotFound)
}

func fixedIPInUse(addr, instanceID string) error {
	return wrap(errs.Invalid("Fixed IP address %s is already in use on instance %s.", addr, instanceID), ErrFixedIPInUse)
}

// reservedFixedIP is Nova's text when Neutron refuses an address it holds
// itself (the gateway).
func reservedFixedIP(addr string) error {
	return wrap(errs.Invalid("Fixed IP %s is already in use.", addr), ErrFixedIPInUse)
}

func invalidFixedIP(addr, networkID string) error {
	return wrap(errs.Invalid("Fixed IP %s is not a valid ip address for network %s.", addr, networkID), ErrInvalidFixedIP)
}

// noMoreFixedIPs is a conflict, as Neutron's IpAddressGenerationFailure.
func noMoreFixedIPs(networkID string) error {
	return wrap(errs.Conflict("No fixed IP addresses available for network: %s", networkID), ErrNoMoreFixedIPs)
}

// networkRequiresSubnet is Nova's 400 for a network without subnets.
func networkRequiresSubnet(id string) error {
	return errs.Invalid("Network %s requires a subnet in order to boot instances on.", id)
}

func noMoreNetworks() error {
	return wrap(errs.Conflict("No more networks available in the address pool."), ErrNoMoreNetworks)
}

// wrap attaches cause to a domain error without changing its message.
func wrap(err error, cause error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		e.Err = cause
	}
	return err
}

// Neutron's errors (neutron_lib/exceptions), named for its error bodies.

// NetworkNotFound is Neutron's 404 for network id.
func NetworkNotFound(id string) error { return noSuchNetwork(id) }

// SubnetNotFound is Neutron's 404 for subnet id.
func SubnetNotFound(id string) error { return subnetNotFound(id) }

func noSuchNetwork(id string) error {
	return errs.Named("NetworkNotFound", errs.NotFound("Network %s could not be found.", id))
}

func subnetNotFound(id string) error {
	return errs.Named("SubnetNotFound", errs.NotFound("Subnet %s could not be found.", id))
}

func networkInUse(id string) error {
	return errs.Named("NetworkInUse", errs.Conflict("Unable to complete operation on network %s. There are one or more ports still in use on the network.", id))
}

func subnetInUse(id string) error {
	return errs.Named("SubnetInUse", errs.Conflict("Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", id))
}

// invalidInput is neutron-lib's InvalidInput.
func invalidInput(format string, args ...any) error {
	return errs.Named("InvalidInput", errs.Invalid("Invalid input for operation: %s.", fmt.Sprintf(format, args...)))
}
