package identity

// OS-OAUTH1 consumers (/v3/OS-OAUTH1/consumers), served as
// keystone/api/os_oauth1.py does with its default policies (admin
// writes, admin or system reader reads). The secret is shown once, in
// the create answer. kumo has no request or access token flow yet.

import (
	"encoding/json"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) oauth1Routes() []api.Route {
	const path = "/v3/OS-OAUTH1/consumers"
	return []api.Route{
		{Method: "GET", Path: path, Rule: "identity:list_consumers", Handler: h.listConsumers},
		{Method: "POST", Path: path, Rule: "identity:create_consumer", Handler: h.createConsumer},
		{Method: "GET", Path: path + "/{consumer_id}", Rule: "identity:get_consumer", Handler: h.showConsumer},
		{Method: "PATCH", Path: path + "/{consumer_id}", Rule: "identity:update_consumer", Handler: h.updateConsumer},
		{Method: "DELETE", Path: path + "/{consumer_id}", Rule: "identity:delete_consumer", Handler: h.deleteConsumer},
	}
}

func consumerView(c *api.Call, co *identity.Consumer) obj {
	v := withExtra(obj{"id": co.ID, "description": strOrNil(co.Description),
		"links": selfLink(c, "/OS-OAUTH1/consumers/"+co.ID)}, co.Extra)
	if co.Secret != "" {
		v["secret"] = co.Secret
	}
	return v
}

// consumerAttrs reads a consumer body leniently, as Keystone does
// (get_json(force=True, silent=True)): a body that is not a JSON object
// is an empty consumer.
func consumerAttrs(c *api.Call) (*fields, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body) // not an object: no consumer attributes
	m, _ := body["consumer"].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return &fields{key: "consumer", m: m}, nil
}

func (h *handlers) listConsumers(c *api.Call) (*api.Reply, error) {
	list, err := h.svc.ListConsumers(c.Ctx)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "consumers", views(c, list, consumerView))), nil
}

func (h *handlers) createConsumer(c *api.Call) (*api.Reply, error) {
	f, err := consumerAttrs(c)
	if err != nil {
		return nil, err
	}
	desc, _, err := f.str("description", true, 0)
	if err != nil {
		return nil, err
	}
	co := identity.Consumer{Description: desc, Extra: map[string]any{}}
	for k, v := range f.m {
		if k != "description" && k != "id" && k != "secret" && k != "links" {
			co.Extra[k] = v
		}
	}
	out, err := h.svc.CreateConsumer(c.Ctx, co)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"consumer": consumerView(c, out)}), nil
}

func (h *handlers) showConsumer(c *api.Call) (*api.Reply, error) {
	co, err := h.svc.GetConsumer(c.Ctx, c.Param("consumer_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"consumer": consumerView(c, co)}), nil
}

func (h *handlers) updateConsumer(c *api.Call) (*api.Reply, error) {
	f, err := consumerAttrs(c)
	if err != nil {
		return nil, err
	}
	if len(f.m) == 0 {
		return nil, errs.Invalid("Invalid input for field '/': {} does not have enough properties")
	}
	if _, ok := f.m["secret"]; ok {
		return nil, errs.Invalid("Invalid input for field '/': %s should not be valid under {'required': ['secret']}", jsonText(f.m))
	}
	var p identity.ConsumerPatch
	if p.Description, p.SetDescription, err = f.str("description", true, 0); err != nil {
		return nil, err
	}
	if id, ok := f.m["id"]; ok && id != c.Param("consumer_id") {
		return nil, errs.Invalid("Cannot change ID")
	}
	p.Extra = map[string]any{}
	for k, v := range f.m {
		if k != "description" && k != "id" && k != "links" {
			p.Extra[k] = v
		}
	}
	out, err := h.svc.UpdateConsumer(c.Ctx, c.Param("consumer_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"consumer": consumerView(c, out)}), nil
}

func (h *handlers) deleteConsumer(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteConsumer(c.Ctx, c.Param("consumer_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
