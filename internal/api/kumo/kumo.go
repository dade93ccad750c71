// Package kumo serves kumo's own API under /kumo/v1, outside the
// OpenStack APIs but on their listener, authenticated and authorized as
// they are: fault injection rules and their events (internal/faults), and
// the requests this process served lately (internal/reqlog).
package kumo

import (
	"bytes"
	"encoding/json"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/faults"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/reqlog"
)

// Mount is where kumo's API is served.
const Mount = "/kumo/v1"

// NewService returns kumo's API service. Its errors are Keystone's JSON
// bodies ({"error": {"code", "message", "title"}}).
func NewService(f *faults.Service, recent *reqlog.Log, o api.Options) *api.Service {
	return &api.Service{
		Name: "kumo", Mount: Mount, Router: api.NewRouter(Routes(f, recent)), Auth: o.Auth,
		AuthURL: o.AuthURL, Errors: api.KeystoneError, PublicURL: o.PublicURL, Log: o.Log,
		Policy: policy.Kumo(), Denied: denied, Target: api.CallerTarget, NoTrailingSlash: true,
	}
}

func denied(rule string) error {
	return errs.Forbidden("You are not authorized to perform the requested action: %s.", rule)
}

// Routes is the route table, relative to Mount.
func Routes(f *faults.Service, recent *reqlog.Log) []api.Route {
	h := handlers{f: f, recent: recent}
	return []api.Route{
		{Method: "GET", Path: "/faults", Rule: policy.FaultsList, Handler: h.list},
		{Method: "POST", Path: "/faults", Rule: policy.FaultsCreate, Handler: h.create},
		{Method: "GET", Path: "/faults/events", Rule: policy.FaultsEvents, Handler: h.events},
		{Method: "GET", Path: "/faults/{fault_id}", Rule: policy.FaultsShow, Handler: h.show},
		{Method: "DELETE", Path: "/faults/{fault_id}", Rule: policy.FaultsDelete, Handler: h.delete},
		{Method: "GET", Path: "/requests", Rule: policy.RequestsList, Handler: h.requests},
	}
}

type handlers struct {
	f      *faults.Service
	recent *reqlog.Log // this process's
}

// view is a rule as the API shows it: probability always a number.
func view(r *faults.Rule) *faults.Rule {
	v := *r
	if v.Probability == nil {
		one := 1.0
		v.Probability = &one
	}
	return &v
}

func (h handlers) list(c *api.Call) (*api.Reply, error) {
	rules, err := h.f.List(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(rules))
	for i := range rules {
		out = append(out, view(&rules[i]))
	}
	return api.JSON(200, map[string]any{"faults": out}), nil
}

func (h handlers) create(c *api.Call) (*api.Reply, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	if err := api.CheckJSON(b); err != nil {
		return nil, err
	}
	var body struct {
		Fault *faults.Rule `json:"fault"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, errs.Invalid("Invalid fault: %v", err)
	}
	if body.Fault == nil {
		return nil, errs.Invalid("Invalid fault: the body must be {\"fault\": {...}}")
	}
	r, err := h.f.Create(c.Ctx, *body.Fault)
	if err != nil {
		return nil, err
	}
	return api.JSON(201, map[string]any{"fault": view(r)}), nil
}

func (h handlers) show(c *api.Call) (*api.Reply, error) {
	r, err := h.f.Get(c.Ctx, c.Param("fault_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(200, map[string]any{"fault": view(r)}), nil
}

func (h handlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.f.Delete(c.Ctx, c.Param("fault_id")); err != nil {
		return nil, err
	}
	return api.NoContent(204), nil
}

func (h handlers) events(c *api.Call) (*api.Reply, error) {
	evs, err := h.f.Events(c.Ctx)
	if err != nil {
		return nil, err
	}
	return api.JSON(200, map[string]any{"events": evs}), nil
}

// requests lists the requests this process served lately, newest first,
// filtered by the query (reqlog.ParseFilter). Each process keeps its
// own: behind a load balancer, each shows what it served.
func (h handlers) requests(c *api.Call) (*api.Reply, error) {
	f, err := reqlog.ParseFilter(c.Query(), h.recent.Size())
	if err != nil {
		return nil, err
	}
	return api.JSON(200, map[string]any{"requests": h.recent.List(f)}), nil
}
