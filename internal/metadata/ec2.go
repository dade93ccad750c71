package metadata

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ec2Versions are the EC2 layout's versions (nova/api/metadata/base.py),
// oldest first; "latest" is the last.
var ec2Versions = []string{
	"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
	"2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04",
}

// ec2Since tells whether EC2 version v has what came with version required.
func ec2Since(v, required string) bool {
	return slices.Index(ec2Versions, v) >= slices.Index(ec2Versions, required)
}

// The EC2 tree: a dir maps names to dirs, named dirs or leaves (string or
// []byte). A named dir lists as its name, not "key/" (public-keys/ lists
// "0=keyname").
type dir map[string]any

type namedDir struct {
	name    string
	entries dir
}

// driveMeta is what the EC2 layout reads of meta_data.json.
type driveMeta struct {
	Hostname         string            `json:"hostname"`
	LaunchIndex      int               `json:"launch_index"`
	AvailabilityZone string            `json:"availability_zone"`
	PublicKeys       map[string]string `json:"public_keys"`
	Keys             []struct {
		Name string `json:"name"`
		Data string `json:"data"`
	} `json:"keys"`
}

// ec2 serves the EC2 layout; tokens are the path after "/" (or "/ec2").
func (h *handler) ec2(ctx context.Context, req *http.Request, id string, remote netip.Addr, tokens []string) (reply, error) {
	if len(tokens) == 0 {
		return readOnly(req, text(strings.Join(ec2Versions, "\n")+"\nlatest")), nil
	}
	version := tokens[0]
	if version == "latest" {
		version = ec2Versions[len(ec2Versions)-1]
	}
	if !slices.Contains(ec2Versions, version) {
		return notFound(), nil
	}
	files, err := h.files(ctx, id)
	if err != nil {
		return reply{}, err
	}
	facts, err := h.src.EC2(ctx, id)
	if err != nil {
		return reply{}, fmt.Errorf("EC2 facts of server %s: %w", id, err)
	}
	tree, err := ec2Tree(version, files, facts, remote)
	if err != nil {
		return reply{}, err
	}
	node, ok := find(tree, tokens[1:])
	if !ok {
		return notFound(), nil
	}
	return readOnly(req, render(node)), nil
}

// ec2Tree is Nova's get_ec2_metadata for version.
func ec2Tree(version string, files map[string][]byte, f EC2Facts, remote netip.Addr) (dir, error) {
	var md driveMeta
	if err := json.Unmarshal(files[filePrefix+"meta_data.json"], &md); err != nil {
		return nil, fmt.Errorf("decode meta_data.json: %w", err)
	}
	localIPv4 := f.FixedIPv4
	if localIPv4 == "" {
		localIPv4 = remote.String()
	}
	meta := dir{
		"ami-id":            ec2ID("ami", f.ImageID),
		"ami-launch-index":  strconv.Itoa(md.LaunchIndex),
		"ami-manifest-path": "FIXME", // literally, as Nova
		"instance-id":       fmt.Sprintf("i-%08x", f.Number),
		"hostname":          md.Hostname,
		"local-ipv4":        localIPv4,
		"reservation-id":    f.ReservationID,
		"security-groups":   strings.Join(f.SecurityGroups, "\n"),
	}
	if name, key, ok := firstKey(md); ok {
		meta["public-keys"] = dir{"0": namedDir{name: "0=" + name, entries: dir{"openssh-key": key}}}
	}
	if ec2Since(version, "2007-01-19") {
		meta["local-hostname"] = md.Hostname
		meta["public-hostname"] = md.Hostname
		meta["public-ipv4"] = f.FloatingIPv4
	}
	if ec2Since(version, "2007-08-29") {
		meta["instance-type"] = f.FlavorName
	}
	if ec2Since(version, "2007-12-15") {
		meta["block-device-mapping"] = blockDeviceMapping(f)
	}
	if ec2Since(version, "2008-02-01") {
		meta["placement"] = dir{"availability-zone": md.AvailabilityZone}
	}
	if ec2Since(version, "2008-09-01") {
		meta["instance-action"] = "none"
	}
	top := dir{"meta-data": meta}
	if ud, ok := files[filePrefix+"user_data"]; ok {
		top["user-data"] = ud
	}
	return top, nil
}

// firstKey is the server's key pair: Nova's instance key_name and key_data.
func firstKey(md driveMeta) (name, data string, ok bool) {
	if len(md.Keys) > 0 {
		return md.Keys[0].Name, md.Keys[0].Data, true
	}
	names := make([]string, 0, len(md.PublicKeys))
	for n := range md.PublicKeys {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "", "", false
	}
	sort.Strings(names)
	return names[0], md.PublicKeys[names[0]], true
}

// ec2ID is an EC2-style id ("ami-%08x") for a UUID, stable across requests;
// "" for none (Nova has no ami-id for a server booted from a volume).
func ec2ID(prefix, uuid string) string {
	if uuid == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(uuid))
	return fmt.Sprintf("%s-%08x", prefix, binary.BigEndian.Uint32(sum[:4]))
}

// blockDeviceMapping is Nova's block_device.instance_block_mapping.
func blockDeviceMapping(f EC2Facts) dir {
	if f.RootDeviceName == "" {
		return dir{"ami": "sda1", "ephemeral0": "sda2", "root": "/dev/sda1", "swap": "sda3"}
	}
	m := dir{"ami": strings.TrimPrefix(f.RootDeviceName, "/dev/"), "root": f.RootDeviceName}
	if f.EphemeralDevice != "" {
		m["ephemeral0"] = f.EphemeralDevice
	}
	if f.SwapDevice != "" {
		m["swap"] = f.SwapDevice
	}
	vols := slices.Clone(f.VolumeDevices)
	slices.Sort(vols)
	for i, v := range vols {
		m["ebs"+strconv.Itoa(i)] = v
	}
	return m
}

// find walks the tree along tokens; a leaf has nothing under it.
func find(node any, tokens []string) (any, bool) {
	for _, t := range tokens {
		switch n := node.(type) {
		case dir:
			next, ok := n[t]
			if !ok {
				return nil, false
			}
			node = next
		case namedDir:
			next, ok := n.entries[t]
			if !ok {
				return nil, false
			}
			node = next
		default:
			return nil, false
		}
	}
	return node, true
}

// render is Nova's ec2_md_print: a dir lists its sorted names, sub-dirs as
// "name/", named dirs by their name; a leaf is its value.
func render(node any) reply {
	var entries dir
	switch n := node.(type) {
	case string:
		return text(n)
	case []byte:
		return raw(n)
	case namedDir:
		entries = n.entries
	case dir:
		entries = n
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	lines := make([]string, 0, len(names))
	for _, name := range names {
		switch v := entries[name].(type) {
		case namedDir:
			lines = append(lines, v.name)
		case dir:
			lines = append(lines, name+"/")
		default:
			lines = append(lines, name)
		}
	}
	return text(strings.Join(lines, "\n"))
}
