package network

import (
	"errors"

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
