package network

import "context"

// PortsOfDevice lists the ports bound to device (a server), in the order
// Nova plugs them, with their fixed IPs and state.
func (s *Service) PortsOfDevice(ctx context.Context, device string) ([]Port, error) {
	return s.ports(ctx, "p.instance_id = ?", device)
}
