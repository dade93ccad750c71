package image

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) memberRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v2/images/{image_id}/members", Rule: "get_members", Handler: h.listMembers},
		{Method: "POST", Path: "/v2/images/{image_id}/members", Rule: "add_member", Handler: h.addMember},
		{Method: "GET", Path: "/v2/images/{image_id}/members/{member_id}", Rule: "get_member", Target: memberInPath, Handler: h.showMember},
		{Method: "PUT", Path: "/v2/images/{image_id}/members/{member_id}", Rule: "modify_member", Target: memberInPath, Handler: h.updateMember},
		{Method: "DELETE", Path: "/v2/images/{image_id}/members/{member_id}", Rule: "delete_member", Target: memberInPath, Handler: h.removeMember},
	}
}

// memberInPath is the target of calls about one member: the member's
// project may act on its own membership (modify_member).
func memberInPath(c *api.Call) (policy.Target, error) {
	return policy.Target{"member_id": c.Param("member_id")}, nil
}

func (h *handlers) listMembers(c *api.Call) (*api.Reply, error) {
	ms, err := h.svc.Members(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, 0, len(ms))
	for i := range ms {
		views = append(views, memberView(&ms[i]))
	}
	return api.JSON(http.StatusOK, map[string]any{"members": views, "schema": "/v2/schemas/members"}), nil
}

func (h *handlers) addMember(c *api.Call) (*api.Reply, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	member, ok := body["member"].(string)
	if !ok {
		return nil, errs.Invalid("Member to be added not specified")
	}
	m, err := h.svc.AddMember(c.Ctx, c.Principal, c.Param("image_id"), member)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, memberView(m)), nil
}

func (h *handlers) showMember(c *api.Call) (*api.Reply, error) {
	m, err := h.svc.GetMember(c.Ctx, c.Principal, c.Param("image_id"), c.Param("member_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, memberView(m)), nil
}

func (h *handlers) updateMember(c *api.Call) (*api.Reply, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	status, ok := body["status"].(string)
	if !ok {
		return nil, errs.Invalid("Status not specified")
	}
	m, err := h.svc.SetMemberStatus(c.Ctx, c.Principal, c.Param("image_id"), c.Param("member_id"), status)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, memberView(m)), nil
}

func (h *handlers) removeMember(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RemoveMember(c.Ctx, c.Principal, c.Param("image_id"), c.Param("member_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
