package compute

// PUT /servers/{id} request validation: Nova's update, update_v219,
// update_v290, update_v294 and update_v2104 schemas, with their messages.

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

var (
	hostnamePattern = regexp.MustCompile(`^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$`)
	fqdnPattern     = regexp.MustCompile(`^[a-zA-Z0-9-._]*$`)
)

const (
	hostnameShown = "^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$"
	fqdnShown     = "^[a-zA-Z0-9-._]*$"
	invalidName   = "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."
)

// serverUpdateFields are the keys "server" may hold at c's version.
func serverUpdateFields(c *api.Call) []string {
	f := []string{"name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"}
	if c.AtLeast(mv.V2_19) {
		f = append(f, "description")
	}
	if c.AtLeast(mv.V2_90) {
		f = append(f, "hostname")
	}
	if c.AtLeast(mv.V2_104) {
		f = append(f, "pinned_availability_zone")
	}
	return f
}

// serverUpdate is a validated PUT body.
type serverUpdate struct {
	compute.UpdateRequest
	// PinAZ is the 2.104 pinned_availability_zone (nil: unpin) when
	// SetPinAZ.
	PinAZ    *string
	SetPinAZ bool
}

// parseServerUpdate validates the body and returns the domain request.
func parseServerUpdate(c *api.Call) (serverUpdate, error) {
	var req serverUpdate
	body, err := decodeAny(c)
	if err != nil {
		return req, err
	}
	e := newSchemaErrors(c)
	root := e.checkObject(nil, body, []string{"server"}, []string{"server"})
	if err := e.err(); err != nil || root == nil {
		return req, err
	}
	srv := e.checkObject([]string{"server"}, root["server"], nil, serverUpdateFields(c))
	if err := e.err(); err != nil || srv == nil {
		return req, err
	}
	path := func(k string) []string { return []string{"server", k} }
	legacy := isLegacyV2(c)
	if v, ok := srv["name"]; ok && e.checkType(path("name"), v, "string") {
		e.checkLength(path("name"), v, 1, 255)
		if !legacy && !js.ValidName(v.(string)) {
			e.addRaw(2, invalidName)
		}
		name := strings.TrimSpace(v.(string))
		req.Name = &name
	}
	if v, ok := srv["OS-DCF:diskConfig"]; ok && e.checkType(path("OS-DCF:diskConfig"), v, "string") {
		s := v.(string)
		if s != "AUTO" && s != "MANUAL" {
			e.add(path("OS-DCF:diskConfig"), v, api.PyRepr(v)+" is not one of ['AUTO', 'MANUAL']")
		}
		req.DiskConfig = &s
	}
	for _, ip := range []struct {
		key    string
		format string
		dst    **string
	}{{"accessIPv4", "ipv4", &req.AccessIPv4}, {"accessIPv6", "ipv6", &req.AccessIPv6}} {
		v, ok := srv[ip.key]
		if !ok || !e.checkType(path(ip.key), v, "string") {
			continue
		}
		s := v.(string)
		if !validIP(s, ip.format == "ipv6") {
			e.add(path(ip.key), v, fmt.Sprintf("%s is not a '%s'", api.PyRepr(v), ip.format))
		}
		*ip.dst = &s
	}
	if v, ok := srv["description"]; ok && e.checkType(path("description"), v, "string", "null") {
		e.checkLength(path("description"), v, 0, 255)
		if s, isStr := v.(string); isStr && !js.Printable(s) {
			e.add(path("description"), v, api.PyRepr(v)+" does not match "+api.PyRepr(descriptionShown))
		}
		var d *string
		if s, isStr := v.(string); isStr {
			d = &s
		}
		req.Description = &d
	}
	if v, ok := srv["hostname"]; ok && e.checkType(path("hostname"), v, "string") {
		if c.AtLeast(mv.V2_94) {
			e.checkLength(path("hostname"), v, 1, 255)
			e.checkPattern(path("hostname"), v, fqdnPattern, fqdnShown)
		} else {
			e.checkLength(path("hostname"), v, 2, 63)
			e.checkPattern(path("hostname"), v, hostnamePattern, hostnameShown)
		}
		s := v.(string)
		req.Hostname = &s
	}
	if v, ok := srv["pinned_availability_zone"]; ok {
		checkNameOrNone(e, path("pinned_availability_zone"), v)
		req.SetPinAZ = true
		if s, isStr := v.(string); isStr {
			req.PinAZ = &s
		}
	}
	return req, e.err()
}

// checkNameOrNone is Nova's name_or_none (a oneOf, hence its message).
func checkNameOrNone(e *schemaErrors, path []string, v any) {
	if v == nil {
		return
	}
	if s, ok := v.(string); ok && len([]rune(s)) >= 1 && len([]rune(s)) <= 255 {
		return
	}
	e.add(path, v, api.PyRepr(v)+" is not valid under any of the given schemas")
}

// validIP applies jsonschema's ipv4/ipv6 formats.
func validIP(s string, v6 bool) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	if v6 {
		return a.Is6() && !strings.Contains(s, "%")
	}
	return a.Is4()
}
