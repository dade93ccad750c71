package compute

// From a schema-valid create body to compute.CreateRequest, with the
// checks Nova's servers.py create() makes after the schema, in its order.

import (
	"encoding/json"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
)

// serverCreateInput is a validated POST /servers.
type serverCreateInput struct {
	req                 compute.CreateRequest
	returnReservationID bool
	// groupsEcho is the response's security_groups: what the request
	// listed, as Nova echoes it, or [{"name": "default"}].
	groupsEcho any
	// personality files, counted against the injected_files quotas;
	// kumo's guests get their data from the config drive and metadata
	// service, so the files themselves are not kept.
	personality []personalityFile
	// requestedHost and requestedNode are 2.74's host and
	// hypervisor_hostname, which must name a known compute host.
	requestedHost, requestedNode string
	// forcedHost is the host the zone named ("az:host", "az:host:node"),
	// which skips the zone availability check.
	forcedHost   string
	trustedCerts []string
	bdms         []compute.BlockDeviceRequest
}

type personalityFile struct{ path, contents string }

// Nova's policy rules for the admin-only parts of a create.
const (
	forcedHostRule           = "os_compute_api:servers:create:forced_host"
	requestedDestinationRule = "compute:servers:create:requested_destination"
	attachVolumeRule         = "os_compute_api:servers:create:attach_volume"
)

// parseServerCreate validates the raw body with the schema of c's
// microversion (from schemas) and turns it into a create request.
func parseServerCreate(c *api.Call, schemas *createSchemas, raw []byte) (*serverCreateInput, error) {
	var probe any
	if err := api.DecodeJSON(raw, &probe); err != nil {
		return nil, err
	}
	body, order, err := js.Decode(raw)
	if err != nil {
		return nil, errs.Invalid("Malformed request body")
	}
	f := createFeaturesOf(c)
	run := &js.Run{Relaxed: f.legacy, Order: order}
	if fl := schemas.get(f).Validate(run, nil, body); fl != nil {
		return nil, fl.Err(run)
	}
	root := body.(map[string]any)
	server := root["server"].(map[string]any)
	in := &serverCreateInput{}
	r := &in.req
	r.RequestID = c.RequestID
	if pass, ok := server["adminPass"].(string); ok {
		r.AdminPass = pass
	}
	r.Name = strings.TrimSpace(server["name"].(string))
	switch {
	case !f.description:
		// Before 2.19 Nova sets the description to the name.
		name := r.Name
		r.Description = &name
	case server["description"] != nil:
		d := server["description"].(string)
		r.Description = &d
	}
	if f.hostname {
		r.Hostname, _ = server["hostname"].(string)
	}
	r.UserData, _ = server["user_data"].(string)
	r.KeyName, _ = server["key_name"].(string)
	if v, ok := server["config_drive"]; ok {
		r.ConfigDrive = createBool(v)
	}
	in.groupsEcho, r.SecurityGroups = createSecurityGroups(server)
	r.SchedulerHints = createSchedulerHints(root)

	minCount, maxCount, err := createInstanceCounts(server)
	if err != nil {
		return nil, err
	}
	setInstanceCounts(r, minCount, maxCount)
	if v, ok := server["return_reservation_id"]; ok {
		in.returnReservationID = createBool(v)
	}
	az, _ := server["availability_zone"].(string)
	if f.tags {
		for _, t := range createList(server["tags"]) {
			r.Tags = createAppendUnique(r.Tags, t.(string))
		}
	}
	r.DiskConfig, _ = server["OS-DCF:diskConfig"].(string)
	r.AccessIPv4, _ = server["accessIPv4"].(string)
	r.AccessIPv6, _ = server["accessIPv6"].(string)
	for _, p := range createList(server["personality"]) {
		m := p.(map[string]any)
		pf := personalityFile{}
		pf.path, _ = m["path"].(string)
		pf.contents, _ = m["contents"].(string)
		in.personality = append(in.personality, pf)
	}
	if m, ok := server["metadata"].(map[string]any); ok {
		r.Metadata = make(map[string]string, len(m))
		for k, v := range m {
			r.Metadata[k] = v.(string)
		}
	}
	for _, cert := range createList(server["trusted_image_certificates"]) {
		in.trustedCerts = append(in.trustedCerts, cert.(string))
	}

	if err := in.placement(c, f, server, az); err != nil {
		return nil, err
	}
	if in.bdms, err = parseBDMs(server); err != nil {
		return nil, err
	}
	if len(in.bdms) > 0 {
		if err := c.Authorize(attachVolumeRule, nil); err != nil {
			return nil, err
		}
	}
	imageRef, _ := server["imageRef"].(string)
	if imageRef == "" && len(in.bdms) == 0 {
		return nil, errs.Invalid("Missing imageRef attribute")
	}
	r.ImageRef = imageRef
	if r.Networks, err = createNetworks(server, f); err != nil {
		return nil, err
	}
	r.FlavorRef = createRefID(server["flavorRef"])
	return in, nil
}

// placement applies the zone, forced host and 2.74 host rules.
func (in *serverCreateInput) placement(c *api.Call, f createFeatures, server map[string]any, az string) error {
	zone, host, node, err := createParseAZ(az)
	if err != nil {
		return err
	}
	in.req.AZ = zone
	if host != "" || node != "" {
		if err := c.Authorize(forcedHostRule, nil); err != nil {
			return err
		}
		in.forcedHost = host
		in.req.Host, in.req.Node, in.req.ForcedHost = host, node, true
	}
	if !f.requestHost {
		return nil
	}
	reqHost, _ := server["host"].(string)
	reqNode, _ := server["hypervisor_hostname"].(string)
	if reqHost == "" && reqNode == "" {
		return nil
	}
	if err := c.Authorize(requestedDestinationRule, nil); err != nil {
		return err
	}
	if host != "" || node != "" {
		return errs.Invalid("One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.")
	}
	in.requestedHost, in.requestedNode = reqHost, reqNode
	in.req.Host, in.req.Node = reqHost, reqNode
	return nil
}

// createParseAZ splits Nova's "az", "az:host", "az:host:node" and
// "az::node" forms (compute API parse_availability_zone).
func createParseAZ(az string) (zone, host, node string, err error) {
	switch strings.Count(az, ":") {
	case 0:
		return az, "", "", nil
	case 1:
		zone, host, _ = strings.Cut(az, ":")
		return zone, host, "", nil
	case 2:
		if z, n, ok := strings.Cut(az, "::"); ok {
			return z, "", n, nil
		}
		parts := strings.Split(az, ":")
		return parts[0], parts[1], parts[2], nil
	}
	return "", "", "", errs.Invalid("Invalid input received: Unable to parse availability_zone")
}

// createSecurityGroups returns the response echo and the names to apply: the
// named groups once each, or "default" when none is named.
func createSecurityGroups(server map[string]any) (echo any, names []string) {
	raw, given := server["security_groups"]
	for _, g := range createList(raw) {
		if name, _ := g.(map[string]any)["name"].(string); name != "" {
			names = createAppendUnique(names, name)
		}
	}
	if len(names) == 0 {
		names = []string{"default"}
	}
	if !given {
		return []map[string]string{{"name": "default"}}, names
	}
	return raw, names
}

// createSchedulerHints prefers os:scheduler_hints over the OS-SCH-HNT alias, as
// Nova does.
func createSchedulerHints(root map[string]any) map[string]any {
	for _, key := range []string{"os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"} {
		if h, ok := root[key].(map[string]any); ok {
			return h
		}
	}
	return map[string]any{}
}

// createInstanceCounts reads min_count and max_count (numbers or numeric
// strings) as Nova's int() does, exactly however large; max_count
// defaults to min_count.
func createInstanceCounts(server map[string]any) (minCount, maxCount *big.Int, err error) {
	minCount = big.NewInt(1)
	if v, ok := server["min_count"]; ok {
		if minCount, err = createCountValue("min_count", v); err != nil {
			return nil, nil, err
		}
	}
	maxCount = minCount
	if v, ok := server["max_count"]; ok {
		if maxCount, err = createCountValue("max_count", v); err != nil {
			return nil, nil, err
		}
	}
	if minCount.Cmp(maxCount) > 0 {
		return nil, nil, errs.Invalid("min_count must be <= max_count")
	}
	return minCount, maxCount, nil
}

// setInstanceCounts puts the counts in r: as ints, and whole in the Big
// fields when an int cannot hold them (10^20 is a valid max_count; Nova
// caps it by the quota).
func setInstanceCounts(r *compute.CreateRequest, minCount, maxCount *big.Int) {
	r.MinCount, r.MaxCount = createClampInt(minCount), createClampInt(maxCount)
	if !minCount.IsInt64() || !maxCount.IsInt64() {
		r.BigMinCount, r.BigMaxCount = minCount, maxCount
	}
}

func createClampInt(n *big.Int) int {
	if n.IsInt64() {
		return int(n.Int64())
	}
	return math.MaxInt // the schema's minimum leaves no negative counts
}

// createCountValue is Python's int() of a schema-valid positive integer:
// a JSON integer or a string of digits exactly, a whole JSON number
// written with a fraction or exponent (1e20) as the float it parses to.
// Nothing is truncated into a smaller valid count.
func createCountValue(field string, v any) (*big.Int, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	}
	if n, ok := new(big.Int).SetString(s, 10); ok {
		return n, nil
	}
	if _, isNumber := v.(json.Number); isNumber {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && f == math.Trunc(f) {
			n, _ := new(big.Float).SetFloat64(f).Int(nil)
			return n, nil
		}
	}
	// The schema lets no other value through; refuse rather than guess.
	return nil, errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s is not of type 'integer', 'string'", field, pyStr(v), api.PyRepr(v))
}

// createNetworks maps "networks" as Nova's _get_requested_networks
// does: "auto"/"none" from 2.37, otherwise a list whose entries name a
// network by uuid or a port; before 2.37 leaving it out means auto.
func createNetworks(server map[string]any, f createFeatures) (compute.NetworkRequest, error) {
	raw, ok := server["networks"]
	if !ok {
		return compute.NetworkRequest{Mode: "auto"}, nil
	}
	if s, isString := raw.(string); isString {
		return compute.NetworkRequest{Mode: s}, nil
	}
	out := compute.NetworkRequest{Mode: "list"}
	var ports []string
	for _, item := range raw.([]any) {
		m := item.(map[string]any)
		n := compute.RequestedNetwork{}
		n.FixedIP, _ = m["fixed_ip"].(string)
		n.Port, _ = m["port"].(string)
		if f.networkTag {
			n.Tag, _ = m["tag"].(string)
		}
		if n.Port != "" {
			if contains(ports, n.Port) {
				return out, errs.Invalid("Port ID '%s' was specified twice: you cannot attach a port multiple times.", n.Port)
			}
			if _, hasIP := m["fixed_ip"]; hasIP && m["fixed_ip"] != nil {
				return out, errs.Invalid("Specified Fixed IP '%s' cannot be used with port '%s': the two cannot be specified together.", pyStr(m["fixed_ip"]), n.Port)
			}
			ports = append(ports, n.Port)
		} else {
			id, has := m["uuid"]
			if !has {
				return out, errs.Invalid("Bad network format: missing 'uuid'")
			}
			n.UUID, _ = id.(string)
			if !js.UUIDLike(n.UUID) {
				return out, errs.Invalid("Bad networks format: network uuid is not in proper format (%s)", n.UUID)
			}
		}
		out.Networks = append(out.Networks, n)
	}
	return out, nil
}

// createRefID is Nova's common.get_id_from_href: the last segment of the
// reference's path, so ids and URLs both work.
func createRefID(v any) string {
	ref := pyStr(v)
	if u, err := url.Parse(ref); err == nil {
		ref = u.Path
	}
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		ref = ref[i+1:]
	}
	return ref
}

// createBool is oslo's bool_from_string for the schema's boolean enum.
func createBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(x) {
		case "true", "1", "on", "yes":
			return true
		}
	}
	return false
}

func createList(v any) []any {
	l, _ := v.([]any)
	return l
}

func createAppendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
