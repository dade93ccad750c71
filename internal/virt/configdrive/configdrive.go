package configdrive

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// Label is the volume label cloud-init looks for.
const Label = "config-2"

// metaData is openstack/latest/meta_data.json as Nova writes it.
type metaData struct {
	UUID             string            `json:"uuid"`
	Name             string            `json:"name"`
	Hostname         string            `json:"hostname"`
	LaunchIndex      int               `json:"launch_index"`
	AvailabilityZone string            `json:"availability_zone"`
	ProjectID        string            `json:"project_id"`
	PublicKeys       map[string]string `json:"public_keys,omitempty"`
	Keys             []key             `json:"keys,omitempty"`
	Meta             map[string]string `json:"meta"`
	AdminPass        string            `json:"admin_pass,omitempty"`
	Devices          []any             `json:"devices"`
}

type key struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"`
}

// Files returns the config drive's contents for g, in OpenStack's layout.
func Files(g *virt.Guest) (map[string][]byte, error) {
	md := metaData{
		UUID: g.ID, Name: g.Name, Hostname: g.Hostname, AvailabilityZone: g.AvailabilityZone,
		ProjectID: g.ProjectID, Meta: g.Metadata, AdminPass: g.AdminPass, Devices: []any{},
	}
	if md.Meta == nil {
		md.Meta = map[string]string{}
	}
	if g.PublicKey != "" {
		md.PublicKeys = map[string]string{g.KeyName: g.PublicKey}
		md.Keys = []key{{Name: g.KeyName, Type: "ssh", Data: g.PublicKey}}
	}
	meta, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encode meta_data.json: %w", err)
	}
	net, err := json.Marshal(networkData(g.NICs))
	if err != nil {
		return nil, fmt.Errorf("encode network_data.json: %w", err)
	}
	files := map[string][]byte{
		"openstack/latest/meta_data.json":    meta,
		"openstack/latest/network_data.json": net,
		"openstack/latest/vendor_data.json":  []byte("{}"),
	}
	if len(g.UserData) > 0 {
		files["openstack/latest/user_data"] = decodeUserData(g.UserData)
	}
	return files, nil
}

// decodeUserData returns the user data as the guest should see it: kumo
// carries it as the API's base64 text, which Nova decodes for the drive.
func decodeUserData(b []byte) []byte {
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err == nil {
		return raw
	}
	return b
}

// networkData describes the guest's NICs; addresses come from DHCP (QEMU's
// user-mode network serves them).
func networkData(nics []virt.NIC) map[string]any {
	links, networks := []any{}, []any{}
	for i, n := range nics {
		link := fmt.Sprintf("tap%d", i)
		links = append(links, map[string]any{"id": link, "type": "phy", "ethernet_mac_address": n.MAC, "mtu": 1500})
		networks = append(networks, map[string]any{"id": fmt.Sprintf("network%d", i), "link": link,
			"type": "ipv4_dhcp", "network_id": cmp.Or(n.NetworkID, n.Network)})
	}
	return map[string]any{"links": links, "networks": networks, "services": []any{}}
}

// Write writes g's config drive as an ISO 9660 image to w.
func Write(w io.Writer, g *virt.Guest, now time.Time) error {
	files, err := Files(g)
	if err != nil {
		return err
	}
	return WriteISO(w, Label, files, now)
}
