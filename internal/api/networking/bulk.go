package networking

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
)

// creator makes objects of one resource: create makes one from its
// checked attributes, remove deletes one (to undo a bulk create that
// fails part way).
type creator struct {
	res    resource
	spec   attrSpec
	create func(c *api.Call, a attrs) (view, error)
	remove func(c *api.Call, id string) error
}

// handler serves POST /v2.0/<collection>: one object under the
// resource's singular key, or several under its collection key
// (Neutron's bulk create, all or none: the objects made before a failure
// are deleted again, as Neutron's emulated bulk does).
func (cr creator) handler(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c)
	if err != nil {
		return nil, err
	}
	if raw, ok := body[cr.res.Singular]; ok {
		a, err := checkAttrs(raw, cr.res.Singular, cr.spec, false)
		if err != nil {
			return nil, err
		}
		v, err := cr.create(c, a)
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusCreated, map[string]any{cr.res.Singular: v}), nil
	}
	raw, ok := body[cr.res.Name]
	if !ok {
		return nil, badRequest("Unable to find '%s' in request body", cr.res.Singular)
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest("Resources required")
	}
	items := make([]attrs, 0, len(list))
	for _, item := range list {
		a, err := checkAttrs(item, cr.res.Singular, cr.spec, false)
		if err != nil {
			return nil, err
		}
		items = append(items, a)
	}
	made := make([]view, 0, len(items))
	for _, a := range items {
		v, err := cr.create(c, a)
		if err != nil {
			// The caller gets the create's error; a failed undo stays in
			// the chain (errors.Join) for the log of a 500.
			return nil, errors.Join(err, cr.undo(c, made))
		}
		made = append(made, v)
	}
	return api.JSON(http.StatusCreated, map[string]any{cr.res.Name: made}), nil
}

// undo deletes the objects a failed bulk create made, newest first.
func (cr creator) undo(c *api.Call, made []view) error {
	var failed []error
	for i := len(made) - 1; i >= 0; i-- {
		if id, ok := made[i]["id"].(string); ok {
			if err := cr.remove(c, id); err != nil {
				failed = append(failed, fmt.Errorf("undo bulk create of %s %s: %w", cr.res.Singular, id, err))
			}
		}
	}
	return errors.Join(failed...)
}
