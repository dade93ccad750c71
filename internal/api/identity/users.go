package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

type userBody struct {
	User *struct {
		Name             *string        `json:"name"`
		DomainID         *string        `json:"domain_id"`
		Password         *string        `json:"password"`
		OriginalPassword *string        `json:"original_password"`
		DefaultProjectID *string        `json:"default_project_id"`
		Description      *string        `json:"description"`
		Email            *string        `json:"email"`
		Enabled          *bool          `json:"enabled"`
		Options          map[string]any `json:"options"`
	} `json:"user"`
}

func (h *handlers) listUsers(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	us, err := h.svc.ListUsers(c.Ctx, identity.UserFilter{Name: q.Get("name"), DomainID: q.Get("domain_id"), Enabled: boolQuery(c, "enabled"),
		Inexact: inexact(c, "name", "domain_id")})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "users", views(c, us, userView))), nil
}

func (h *handlers) showUser(c *api.Call) (*api.Reply, error) {
	u, err := h.svc.GetUser(c.Ctx, c.Param("user_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"user": userView(c, u)}), nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// userAttributes are the user attributes Keystone defines; others are
// kept as extra attributes.
func userAttributes() []string {
	return []string{"id", "name", "domain_id", "password", "original_password", "default_project_id",
		"description", "email", "enabled", "options", "federated", "links", "password_expires_at"}
}

func (h *handlers) createUser(c *api.Call) (*api.Reply, error) {
	var b userBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.User == nil || b.User.Name == nil {
		return nil, required("name")
	}
	in := b.User
	u := identity.User{
		Name: *in.Name, DomainID: str(in.DomainID), Enabled: in.Enabled == nil || *in.Enabled,
		DefaultProjectID: str(in.DefaultProjectID), Description: str(in.Description), Email: str(in.Email),
		Options: in.Options, Extra: extraAttributes(raw, "user", userAttributes()...),
	}
	if u.DomainID == "" && c.Principal != nil {
		// Keystone puts the user in the caller's domain.
		u.DomainID = c.Principal.UserDomain
	}
	out, err := h.svc.CreateUser(c.Ctx, u, in.Password)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"user": userView(c, out)}), nil
}

func (h *handlers) updateUser(c *api.Call) (*api.Reply, error) {
	var b userBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.User == nil {
		return nil, required("user")
	}
	in := b.User
	id := c.Param("user_id")
	if in.DomainID != nil {
		cur, err := h.svc.GetUser(c.Ctx, id)
		if err != nil {
			return nil, err
		}
		if *in.DomainID != cur.DomainID {
			return nil, errs.Invalid("Cannot change Domain ID")
		}
	}
	u, err := h.svc.UpdateUser(c.Ctx, id, identity.UserPatch{
		Name: in.Name, Password: in.Password, Enabled: in.Enabled,
		DefaultProjectID: in.DefaultProjectID, Description: in.Description, Email: in.Email,
		Options: in.Options, Extra: extraAttributes(raw, "user", userAttributes()...),
	})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"user": userView(c, u)}), nil
}

func (h *handlers) deleteUser(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteUser(c.Ctx, c.Param("user_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// changePassword answers POST /v3/users/{user_id}/password, which needs
// no token: the original password is the proof.
func (h *handlers) changePassword(c *api.Call) (*api.Reply, error) {
	var b userBody
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	if b.User == nil {
		return nil, required("user")
	}
	if b.User.OriginalPassword == nil {
		return nil, errs.Invalid("Invalid input for field 'user': 'original_password' is a required property")
	}
	if b.User.Password == nil {
		return nil, errs.Invalid("Invalid input for field 'user': 'password' is a required property")
	}
	source, refused := h.startLogin(c)
	if refused != nil {
		return refused, nil
	}
	err := h.svc.ChangePassword(c.Ctx, c.Param("user_id"), *b.User.OriginalPassword, *b.User.Password)
	h.endLogin(source, err)
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) userProjects(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	ps, err := h.svc.UserProjects(c.Ctx, c.Param("user_id"), identity.ProjectFilter{
		Name: q.Get("name"), DomainID: q.Get("domain_id"), Enabled: boolQuery(c, "enabled"),
		Inexact: inexact(c, "name", "domain_id"),
	})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "projects", views(c, ps, projectView))), nil
}
