package identity

// OS-EC2 credentials (/v3/users/{user_id}/credentials/OS-EC2), served as
// keystone/api/users.py does, with its default policies: the owner or an
// admin lists and reads them, secret included; creating and deleting also
// need the member role. A token of a trust, an OAuth1 access token or an
// application credential reaches only the credentials of its own project.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) ec2Routes() []api.Route {
	const path = "/v3/users/{user_id}/credentials/OS-EC2"
	return []api.Route{
		{Method: "GET", Path: path, Rule: "identity:ec2_list_credentials", Handler: h.listEC2Credentials},
		{Method: "POST", Path: path, Rule: "identity:ec2_create_credential", Target: newCredentialTarget, Handler: h.createEC2Credential},
		// Keystone builds the target of these two from the credential, so
		// a missing one is a 404 before any 403.
		{Method: "GET", Path: path + "/{credential_id}", Rule: "identity:ec2_get_credential", Target: h.credentialTarget, Handler: h.showEC2Credential},
		{Method: "DELETE", Path: path + "/{credential_id}", Rule: "identity:ec2_delete_credential", Target: h.credentialTarget, Handler: h.deleteEC2Credential},
	}
}

// newCredentialTarget is the credential a create makes: the path's user's.
func newCredentialTarget(c *api.Call) (policy.Target, error) {
	return policy.Target{"target.credential.user_id": c.Param("user_id")}, nil
}

// credentialTarget is the credential in the path: its owner decides.
func (h *handlers) credentialTarget(c *api.Call) (policy.Target, error) {
	cr, err := h.svc.GetEC2Credential(c.Ctx, c.Param("credential_id"))
	if err != nil {
		return nil, err
	}
	return policy.Target{"target.credential.user_id": cr.UserID}, nil
}

func ec2CredentialView(c *api.Call, cr *identity.EC2Credential) obj {
	return obj{
		"user_id": cr.UserID, "tenant_id": nullable(cr.ProjectID), "access": cr.Access, "secret": cr.Secret,
		"trust_id": nullable(cr.TrustID), "links": selfLink(c, "/users/"+cr.UserID+"/credentials/OS-EC2/"+cr.Access),
	}
}

// delegatedOutOfScope is Keystone's _check_delegation_for_ec2: a
// delegated token may touch only the EC2 credentials of the project it is
// scoped to.
func delegatedOutOfScope(c *api.Call, project string) error {
	p := c.Principal
	if (p.Delegated || p.AppCred != nil) && project != p.ProjectID {
		return errs.Forbidden("You are not authorized to perform the requested action: EC2 credential project does not match the project scope of the delegated token.")
	}
	return nil
}

func (h *handlers) listEC2Credentials(c *api.Call) (*api.Reply, error) {
	all, err := h.svc.ListEC2Credentials(c.Ctx, c.Param("user_id"))
	if err != nil {
		return nil, err
	}
	creds := all[:0]
	for _, cr := range all {
		if delegatedOutOfScope(c, cr.ProjectID) == nil {
			creds = append(creds, cr)
		}
	}
	return api.JSON(http.StatusOK, collection(c, "credentials", views(c, creds, ec2CredentialView))), nil
}

func (h *handlers) createEC2Credential(c *api.Call) (*api.Reply, error) {
	if err := refuseRestricted(c); err != nil {
		return nil, err
	}
	project, err := ec2TenantID(c)
	if err != nil {
		return nil, err
	}
	if err := delegatedOutOfScope(c, project); err != nil {
		// A missing user or project is a 404 first, as in Keystone.
		if _, err := h.svc.GetUser(c.Ctx, c.Param("user_id")); err != nil {
			return nil, err
		}
		if _, err := h.svc.GetProject(c.Ctx, project); err != nil {
			return nil, err
		}
		return nil, err
	}
	cr, err := h.svc.CreateEC2Credential(c.Ctx, c.Param("user_id"), project)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"credential": ec2CredentialView(c, cr)}), nil
}

// ec2TenantID is the body's tenant_id. Keystone reads it from whatever
// JSON object was sent, so a missing one is only found wanting when the
// project "None" is looked up.
func ec2TenantID(c *api.Call) (string, error) {
	b, err := c.Body()
	if err != nil {
		return "", err
	}
	body := map[string]any{}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			return "", errs.Invalid(malformedJSON)
		}
	}
	switch v := body["tenant_id"].(type) {
	case string:
		return v, nil
	case nil:
		return "None", nil // Python's None, as Keystone's message shows it
	default:
		return fmt.Sprint(v), nil
	}
}

// ownedEC2Credential returns the credential in the path once the route's
// rule has passed, after checking the user in the path, in Keystone's
// order. As in Keystone the path's user need not be the owner.
func (h *handlers) ownedEC2Credential(c *api.Call) (*identity.EC2Credential, error) {
	if _, err := h.svc.GetUser(c.Ctx, c.Param("user_id")); err != nil {
		return nil, err
	}
	cr, err := h.svc.GetEC2Credential(c.Ctx, c.Param("credential_id"))
	if err != nil {
		return nil, err
	}
	return cr, delegatedOutOfScope(c, cr.ProjectID)
}

func (h *handlers) showEC2Credential(c *api.Call) (*api.Reply, error) {
	cr, err := h.ownedEC2Credential(c)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"credential": ec2CredentialView(c, cr)}), nil
}

func (h *handlers) deleteEC2Credential(c *api.Call) (*api.Reply, error) {
	if _, err := h.ownedEC2Credential(c); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteEC2Credential(c.Ctx, c.Param("credential_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
