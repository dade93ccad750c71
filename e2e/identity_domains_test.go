package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestIdentityDomainNamesCLI: the CLI names users, groups and projects of
// a domain other than Default by name, as python-openstackclient's own
// functional tests (identity/v3) do throughout. The CLI resolves a name by
// a GET of the name as an id (404) and then a list filtered by name and
// domain, a path Tempest's id-based API tests never take; a role granted
// to a group there reaches its member.
func TestIdentityDomainNamesCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)

	var dom, proj, user, group obj
	cli.JSON(t, &dom, "domain", "create", "--description", "e2e", "d-cli")
	// Same names in Default: only the domain tells them apart.
	cli.JSON(t, &obj{}, "project", "create", "p-cli")
	cli.JSON(t, &proj, "project", "create", "--domain", "d-cli", "p-cli")
	cli.JSON(t, &user, "user", "create", "--domain", "d-cli", "--project", "p-cli", "--project-domain", "d-cli", "--password", "pw", "u-cli")
	if user.str(t, "domain_id") != dom.str(t, "id") || user.str(t, "default_project_id") != proj.str(t, "id") {
		t.Fatalf("user create printed %v, want domain %s and default project %s", user, dom["id"], proj["id"])
	}
	cli.JSON(t, &group, "group", "create", "--domain", "d-cli", "g-cli")
	cli.Run(t, "group", "add", "user", "--group-domain", "d-cli", "--user-domain", "d-cli", "g-cli", "u-cli")
	cli.Run(t, "role", "add", "--group", "g-cli", "--group-domain", "d-cli", "--project", "p-cli", "--project-domain", "d-cli", "member")

	var rows []obj
	cli.JSON(t, &rows, "role", "assignment", "list", "--effective", "--names", "--project", "p-cli", "--project-domain", "d-cli")
	// member through the group, and reader, which member implies.
	var roles []string
	for _, r := range rows {
		if r.str(t, "User") != "u-cli@d-cli" || r.str(t, "Project") != "p-cli@d-cli" {
			t.Errorf("effective assignment %v, want u-cli@d-cli's on p-cli@d-cli", r)
		}
		roles = append(roles, r.str(t, "Role"))
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"member", "reader"}) {
		t.Errorf("effective roles on p-cli@d-cli = %v, want member through the group and the reader it implies", roles)
	}

	// An enabled domain cannot go (Keystone's 403); a disabled one takes
	// its projects, users and groups with it.
	if stderr := cli.Fail(t, "domain", "delete", "d-cli"); !strings.Contains(stderr, "403") {
		t.Errorf("deleting an enabled domain failed without a 403:\n%s", stderr)
	}
	cli.Run(t, "domain", "set", "--disable", "d-cli")
	cli.Run(t, "domain", "delete", "d-cli")
	if stderr := cli.Fail(t, "user", "show", user.str(t, "id")); !strings.Contains(stderr, "No user with a name or ID") {
		t.Errorf("the deleted domain's user is still there:\n%s", stderr)
	}
}
