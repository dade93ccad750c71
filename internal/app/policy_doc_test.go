package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/policy"
)

// TestPolicyDocument keeps docs/POLICY.md the route table's policy, as
// served: run with KUMO_UPDATE_DOCS=1 to write it after changing routes
// or rules.
func TestPolicyDocument(t *testing.T) {
	t.Parallel()
	a := openTestApp(t, t.TempDir())
	var b strings.Builder
	b.WriteString(`# Policy

Who may call what: each route of kumo's five OpenStack APIs and its own and each server,
flavor, aggregate, volume, snapshot and volume type action, the rule that
guards it and the rule's check, in oslo.policy's language. The rules are
the upstream services' defaults (Nova's nova/policies, Glance's
glance/policies, Keystone's keystone/common/policies, Neutron's
neutron/conf/policies, Cinder's cinder/policies), kept as data in
internal/policy; the rules named kumo:... guard calls the upstream
service serves without a policy check of its own. Roles imply each other
as Keystone's bootstrap makes them: admin implies manager, manager implies
member, member implies reader. A token without a project scope passes
no project_id check. A rule takes only the token scopes (system, domain,
project) in its scopes column, as oslo.policy enforces scope_types by
default: Nova's, Glance's, Cinder's and Neutron's rules take project
tokens, Keystone's what its scope_types say; an unscoped token counts as
a project one. Neutron's field:RESOURCE:FIELD=VALUE checks read
the object's attribute (shared, router:external).

This page is generated from the route tables by TestPolicyDocument
(internal/app); it cannot drift from the code.

`)
	for _, svc := range a.APIs {
		fmt.Fprintf(&b, "## %s (%s)\n\n", apiTitle(svc.Name), svc.Mount)
		b.WriteString("| method | path | rule | check | scopes |\n|---|---|---|---|---|\n")
		for _, r := range svc.Router.Routes() {
			if r.Anonymous {
				fmt.Fprintf(&b, "| %s | `%s` | no token needed | |\n", r.Method, r.Path)
				continue
			}
			rule, _ := svc.Policy.Rule(r.Rule)
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", r.Method, r.Path, r.Rule, checkCell(rule.Check), scopesCell(svc.Policy.ScopeTypes(r.Rule)))
		}
		if svc.Name == "volume" {
			b.WriteString("\nActions (`POST .../action`, by the body's key):\n\n| path | action | rule | check |\n|---|---|---|---|\n")
			for _, r := range svc.Router.Routes() {
				for _, act := range r.Actions {
					rule, _ := svc.Policy.Rule(act.Rule)
					fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", r.Path, act.Name, act.Rule, checkCell(rule.Check))
				}
			}
		}
		if svc.Name == "compute" {
			b.WriteString("\nActions (`POST .../action`, by the body's key):\n\n| path | action | rule | check |\n|---|---|---|---|\n")
			for _, act := range computeapi.Actions() {
				rule, _ := svc.Policy.Rule(act.Rule)
				fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", act.Path, act.Name, act.Rule, checkCell(rule.Check))
			}
		}
		b.WriteString("\nThe base rules these refer to:\n\n| rule | check |\n|---|---|\n")
		for _, r := range baseRules(svc.Policy) {
			fmt.Fprintf(&b, "| `%s` | %s |\n", r.Name, checkCell(r.Check))
		}
		b.WriteString("\n")
	}
	want := b.String()
	path := filepath.Join("..", "..", "docs", "POLICY.md")
	if os.Getenv("KUMO_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("docs/POLICY.md is not the route table's policy: run KUMO_UPDATE_DOCS=1 go test ./internal/app -run TestPolicyDocument (%v)", err)
	}
}

func apiTitle(name string) string {
	switch name {
	case "compute":
		return "Compute (Nova)"
	case "identity":
		return "Identity (Keystone)"
	case "image":
		return "Image (Glance)"
	case "network":
		return "Networking (Neutron)"
	case "volume":
		return "Block Storage (Cinder)"
	case "kumo":
		return "kumo's own API (fault injection)"
	}
	return name
}

func scopesCell(scopes []string) string {
	if scopes == nil {
		return "any"
	}
	return strings.Join(scopes, ", ")
}

func checkCell(check string) string {
	if check == "" {
		return "any token (empty rule)"
	}
	return "`" + strings.ReplaceAll(check, "|", `\|`) + "`"
}

// baseRules are the rules without calls of their own that other rules
// refer to (rule:...).
func baseRules(s *policy.Set) []policy.Rule {
	var out []policy.Rule
	for _, r := range s.Rules() {
		if len(r.Operations) == 0 {
			out = append(out, r)
		}
	}
	return out
}
