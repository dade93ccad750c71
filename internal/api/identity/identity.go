// Package identity serves the Keystone v3 subset under /identity.
package identity

import (
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/ratelimit"
)

// Mount is where the identity API is served.
const Mount = "/identity"

// handlers answer the identity routes from the domain service.
type handlers struct {
	svc *identity.Service
	// failedLogins limits failed password checks per client address
	// (nil: no limit).
	failedLogins *ratelimit.Limiter
}

// NewService returns the identity API service. failedLogins, when not
// nil, limits failed logins per client address.
func NewService(svc *identity.Service, o api.Options, failedLogins *ratelimit.Limiter) *api.Service {
	h := &handlers{svc: svc, failedLogins: failedLogins}
	return &api.Service{
		Name: "identity", Mount: Mount, Router: api.NewRouter(h.routes()), Auth: o.Auth,
		AuthURL: o.AuthURL, Errors: api.KeystoneError, PublicURL: o.PublicURL, Log: o.Log,
		Policy: policy.Identity(), Denied: forbidden, Target: h.target,
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
	return append([]api.Route{
		{Method: "GET", Path: "/", Anonymous: true, Handler: h.versions},
		{Method: "GET", Path: "/v3", Anonymous: true, Handler: h.version},

		{Method: "POST", Path: "/v3/auth/tokens", Anonymous: true, Handler: h.issueToken},
		{Method: "HEAD", Path: "/v3/auth/tokens", Rule: "identity:check_token", Target: h.subjectTarget, Handler: h.checkToken},
		{Method: "GET", Path: "/v3/auth/tokens", Rule: "identity:validate_token", Target: h.subjectTarget, Handler: h.validateToken},
		{Method: "DELETE", Path: "/v3/auth/tokens", Rule: "identity:revoke_token", Target: h.subjectTarget, Handler: h.revokeToken},
		{Method: "GET", Path: "/v3/auth/catalog", Rule: "identity:get_auth_catalog", Handler: h.authCatalog},
		{Method: "GET", Path: "/v3/auth/projects", Rule: "identity:get_auth_projects", Handler: h.authProjects},
		{Method: "GET", Path: "/v3/auth/domains", Rule: "identity:get_auth_domains", Handler: h.authDomains},
		{Method: "GET", Path: "/v3/auth/system", Rule: "identity:get_auth_system", Handler: h.authSystem},

		{Method: "GET", Path: "/v3/services", Rule: "identity:list_services", Handler: h.listServices},
		{Method: "GET", Path: "/v3/services/{service_id}", Rule: "identity:get_service", Handler: h.showService},
		{Method: "GET", Path: "/v3/endpoints", Rule: "identity:list_endpoints", Handler: h.listEndpoints},
		{Method: "GET", Path: "/v3/endpoints/{endpoint_id}", Rule: "identity:get_endpoint", Handler: h.showEndpoint},
		{Method: "GET", Path: "/v3/regions", Rule: "identity:list_regions", Handler: h.listRegions},
		{Method: "GET", Path: "/v3/regions/{region_id}", Rule: "identity:get_region", Handler: h.showRegion},

		{Method: "GET", Path: "/v3/domains", Rule: "identity:list_domains", Handler: h.listDomains},
		{Method: "POST", Path: "/v3/domains", Rule: "identity:create_domain", Handler: h.createDomain},
		{Method: "GET", Path: "/v3/domains/{domain_id}", Rule: "identity:get_domain", Handler: h.showDomain},
		{Method: "PATCH", Path: "/v3/domains/{domain_id}", Rule: "identity:update_domain", Handler: h.updateDomain},
		{Method: "DELETE", Path: "/v3/domains/{domain_id}", Rule: "identity:delete_domain", Handler: h.deleteDomain},

		{Method: "GET", Path: "/v3/projects", Rule: "identity:list_projects", Handler: h.listProjects},
		{Method: "POST", Path: "/v3/projects", Rule: "identity:create_project", Handler: h.createProject},
		{Method: "GET", Path: "/v3/projects/{project_id}", Rule: "identity:get_project", Handler: h.showProject},
		{Method: "PATCH", Path: "/v3/projects/{project_id}", Rule: "identity:update_project", Handler: h.updateProject},
		{Method: "DELETE", Path: "/v3/projects/{project_id}", Rule: "identity:delete_project", Handler: h.deleteProject},
		{Method: "GET", Path: "/v3/projects/{project_id}/tags", Rule: "identity:list_project_tags", Handler: h.listProjectTags},
		{Method: "PUT", Path: "/v3/projects/{project_id}/tags", Rule: "identity:update_project_tags", Handler: h.replaceProjectTags},
		{Method: "DELETE", Path: "/v3/projects/{project_id}/tags", Rule: "identity:delete_project_tags", Handler: h.clearProjectTags},
		{Method: "GET", Path: "/v3/projects/{project_id}/tags/{tag}", Rule: "identity:get_project_tag", Handler: h.checkProjectTag},
		{Method: "PUT", Path: "/v3/projects/{project_id}/tags/{tag}", Rule: "identity:create_project_tag", Handler: h.addProjectTag},
		{Method: "DELETE", Path: "/v3/projects/{project_id}/tags/{tag}", Rule: "identity:delete_project_tag", Handler: h.removeProjectTag},

		{Method: "GET", Path: "/v3/users", Rule: "identity:list_users", Handler: h.listUsers},
		{Method: "POST", Path: "/v3/users", Rule: "identity:create_user", Handler: h.createUser},
		{Method: "GET", Path: "/v3/users/{user_id}", Rule: "identity:get_user", Handler: h.showUser},
		{Method: "PATCH", Path: "/v3/users/{user_id}", Rule: "identity:update_user", Handler: h.updateUser},
		{Method: "DELETE", Path: "/v3/users/{user_id}", Rule: "identity:delete_user", Handler: h.deleteUser},
		{Method: "POST", Path: "/v3/users/{user_id}/password", Anonymous: true, Handler: h.changePassword},
		{Method: "GET", Path: "/v3/users/{user_id}/projects", Rule: "identity:list_user_projects", Handler: h.userProjects},
		{Method: "GET", Path: "/v3/users/{user_id}/groups", Rule: "identity:list_groups_for_user", Handler: h.userGroups},

		{Method: "GET", Path: "/v3/roles", Rule: "identity:list_roles", Handler: h.listRoles},
		{Method: "POST", Path: "/v3/roles", Rule: "identity:create_role", Handler: h.createRole},
		{Method: "GET", Path: "/v3/roles/{role_id}", Rule: "identity:get_role", Handler: h.showRole},
		{Method: "PATCH", Path: "/v3/roles/{role_id}", Rule: "identity:update_role", Handler: h.updateRole},
		{Method: "DELETE", Path: "/v3/roles/{role_id}", Rule: "identity:delete_role", Handler: h.deleteRole},

		{Method: "GET", Path: "/v3/projects/{project_id}/users/{user_id}/roles", Rule: "identity:list_grants", Handler: h.listGrantedRoles},
		{Method: "PUT", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Rule: "identity:create_grant", Handler: h.grantRole},
		{Method: "HEAD", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Rule: "identity:check_grant", Handler: h.checkRole},
		{Method: "GET", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Rule: "identity:check_grant", Handler: h.checkRole},
		{Method: "DELETE", Path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", Rule: "identity:revoke_grant", Handler: h.revokeRole},
		{Method: "GET", Path: "/v3/domains/{domain_id}/users/{user_id}/roles", Rule: "identity:list_grants", Handler: h.listGrantedRoles},
		{Method: "PUT", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Rule: "identity:create_grant", Handler: h.grantRole},
		{Method: "HEAD", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Rule: "identity:check_grant", Handler: h.checkRole},
		{Method: "GET", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Rule: "identity:check_grant", Handler: h.checkRole},
		{Method: "DELETE", Path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", Rule: "identity:revoke_grant", Handler: h.revokeRole},
		{Method: "GET", Path: "/v3/role_assignments", Rule: "identity:list_role_assignments", Handler: h.listRoleAssignments},
	}, slices.Concat(h.ec2Routes(), h.limitRoutes(), h.appCredRoutes(), h.trustRoutes(), h.federationRoutes(), h.oauth1Routes(),
		h.groupRoutes(), h.catalogRoutes(), h.epFilterRoutes(), h.endpointGroupRoutes(), h.policyRoutes(), h.endpointPolicyRoutes(), h.credentialRoutes(),
		h.domainConfigRoutes())...)
}
