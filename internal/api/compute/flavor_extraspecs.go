package compute

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/mv"
)

// checkSpecs validates an extra specs object (Nova's flavor metadata
// schema: keys of [a-zA-Z0-9-_:. ], string or number values of at most
// 255 characters) at path, returning the specs as strings in key order.
func checkSpecs(e *schemaErrors, path []string, v any) (keys []string, specs map[string]string) {
	obj, ok := v.(map[string]any)
	if !ok {
		e.add(path, v, fmt.Sprintf("%s is not of type 'object'", api.PyRepr(v)))
		return nil, nil
	}
	specs = map[string]string{}
	var bad []string
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := obj[k]
		if !specKeyPattern.MatchString(k) {
			bad = append(bad, k)
			continue
		}
		vp := append(slices.Clone(path), k)
		if !e.checkType(vp, val, "string", "number") {
			continue
		}
		e.checkLength(vp, val, 0, 255)
		switch x := val.(type) {
		case string:
			specs[k] = x
		case json.Number:
			specs[k] = pyNumberString(x)
		}
	}
	if len(bad) > 0 {
		quoted := make([]string, len(bad))
		for i, b := range bad {
			quoted[i] = api.PyRepr(b)
		}
		verb := "does"
		if len(bad) > 1 {
			verb = "do"
		}
		e.add(path, v, fmt.Sprintf("%s %s not match any of the regexes: %s", strings.Join(quoted, ", "), verb, api.PyRepr(specKeyShown)))
	}
	return keys, specs
}

// checkSpecValues applies Nova's value checks: numbers are limited to 255
// characters, and from 2.86 known specs are validated.
func checkSpecValues(c *api.Call, keys []string, specs map[string]string) error {
	for _, k := range keys {
		v, ok := specs[k]
		if !ok {
			continue
		}
		if len(v) > 255 {
			return errs.Invalid("Invalid input received: extra_specs value has more than 255 characters.")
		}
		if c.AtLeast(mv.V2_86) {
			if err := flavor.ValidateExtraSpec(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// listExtraSpecs is GET /flavors/{id}/os-extra_specs.
func (h *handlers) listExtraSpecs(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_102)); err != nil {
		return nil, err
	}
	f, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"extra_specs": f.ExtraSpecs}), nil
}

// showExtraSpec is GET /flavors/{id}/os-extra_specs/{key}.
func (h *handlers) showExtraSpec(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_102)); err != nil {
		return nil, err
	}
	f, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id"))
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	v, ok := f.ExtraSpecs[key]
	if !ok {
		return nil, errs.NotFound("Flavor %s has no extra specs with key %s.", c.Param("flavor_id"), key)
	}
	return api.JSON(http.StatusOK, map[string]string{key: v}), nil
}

// createExtraSpecs is POST /flavors/{id}/os-extra_specs; Nova echoes the
// request body with 200.
func (h *handlers) createExtraSpecs(c *api.Call) (*api.Reply, error) {
	body, err := decodeAny(c)
	if err != nil {
		return nil, err
	}
	e := newSchemaErrors(c)
	root := e.checkObject(nil, body, []string{"extra_specs"}, []string{"extra_specs"})
	var keys []string
	var specs map[string]string
	if v, ok := root["extra_specs"]; ok {
		keys, specs = checkSpecs(e, []string{"extra_specs"}, v)
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	if err := checkSpecValues(c, keys, specs); err != nil {
		return nil, err
	}
	if _, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id")); err != nil {
		return nil, err
	}
	if _, err := h.Flavors.SetExtraSpecs(c.Ctx, c.Param("flavor_id"), specs); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, body), nil
}

// updateExtraSpec is PUT /flavors/{id}/os-extra_specs/{key}: the body is
// {key: value} and must name the key in the URL.
func (h *handlers) updateExtraSpec(c *api.Call) (*api.Reply, error) {
	body, err := decodeAny(c)
	if err != nil {
		return nil, err
	}
	var e schemaErrors
	keys, specs := checkSpecs(&e, nil, body)
	if obj, ok := body.(map[string]any); ok {
		if len(obj) < 1 {
			e.add(nil, body, api.PyRepr(body)+" does not have enough properties")
		}
		if len(obj) > 1 {
			e.add(nil, body, api.PyRepr(body)+" has too many properties")
		}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	if err := checkSpecValues(c, keys, specs); err != nil {
		return nil, err
	}
	key := c.Param("key")
	if _, ok := specs[key]; !ok {
		return nil, errs.Invalid("Request body and URI mismatch")
	}
	if _, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id")); err != nil {
		return nil, err
	}
	if _, err := h.Flavors.SetExtraSpecs(c.Ctx, c.Param("flavor_id"), specs); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, body), nil
}

// deleteExtraSpec is DELETE /flavors/{id}/os-extra_specs/{key}; Nova
// answers 200 with no body.
func (h *handlers) deleteExtraSpec(c *api.Call) (*api.Reply, error) {
	if err := h.Flavors.DeleteExtraSpec(c.Ctx, c.Param("flavor_id"), c.Param("key")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusOK), nil
}
