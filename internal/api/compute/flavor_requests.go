package compute

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/mv"
)

var (
	flavorIDPattern      = regexp.MustCompile(`^[a-zA-Z0-9. _-]+$`)
	digitsPattern        = regexp.MustCompile(`^[0-9]+$`)
	rxtxPattern          = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	specKeyPattern       = regexp.MustCompile(`^[a-zA-Z0-9\-_:. ]{1,255}$`)
	descriptionShown     = `^[printable characters]*$`
	flavorIDShown        = `^(?! )[a-zA-Z0-9. _-]+(?<! )$`
	specKeyShown         = `^[a-zA-Z0-9-_:. ]{1,255}$`
	booleanEnumShown     = `[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']`
	booleanStringsAccept = []string{"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
		"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}
)

// decodeAny reads the body as a generic JSON value.
func decodeAny(c *api.Call) (any, error) {
	var v any
	if err := c.DecodeJSON(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// flavorCreateFields lists the create body's keys at a microversion.
func flavorCreateFields(c *api.Call) []string {
	fields := []string{"name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap"}
	if !c.AtLeast(mv.V2_102) {
		fields = append(fields, "rxtx_factor")
	}
	fields = append(fields, "os-flavor-access:is_public")
	if c.AtLeast(mv.V2_55) {
		fields = append(fields, "description")
	}
	return fields
}

// parseFlavorCreate validates a POST /flavors body as Nova's schema does
// and returns the flavor to create.
func parseFlavorCreate(c *api.Call, body any) (flavor.CreateInput, error) {
	e := newSchemaErrors(c)
	var in flavor.CreateInput
	root := e.checkObject(nil, body, []string{"flavor"}, []string{"flavor"})
	fv, has := root["flavor"]
	if !has {
		return in, e.err()
	}
	fields := flavorCreateFields(c)
	f := e.checkObject([]string{"flavor"}, fv, []string{"name", "ram", "vcpus", "disk"}, fields)
	if f == nil {
		return in, e.err()
	}
	path := func(k string) []string { return []string{"flavor", k} }
	if v, ok := f["name"]; ok && e.checkType(path("name"), v, "string") {
		if !js.ValidName(v.(string)) {
			e.addRaw(2, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.")
		}
		e.checkLength(path("name"), v, 1, 255)
	}
	if v, ok := f["id"]; ok && e.checkType(path("id"), v, "string", "number", "null") {
		e.checkLength(path("id"), v, 1, 255)
		if s, isStr := v.(string); isStr && (!flavorIDPattern.MatchString(s) || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ")) {
			e.add(path("id"), v, api.PyRepr(v)+" does not match "+api.PyRepr(flavorIDShown))
		}
	}
	for _, k := range []string{"ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap"} {
		v, ok := f[k]
		if !ok {
			continue
		}
		if e.checkType(path(k), v, "integer", "string") {
			e.checkPattern(path(k), v, digitsPattern, `^[0-9]+$`)
			minimum := 0.0
			if k == "ram" || k == "vcpus" {
				minimum = 1
			}
			e.checkRange(path(k), v, minimum, false, flavor.MaxInt, strconv.Itoa(flavor.MaxInt))
		}
	}
	if v, ok := f["rxtx_factor"]; ok && contains(fields, "rxtx_factor") && e.checkType(path("rxtx_factor"), v, "number", "string") {
		e.checkPattern(path("rxtx_factor"), v, rxtxPattern, `^[0-9]+(\.[0-9]+)?$`)
		e.checkRange(path("rxtx_factor"), v, 0, true, flavor.MaxRxTxFactor, "3.40282e+38")
	}
	if v, ok := f["os-flavor-access:is_public"]; ok {
		checkBoolean(e, path("os-flavor-access:is_public"), v)
	}
	if v, ok := f["description"]; ok && contains(fields, "description") {
		checkDescription(e, path("description"), v)
	}
	if err := e.err(); err != nil {
		return in, err
	}
	return createInput(c, f)
}

func checkBoolean(e *schemaErrors, path []string, v any) {
	if !e.checkType(path, v, "boolean", "string") {
		return
	}
	if s, ok := v.(string); ok && !contains(booleanStringsAccept, s) {
		e.add(path, v, api.PyRepr(v)+" is not one of "+booleanEnumShown)
	}
}

func checkDescription(e *schemaErrors, path []string, v any) {
	if !e.checkType(path, v, "string", "null") {
		return
	}
	e.checkLength(path, v, 0, 65535)
	if s, ok := v.(string); ok && !js.Printable(s) {
		e.add(path, v, api.PyRepr(v)+" does not match "+api.PyRepr(descriptionShown))
	}
}

// createInput converts a validated body into the domain's input.
func createInput(c *api.Call, f map[string]any) (flavor.CreateInput, error) {
	in := flavor.CreateInput{Name: f["name"].(string), IsPublic: true}
	switch id := f["id"].(type) {
	case string:
		in.ID = id
	case json.Number:
		in.ID = pyNumberString(id)
	}
	ints := map[string]*int{"ram": &in.RAM, "vcpus": &in.VCPUs, "disk": &in.Disk,
		"OS-FLV-EXT-DATA:ephemeral": &in.Ephemeral, "swap": &in.Swap}
	for k, dst := range ints {
		if v, ok := f[k]; ok {
			n, _, _ := js.NumberOf(v)
			*dst = int(n)
		}
	}
	if v, ok := f["rxtx_factor"]; ok && !c.AtLeast(mv.V2_102) {
		n, _, _ := js.NumberOf(v)
		if n <= 0 || n > flavor.MaxRxTxFactor {
			return in, errs.Invalid("Invalid input received: 'rxtx_factor' argument must be a float between 0 and %g", flavor.MaxRxTxFactor)
		}
		in.RxTxFactor = n
	}
	switch v := f["os-flavor-access:is_public"].(type) {
	case bool:
		in.IsPublic = v
	case string:
		b, _ := flavor.ParseBool(v)
		in.IsPublic = b
	}
	if c.AtLeast(mv.V2_55) {
		if d, ok := f["description"].(string); ok {
			in.Description = &d
		}
	}
	return in, nil
}

// pyNumberString renders a JSON number as Python's str() would after
// json.loads: integers bare, floats with a fractional part.
func pyNumberString(n json.Number) string {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, err := n.Float64()
	if err != nil {
		return n.String()
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// parseFlavorUpdate validates PUT /flavors/{id} (2.55+).
func parseFlavorUpdate(c *api.Call, body any) (*string, error) {
	e := newSchemaErrors(c)
	root := e.checkObject(nil, body, []string{"flavor"}, []string{"flavor"})
	var f map[string]any
	if fv, has := root["flavor"]; has {
		f = e.checkObject([]string{"flavor"}, fv, []string{"description"}, []string{"description"})
	}
	if f != nil {
		if v, ok := f["description"]; ok {
			checkDescription(e, []string{"flavor", "description"}, v)
		}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	if d, ok := f["description"].(string); ok {
		return &d, nil
	}
	return nil, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
