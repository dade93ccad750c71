// Package identity serves the Keystone v3 subset under /identity.
package identity

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/identity"
)

// Mount is where the identity API is served.
const Mount = "/identity"

// handlers answer the identity routes from the domain service.
type handlers struct {
	svc *identity.Service
}

// NewService returns the identity API service.
func NewService(svc *identity.Service, o api.Options) *api.Service {
	h := &handlers{svc: svc}
	return &api.Service{
		Name: "identity", Mount: Mount, Router: api.NewRouter(h.routes()), Auth: o.Auth,
		AuthURL: o.AuthURL, Errors: api.KeystoneError, PublicURL: o.PublicURL, Log: o.Log,
		Text: api.TextRules{
			// werkzeug reads invalid UTF-8 in a query as U+FFFD
			// (QueryNotUTF8 empty). A NUL goes to the database upstream
			// (no match on MySQL, a 500 on PostgreSQL): kumo refuses it
			// with Keystone's ValidationError.
			QueryNUL: func(name, _ string) string {
				return "Expecting to find text without NUL characters in query parameter " + name + ". The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
			},
			// Flask's get_json fails on invalid UTF-8: json_body.py's
			// ValidationError.
			BadBody: malformedJSON,
		},
	}
}

// routes is the identity API, relative to Mount, with Keystone's default
// policies: writes and listing everything need admin; users may read
// themselves, their projects and their scope, and manage their own EC2
// credentials.
func (h *handlers) routes() []api.Route {
	authed := api.Authenticated
	return append([]api.Route{
		{Method: "GET", Path: "/", Policy: api.Public, Handler: h.versions},
		{Method: "GET", Path: "/v3", Policy: api.Public, Handler: h.version},

		{Method: "POST", Path: "/v3/auth/tokens", Policy: api.Public, Handler: h.issueToken},
		{Method: "HEAD", Path: "/v3/auth/tokens", Policy: authed, Handler: h.checkToken},
		{Method: "GET", Path: "/v3/auth/tokens", Policy: authed, Handler: h.validateToken},
		{Method: "DELETE", Path: "/v3/auth/tokens", Policy: authed, Handler: h.revokeToken},
		{Method: "GET", Path: "/v3/auth/catalog", Policy: authed, Handler: h.authCatalog},
		{Method: "GET", Path: "/v3/auth/projects", Policy: authed, Handler: h.authProjects},
		{Method: "GET", Path: "/v3/auth/domains", Policy: authed, Handler: h.authDomains},
		{Method: "GET", Path: "/v3/auth/system", Policy: authed, Handler: h.authSystem},

		{Method: "GET", Path: "/v3/services", Policy: admin("identity:list_services"), Handler: h.listServices},
		{Method: "GET", Path: "/v3/services/{service_id}", Policy: admin("identity:get_service"), Handler: h.showService},
		{Method: "GET", Path: "/v3/endpoints", Policy: admin("identity:list_endpoints"), Handler: h.listEndpoints},
		{Method: "GET", Path: "/v3/endpoints/{endpoint_id}", Policy: admin("identity:get_endpoint"), Handler: h.showEndpoint},
		{Method: "GET", Path: "/v3/regions", Policy: authed, Handler: h.listRegions},
		{Method: "GET", Path: "/v3/regions/{region_id}", Policy: authed, Handler: h.showRegion},

		{Method: "GET", Path: "/v3/domains", Policy: admin("identity:list_domains"), Handler: h.listDomains},
		{Method: "POST", Path: "/v3/domains", Policy: admin("identity:create_domain"), Handler: h.createDomain},
		{Method: "GET", Path: "/v3/domains/{domain_id}", Policy: adminOr("identity:get_domain", h.ownOrProjectDomain), Handler: h.showDomain},
		{Method: "PATCH", Path: "/v3/domains/{domain_id}", Policy: admin("identity:update_domain"), Handler: h.updateDomain},
		{Method: "DELETE", Path: "/v3/domains/{domain_id}", Policy: admin("identity:delete_domain"), Handler: h.deleteDomain},

		{Method: "GET", Path: "/v3/projects", Policy: admin("identity:list_projects"), Handler: h.listProjects},
		{Method: "POST", Path: "/v3/projects", Policy: admin("identity:create_project"), Handler: h.createProject},
		{Method: "GET", Path: "/v3/projects/{project_id}", Policy: adminOr("identity:get_project", ownProject), Handler: h.showProject},
		{Method: "PATCH", Path: "/v3/projects/{project_id}", Policy: admin("identity:update_project"), Handler: h.updateProject},
		{Method: "DELETE", Path: "/v3/projects/{project_id}", Policy: admin("identity:delete_project"), Handler: h.deleteProject},
		{Method: "GET", Path: "/v3/projects/{project_id}/tags", Policy: adminOr("identity:list_project_tags", ownProject), Handler: h.listProjectTags},
		{Method: "PUT", Path: "/v3/projects/{project_id}/tags", Policy: admin("identity:update_project_tags"), Handler: h.replaceProjectTags},
		{Method: "DELETE", Path: "/v3/projects/{project_id}/tags", Policy: admin("identity:delete_project_tags"), Handler: h.clearProjectTags},
		{Method: "GET", Path: "/v3/projects/{project_id}/tags/{tag}", Policy: adminOr("identity:get_project_tag", ownProject), Handler: h.checkProjectTag},
		{Method: "PUT", Path: "/v3/projects/{project_id}/tags/{tag}", Policy: admin("identity:create_project_tag"), Handler: h.addProjectTag},
		{Method: "DELETE", Path: "/v3/projects/{project_id}/tags/{tag}", Policy: admin("identity:delete_project_tag"), Handler: h.removeProjectTag},

		{Method: "GET", Path: "/v3/users", Policy: admin("identity:list_users"), Handler: h.listUsers},
		{Method: "POST", Path: "/v3/users", Policy: admin("identity:create_user"), Handler: h.createUser},
		{Method: "GET", Path: "/v3/users/{user_id}", Policy: adminOr("identity:get_user", self), Handler: h.showUser},
		{Method: "PATCH", Path: "/v3/users/{user_id}", Policy: admin("identity:update_user"), Handler: h.updateUser},
		{Method: "DELETE", Path: "/v3/users/{user_id}", Policy: admin("identity:delete_user"), Handler: h.deleteUser},
		{Method: "POST", Path: "/v3/users/{user_id}/password", Policy: api.Public, Handler: h.changePassword},
		{Method: "GET", Path: "/v3/users/{user_id}/projects", Policy: adminOr("identity:list_user_projects", self), Handler: h.userProjects},
		{Method: "GET", Path: "/v3/users/{user_id}/groups", Policy: adminOr("identity:list_groups_for_user", self), Handler: h.userGroups},
		{Method: "GET", Path: "/v3/groups", Policy: admin("identity:list_groups"), Handler: h.listGroups},

		{Method: "GET", Path: "/v3/roles", Policy: admin("identity:list_roles"), Handler: h.listRoles},
		{Method: "POST", Path: "/v3/roles", Policy: admin("identity:create_role"), Handler: h.createRole},
		{Method: "GET", Path: "/v3/roles/{role_id}", Policy: admin("identity:get_role"), Handler: h.showRole},
		{Method: "PATCH", Path: "/v3/roles/{role_id}", Policy: admin("identity:update_role"), Handler: h.updateRole},
		{Method: "DELETE", Path: "/v3/roles/{role_id}", Policy: admin("identity:delete_role"), Handler: h.deleteRole},

		{Method: "GET", Path: "/v3/projects/{project_id}/users/{user_id}/roles", Policy: admin("identity:list_grants"), Handler: h.listGrantedRoles},
		{Method: "PUT", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:create_grant"), Handler: h.grantRole},
		{Method: "HEAD", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:check_grant"), Handler: h.checkRole},
		{Method: "GET", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:check_grant"), Handler: h.checkRole},
		{Method: "DELETE", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:revoke_grant"), Handler: h.revokeRole},
		{Method: "GET", Path: "/v3/domains/{domain_id}/users/{user_id}/roles", Policy: admin("identity:list_grants"), Handler: h.listGrantedRoles},
		{Method: "PUT", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:create_grant"), Handler: h.grantRole},
		{Method: "HEAD", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:check_grant"), Handler: h.checkRole},
		{Method: "GET", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:check_grant"), Handler: h.checkRole},
		{Method: "DELETE", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Policy: admin("identity:revoke_grant"), Handler: h.revokeRole},
		{Method: "GET", Path: "/v3/role_assignments", Policy: admin("identity:list_role_assignments"), Handler: h.listRoleAssignments},
	}, h.ec2Routes()...)
}
