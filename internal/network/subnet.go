package network

import (
	"encoding/binary"
	"net/netip"
)

// subnet4 is the IPv4 subnet of the network at pool index idx.
func (m *Manager) subnet4(idx int64) netip.Prefix {
	base := binary.BigEndian.Uint32(m.pool.Addr().AsSlice())
	base += uint32(idx) << (32 - m.prefixLen)
	return netip.PrefixFrom(addr4(base), m.prefixLen)
}

// subnet6 is the IPv6 /64 of the network at pool index idx, or an
// invalid prefix when IPv6 is off.
func (m *Manager) subnet6(idx int64) netip.Prefix {
	if !m.v6.IsValid() {
		return netip.Prefix{}
	}
	b := m.v6.Addr().As16()
	hi := binary.BigEndian.Uint64(b[:8]) | uint64(idx)
	binary.BigEndian.PutUint64(b[:8], hi)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

func addr4(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// hostRange4 is the first and last ordinal (offset from the network
// address) that may be handed out: the network address, the gateway (.1)
// and the broadcast address never are.
func hostRange4(p netip.Prefix) (first, last int64) {
	return 2, int64(1)<<(32-p.Bits()) - 2
}

// at4 is the address at ordinal in p.
func at4(p netip.Prefix, ordinal int64) netip.Addr {
	return addr4(binary.BigEndian.Uint32(p.Addr().AsSlice()) + uint32(ordinal))
}

// ordinal4 is a's offset from p's network address.
func ordinal4(p netip.Prefix, a netip.Addr) int64 {
	return int64(binary.BigEndian.Uint32(a.AsSlice()) - binary.BigEndian.Uint32(p.Addr().AsSlice()))
}

// gateway is the first address after the network address (.1 or ::1).
func gateway(p netip.Prefix) netip.Addr { return p.Addr().Next() }

// eui64 is the SLAAC address of mac in the /64 p, as Neutron gives ports
// on SLAAC subnets.
func eui64(p netip.Prefix, mac [6]byte) netip.Addr {
	b := p.Addr().As16()
	b[8], b[9], b[10] = mac[0]^0x02, mac[1], mac[2]
	b[11], b[12] = 0xff, 0xfe
	b[13], b[14], b[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(b)
}

// withInterfaceID is p's address with the low 64 bits set to id.
func withInterfaceID(p netip.Prefix, id uint64) netip.Addr {
	b := p.Addr().As16()
	binary.BigEndian.PutUint64(b[8:], id)
	return netip.AddrFrom16(b)
}
