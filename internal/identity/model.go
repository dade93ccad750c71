package identity

import (
	"time"

	"github.com/kumocloud/kumo/internal/auth"
)

// Domain is a Keystone domain: a namespace for projects and users.
type Domain struct {
	ID          string
	Name        string
	Description string
	Enabled     bool
}

// Project is a Keystone project (tenant).
type Project struct {
	ID          string
	Name        string
	DomainID    string
	ParentID    string // "" for a top-level project (its parent is the domain)
	Description string
	Enabled     bool
	// IsDomain marks a domain seen as a project, as Keystone shows
	// domains through /v3/projects (is_domain true, no domain or parent).
	IsDomain bool
	Tags     []string
	// Extra holds attributes Keystone does not define, kept and
	// returned as given, like Keystone's "extra".
	Extra map[string]any
}

// User is a Keystone user. Passwords are never part of it.
type User struct {
	ID               string
	Name             string
	DomainID         string
	Enabled          bool
	DefaultProjectID string
	Description      string
	Email            string
	// Options are Keystone's user resource options (ignore_password_expiry, ...).
	Options map[string]any
	// Extra holds attributes Keystone does not define, kept and returned.
	Extra map[string]any
}

// Role is a Keystone role; global roles have no DomainID.
type Role struct {
	ID          string
	Name        string
	DomainID    string
	Description string
	// Extra holds attributes Keystone does not define, kept and returned.
	Extra map[string]any
}

// Assignment grants a role to a user or a group on a project or a
// domain, possibly inherited to the projects below. The name fields are
// filled when names are asked for.
type Assignment struct {
	UserID    string
	GroupID   string // set instead of UserID for a group's assignment
	ProjectID string // set for project assignments
	DomainID  string // set for domain assignments
	RoleID    string
	System    bool // set for system assignments
	// Inherited marks an OS-INHERIT assignment, or an effective one that
	// came from one.
	Inherited bool
	// Where an effective assignment comes from (Keystone's "indirect"):
	// the group the user is a member of, the domain or project the role
	// is inherited from, the role that implies this one.
	ViaGroup, ViaDomain, ViaProject, PriorRoleID string

	GroupName       string
	GroupDomainID   string
	GroupDomainName string

	UserName        string
	UserDomainID    string
	UserDomainName  string
	RoleName        string
	RoleDomainID    string
	ScopeName       string
	ScopeDomainID   string // the project's domain
	ScopeDomainName string
}

// DomainPatch lists the fields an update changes (nil: unchanged).
type DomainPatch struct {
	Name        *string
	Description *string
	Enabled     *bool
}

// ProjectPatch lists the fields an update changes (nil: unchanged).
type ProjectPatch struct {
	Name        *string
	Description *string
	Enabled     *bool
	Tags        *[]string
	// Extra attributes are set (a nil value keeps a JSON null).
	Extra map[string]any
}

// UserPatch lists the fields an update changes (nil: unchanged).
type UserPatch struct {
	Name             *string
	Password         *string
	Enabled          *bool
	DefaultProjectID *string
	Description      *string
	Email            *string
	// Options are merged into the user's options; a nil value removes one.
	Options map[string]any
	// Extra attributes are set (a nil value keeps a JSON null).
	Extra map[string]any
}

// RolePatch lists the fields an update changes (nil: unchanged).
type RolePatch struct {
	Name        *string
	Description *string
	// Extra attributes are set (a nil value keeps a JSON null).
	Extra map[string]any
}

// DomainFilter narrows ListDomains; zero fields match everything.
type DomainFilter struct {
	Name    string
	Enabled *bool
	// Inexact filters on name.
	Inexact []Inexact
}

// ProjectFilter narrows ListProjects; zero fields match everything.
type ProjectFilter struct {
	Name     string
	DomainID string
	ParentID string
	Enabled  *bool
	// IDs, when not nil, restricts the list to these projects.
	IDs []string
	// Keystone's tag filters: all of Tags, any of TagsAny, not all of
	// NotTags, none of NotTagsAny.
	Tags, TagsAny, NotTags, NotTagsAny []string
	// Inexact filters on name, domain_id and parent_id.
	Inexact []Inexact
}

// UserFilter narrows ListUsers; zero fields match everything.
type UserFilter struct {
	Name     string
	DomainID string
	Enabled  *bool
	// Inexact filters on name and domain_id.
	Inexact []Inexact
}

// AssignmentFilter narrows ListAssignments; zero fields match everything.
type AssignmentFilter struct {
	UserID  string
	GroupID string
	// Inherited, when set, keeps only inherited (true) or only direct
	// (false) assignments.
	Inherited *bool
	// Effective expands groups to their members, inherited assignments to
	// the projects below and roles to the roles they imply, as Keystone's
	// effective mode, and leaves out domain-specific roles.
	Effective bool
	ProjectID string
	DomainID  string
	RoleID    string
	Names     bool // fill the name fields
	// System keeps only the system assignments.
	System bool
	// IncludeSubtree adds the assignments on the projects under ProjectID.
	IncludeSubtree bool
}

// Token is an issued or validated token as Keystone describes it.
type Token struct {
	// ID is the token itself; only set when it was just issued.
	ID string

	UserID         string
	UserName       string
	UserDomainID   string
	UserDomainName string

	ProjectID         string
	ProjectName       string
	ProjectDomainID   string
	ProjectDomainName string

	DomainID   string // domain scope
	DomainName string
	// System is set for a token scoped to the system (Keystone's
	// system: {all: true}).
	System bool

	Roles     []Role // id and name only
	Methods   []string
	AuditIDs  []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// AppCred is the application credential the token was issued from.
	AppCred *auth.AppCredential
	// Trust is the trust the token was issued through (nil: none).
	Trust *TokenTrust
	// OAuth1 is the OAuth1 access token the token was issued through
	// (nil: none).
	OAuth1 *TokenOAuth1
	// trustID and accessTokenID are the stored trust and access token
	// ids, while a token loads.
	trustID, accessTokenID string
}

// Scoped reports whether the token is scoped to a project, a domain or
// the system.
func (t *Token) Scoped() bool { return t.ProjectID != "" || t.DomainID != "" || t.System }
