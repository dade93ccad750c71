package identity

// The credentials API (/v3/credentials), as keystone/api/credentials.py:
// the owner or an admin manages a credential; listing shows each caller
// the credentials they may read. ec2 credentials made here are the ones
// OS-EC2 and ec2tokens see.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) credentialRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v3/credentials", Rule: "identity:list_credentials", Target: ownCredentialsTarget, Handler: h.listCredentials},
		{Method: "POST", Path: "/v3/credentials", Rule: "identity:create_credential", Target: bodyCredentialTarget, Handler: h.createCredential},
		{Method: "GET", Path: "/v3/credentials/{credential_id}", Rule: "identity:get_credential", Target: h.storedCredentialTarget, Handler: h.showCredential},
		{Method: "PATCH", Path: "/v3/credentials/{credential_id}", Rule: "identity:update_credential", Target: h.storedCredentialTarget, Handler: h.updateCredential},
		{Method: "DELETE", Path: "/v3/credentials/{credential_id}", Rule: "identity:delete_credential", Target: h.storedCredentialTarget, Handler: h.deleteCredential},
		{Method: "POST", Path: "/v3/s3tokens", Rule: "identity:s3tokens_validate", Handler: h.s3tokens},
		{Method: "POST", Path: "/v3/ec2tokens", Rule: "identity:ec2tokens_validate", Handler: h.ec2tokens},
	}
}

// ownCredentialsTarget is Keystone's list target outside system scope:
// the caller's own credentials.
func ownCredentialsTarget(c *api.Call) (policy.Target, error) {
	if c.Principal == nil {
		return policy.Target{}, nil
	}
	return policy.Target{"target.credential.user_id": c.Principal.UserID}, nil
}

// bodyCredentialTarget is the credential a create makes; a body that is
// not one is the handler's 400, after the rule (which an admin passes).
func bodyCredentialTarget(c *api.Call) (policy.Target, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	// The handler reads the body again.
	c.Req.Body = io.NopCloser(bytes.NewReader(b))
	var body struct {
		Credential struct {
			UserID any `json:"user_id"`
		} `json:"credential"`
	}
	if json.Unmarshal(b, &body) != nil {
		return policy.Target{}, nil
	}
	u, _ := body.Credential.UserID.(string)
	return policy.Target{"target.credential.user_id": u}, nil
}

// storedCredentialTarget is the credential in the path. As Keystone's
// _build_target_enforcement, a missing one leaves the target empty: a 403
// to all but admins, who get the handler's 404.
func (h *handlers) storedCredentialTarget(c *api.Call) (policy.Target, error) {
	cr, err := h.svc.GetCredential(c.Ctx, c.Param("credential_id"))
	if errs.Is(err, errs.KindNotFound) {
		return policy.Target{}, nil
	}
	if err != nil {
		return nil, err
	}
	return policy.Target{"target.credential.user_id": cr.UserID}, nil
}

var credentialAttributes = []string{"id", "user_id", "project_id", "type", "blob", "links"}

func credentialView(c *api.Call, cr *identity.Credential) obj {
	return withExtra(obj{"id": cr.ID, "user_id": cr.UserID, "project_id": nullable(cr.ProjectID), "type": cr.Type,
		"blob": cr.Blob, "links": selfLink(c, "/credentials/"+cr.ID)}, cr.Extra)
}

// listCredentials answers GET /v3/credentials (filters user_id, type):
// as Keystone filters by identity:get_credential, a caller who is not an
// admin sees only their own.
func (h *handlers) listCredentials(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	crs, err := h.svc.ListCredentials(c.Ctx, q.Get("user_id"), q.Get("type"))
	if err != nil {
		return nil, err
	}
	out := []obj{}
	for i := range crs {
		if c.IsAdmin() || (c.Principal != nil && crs[i].UserID == c.Principal.UserID) {
			out = append(out, credentialView(c, &crs[i]))
		}
	}
	return api.JSON(http.StatusOK, collection(c, "credentials", out)), nil
}

// credentialFields reads a credential body's string attributes.
func credentialFields(m map[string]any) (map[string]*string, error) {
	out := map[string]*string{}
	for _, n := range []string{"blob", "type", "user_id", "project_id"} {
		v, present, err := bodyField(m, n, n == "project_id")
		if err != nil {
			return nil, err
		}
		if present {
			out[n] = &v
		}
	}
	return out, nil
}

func (h *handlers) createCredential(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "credential")
	if err != nil {
		return nil, err
	}
	f, err := credentialFields(m)
	if err != nil {
		return nil, err
	}
	for _, n := range []string{"blob", "type", "user_id"} {
		if f[n] == nil {
			return nil, required(n)
		}
	}
	if *f["type"] == "ec2" && (f["project_id"] == nil || *f["project_id"] == "") {
		return nil, required("project_id")
	}
	id, _, err := bodyField(m, "id", false)
	if err != nil {
		return nil, err
	}
	cr, err := h.svc.CreateCredential(c.Ctx, identity.Credential{ID: id, UserID: *f["user_id"], ProjectID: str(f["project_id"]),
		Type: *f["type"], Blob: *f["blob"], Extra: extraOf(m, credentialAttributes...)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"credential": credentialView(c, cr)}), nil
}

func (h *handlers) showCredential(c *api.Call) (*api.Reply, error) {
	cr, err := h.svc.GetCredential(c.Ctx, c.Param("credential_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"credential": credentialView(c, cr)}), nil
}

func (h *handlers) updateCredential(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "credential")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(m, "credential"); err != nil {
		return nil, err
	}
	f, err := credentialFields(m)
	if err != nil {
		return nil, err
	}
	if err := matchingID(m, c.Param("credential_id")); err != nil {
		return nil, err
	}
	p := identity.CredentialPatch{UserID: f["user_id"], Type: f["type"], Blob: f["blob"], Extra: extraOf(m, credentialAttributes...)}
	if v := f["project_id"]; v != nil {
		p.SetProject, p.ProjectID = true, *v
	}
	cr, err := h.svc.UpdateCredential(c.Ctx, c.Param("credential_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"credential": credentialView(c, cr)}), nil
}

func (h *handlers) deleteCredential(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteCredential(c.Ctx, c.Param("credential_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
