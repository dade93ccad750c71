package network

import (
	"crypto/rand"
	"fmt"
)

// randomMAC returns a random fa:16:3e:xx:xx:xx address, under the OUI
// Nova and Neutron use for guest NICs.
func randomMAC() ([6]byte, error) {
	m := [6]byte{0xfa, 0x16, 0x3e}
	if _, err := rand.Read(m[3:]); err != nil {
		return m, fmt.Errorf("random MAC: %w", err)
	}
	return m, nil
}

func formatMAC(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
