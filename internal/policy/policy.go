// Package policy decides who may call what. Each API's default rules are
// data: the upstream projects' rule names and check strings (Nova's
// nova/policies, Glance's glance/policies, Keystone's
// keystone/common/policies), kept in one Set per API and evaluated with
// oslo.policy's check language, so a rule reads here exactly as in the
// service it imitates.
//
// The language: "@" allows anyone, "!" nobody, "" anyone; "role:NAME" asks
// for a role; "rule:NAME" evaluates another rule; "KEY:MATCH" compares the
// caller's credential KEY (user_id, project_id, domain_id, is_admin,
// system_scope, token.domain.id, token.project.domain.id) with MATCH after
// substituting %(target_key)s from the target; a quoted or literal KEY
// ('public', True, None) compares the literal. Checks combine with "and",
// "or", "not" and parentheses; "not" binds tightest, then "and", then "or".
package policy

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
)

// Rule is one default policy: its name, its check string and the calls it
// guards ("POST /servers/{server_id}/action (os-stop)"), as the upstream
// policy documentation lists them.
type Rule struct {
	Name       string
	Check      string
	Operations []string
}

// Target is what a call acts on, as oslo.policy sees it: string values by
// key ("project_id", "target.user.domain_id"). A value Python would hold as
// None is "None".
type Target map[string]string

// Set is one API's rules, parsed.
type Set struct {
	name  string
	rules map[string]*ruleEntry
	order []string
	// scopes are the token scopes ("system", "domain", "project") a
	// rule accepts; a rule without an entry accepts any token.
	scopes map[string][]string
}

type ruleEntry struct {
	Rule
	check check
	// readsTarget is whether the rule's answer can depend on the target
	// (a %(key)s substitution or a field: check, here or in a rule it
	// refers to).
	readsTarget bool
}

// NewSet parses rules. A rule that does not parse, or that refers to a
// rule the set lacks, is a programming error and panics: the defaults are
// code, and a test builds every set.
func NewSet(name string, rules []Rule) *Set {
	s := &Set{name: name, rules: make(map[string]*ruleEntry, len(rules))}
	for _, r := range rules {
		if _, dup := s.rules[r.Name]; dup {
			panic(fmt.Sprintf("policy %s: rule %q defined twice", name, r.Name))
		}
		c, err := parse(r.Check)
		if err != nil {
			panic(fmt.Sprintf("policy %s: rule %q: %v", name, r.Name, err))
		}
		s.rules[r.Name] = &ruleEntry{Rule: r, check: c}
		s.order = append(s.order, r.Name)
	}
	for _, e := range s.rules {
		for _, ref := range e.check.refs(nil) {
			if _, ok := s.rules[ref]; !ok {
				panic(fmt.Sprintf("policy %s: rule %q refers to missing rule %q", name, e.Name, ref))
			}
		}
	}
	for _, e := range s.rules {
		e.readsTarget = readsTarget(s, e.check, map[string]bool{})
	}
	return s
}

// readsTarget reports whether c can read the target; seen stops a rule
// cycle.
func readsTarget(s *Set, c check, seen map[string]bool) bool {
	switch c := c.(type) {
	case constCheck, roleCheck:
		return false
	case andCheck:
		return slices.ContainsFunc(c, func(c check) bool { return readsTarget(s, c, seen) })
	case orCheck:
		return slices.ContainsFunc(c, func(c check) bool { return readsTarget(s, c, seen) })
	case notCheck:
		return readsTarget(s, c.c, seen)
	case ruleCheck:
		if seen[string(c)] {
			return false
		}
		seen[string(c)] = true
		return readsTarget(s, s.rules[string(c)].check, seen)
	case genericCheck:
		return strings.Contains(c.match, "%(")
	default:
		return true // fieldCheck, and any check that may read it
	}
}

// ReadsTarget reports whether rule's answer can depend on the target: a
// caller may then decide it once for many objects.
func (s *Set) ReadsTarget(rule string) bool {
	e, ok := s.rules[rule]
	return ok && e.readsTarget
}

// Name is the API the set belongs to.
func (s *Set) Name() string { return s.name }

// Has reports whether the set defines rule.
func (s *Set) Has(rule string) bool { _, ok := s.rules[rule]; return ok }

// Rule returns a rule's definition.
func (s *Set) Rule(name string) (Rule, bool) {
	e, ok := s.rules[name]
	if !ok {
		return Rule{}, false
	}
	return e.Rule, true
}

// Rules lists the set's rules in definition order.
func (s *Set) Rules() []Rule {
	out := make([]Rule, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.rules[n].Rule)
	}
	return out
}

// Allowed evaluates rule for the caller p against target. An unknown rule
// allows nobody, and a rule refuses a token of a scope it does not accept
// whatever its check says (oslo.policy's enforce_scope, on by default).
func (s *Set) Allowed(p *auth.Principal, rule string, target Target) bool {
	e, ok := s.rules[rule]
	if !ok {
		return false
	}
	if scopes, limited := s.scopes[rule]; limited && !slices.Contains(scopes, TokenScope(p)) {
		return false
	}
	return e.check.eval(&evaluation{set: s, creds: credentialsOf(s, p), target: target})
}

// TokenScope is the scope of p's token as oslo.policy tells it: "system",
// "domain", or "project" (which unscoped tokens count as).
func TokenScope(p *auth.Principal) string {
	switch {
	case p != nil && p.System:
		return "system"
	case p != nil && p.DomainID != "":
		return "domain"
	}
	return "project"
}

// limitScopes makes rules accept only tokens of the given scopes.
func (s *Set) limitScopes(scopes map[string][]string) *Set {
	for rule := range scopes {
		if _, ok := s.rules[rule]; !ok {
			panic(fmt.Sprintf("policy %s: scope types for missing rule %q", s.name, rule))
		}
	}
	s.scopes = scopes
	return s
}

// ScopeTypes lists the token scopes rule accepts; nil means any.
func (s *Set) ScopeTypes(rule string) []string { return s.scopes[rule] }

// projectScoped makes every one of rules accept project tokens only, as
// Nova, Glance, Cinder and Neutron declare theirs.
func projectScoped(rules ...[]Rule) map[string][]string {
	out := map[string][]string{}
	for _, rs := range rules {
		for _, r := range rs {
			out[r.Name] = []string{"project"}
		}
	}
	return out
}

// credentials are the caller's attributes that checks compare.
type credentials struct {
	set   *Set
	p     *auth.Principal
	roles []string // lower case, with the roles they imply
	admin int8     // the context_is_admin rule: 0 not yet evaluated, 1 true, -1 false
}

// implies is Keystone's bootstrap chain: admin implies manager implies
// member implies reader. Keystone's tokens list implied roles too; rules
// name the least role they need.
func implies(role string) string {
	switch role {
	case "admin":
		return "manager"
	case "manager":
		return "member"
	case "member":
		return "reader"
	}
	return ""
}

func credentialsOf(s *Set, p *auth.Principal) *credentials {
	c := &credentials{set: s, p: p}
	if p == nil {
		return c
	}
	c.roles = make([]string, 0, len(p.Roles)+2)
	for _, r := range p.Roles {
		for r = strings.ToLower(r); r != "" && !slices.Contains(c.roles, r); r = implies(r) {
			c.roles = append(c.roles, r)
		}
	}
	return c
}

// attr is a credential as oslo.policy's checks see it: Python's None is
// "None".
func (c *credentials) attr(key string) (string, bool) {
	if c.p == nil {
		return "", false
	}
	var v string
	switch key {
	case "user_id":
		v = c.p.UserID
	case "project_id":
		v = c.p.ProjectID
	case "domain_id", "token.domain.id":
		v = c.p.DomainID
	case "user_domain_id":
		v = c.p.UserDomain
	case "project_domain_id", "token.project.domain.id":
		v = c.p.ProjectDomainID
	case "system_scope":
		if c.p.System {
			v = "all"
		}
	case "is_admin_project":
		// keystonemiddleware's default without an admin project
		// configured, which Cinder's admin_api reads.
		return "True", true
	case "is_admin":
		// is_admin is the context_is_admin rule, as in Nova's and
		// Glance's request contexts.
		if c.admin == 0 {
			c.admin = -1
			if e, ok := c.set.rules["context_is_admin"]; ok && e.check.eval(&evaluation{set: c.set, creds: c, target: Target{}}) {
				c.admin = 1
			}
		}
		if c.admin == 1 {
			return "True", true
		}
		return "False", true
	default:
		return "", false
	}
	if v == "" {
		return "None", true
	}
	return v, true
}

type evaluation struct {
	set    *Set
	creds  *credentials
	target Target
	depth  int
}

// check is a parsed check string.
type check interface {
	eval(e *evaluation) bool
	refs(acc []string) []string
}

type constCheck bool

func (c constCheck) eval(*evaluation) bool    { return bool(c) }
func (constCheck) refs(acc []string) []string { return acc }

type andCheck []check

func (a andCheck) eval(e *evaluation) bool {
	for _, c := range a {
		if !c.eval(e) {
			return false
		}
	}
	return true
}

func (a andCheck) refs(acc []string) []string {
	for _, c := range a {
		acc = c.refs(acc)
	}
	return acc
}

type orCheck []check

func (o orCheck) eval(e *evaluation) bool {
	for _, c := range o {
		if c.eval(e) {
			return true
		}
	}
	return false
}

func (o orCheck) refs(acc []string) []string {
	for _, c := range o {
		acc = c.refs(acc)
	}
	return acc
}

type notCheck struct{ c check }

func (n notCheck) eval(e *evaluation) bool    { return !n.c.eval(e) }
func (n notCheck) refs(acc []string) []string { return n.c.refs(acc) }

type ruleCheck string

func (r ruleCheck) eval(e *evaluation) bool {
	entry, ok := e.set.rules[string(r)]
	if !ok || e.depth > 32 {
		return false
	}
	e.depth++
	defer func() { e.depth-- }()
	return entry.check.eval(e)
}

func (r ruleCheck) refs(acc []string) []string { return append(acc, string(r)) }

type roleCheck string

func (r roleCheck) eval(e *evaluation) bool {
	want, ok := substitute(string(r), e.target)
	return ok && slices.Contains(e.creds.roles, strings.ToLower(want))
}

func (roleCheck) refs(acc []string) []string { return acc }

// genericCheck is oslo.policy's KEY:MATCH. A literal KEY ('public', True,
// None) is compared with the substituted MATCH; any other KEY is a
// credential.
type genericCheck struct {
	key     string
	literal bool
	match   string
}

func (g genericCheck) eval(e *evaluation) bool {
	want, ok := substitute(g.match, e.target)
	if !ok {
		return false
	}
	if g.literal {
		return g.key == want
	}
	have, ok := e.creds.attr(g.key)
	return ok && have == want
}

func (genericCheck) refs(acc []string) []string { return acc }

// fieldCheck is Neutron's field:RESOURCE:FIELD=VALUE: the target's
// FIELD, as str() prints it, is VALUE, or matches the regular expression
// after a "~" (field:port:device_owner=~^network:).
type fieldCheck struct {
	field, value string
	pattern      *regexp.Regexp
}

func (f fieldCheck) eval(e *evaluation) bool {
	v, ok := e.target[f.field]
	if !ok {
		return false
	}
	if f.pattern != nil {
		return f.pattern.MatchString(v)
	}
	return v == f.value
}

func (fieldCheck) refs(acc []string) []string { return acc }

// substitute replaces %(key)s with target values; a missing key fails the
// check, as a KeyError does in oslo.policy.
func substitute(s string, t Target) (string, bool) {
	if !strings.Contains(s, "%(") {
		return s, true
	}
	if strings.HasPrefix(s, "%(") && strings.Index(s, ")s") == len(s)-2 {
		v, ok := t[s[2:len(s)-2]] // the usual whole-value %(key)s
		return v, ok
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "%(")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.Index(s[i:], ")s")
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		v, ok := t[s[i+2:i+j]]
		if !ok {
			return "", false
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+2:]
	}
}

// literalKey reports the value of a Python literal used as a check's key
// ('public', "shared", True, False, None, numbers), as str() prints it.
func literalKey(k string) (string, bool) {
	if len(k) >= 2 && (k[0] == '\'' || k[0] == '"') && k[len(k)-1] == k[0] {
		return k[1 : len(k)-1], true
	}
	switch k {
	case "True", "False", "None":
		return k, true
	}
	if k != "" && strings.Trim(k, "0123456789") == "" {
		return k, true
	}
	return "", false
}

// Sorted returns rule names in lexical order (for listings).
func (s *Set) Sorted() []string {
	names := slices.Clone(s.order)
	sort.Strings(names)
	return names
}
