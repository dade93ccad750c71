package auth

import (
	"regexp"
	"slices"
	"strings"
)

// AppCredential is the application credential a token was issued from.
type AppCredential struct {
	ID           string
	Name         string
	Unrestricted bool
	// AccessRules, when not empty, are the only calls the token may make.
	AccessRules []AccessRule
}

// AccessRule allows one kind of call: a method on paths of a service type.
type AccessRule struct {
	ID      string
	Service string
	Path    string
	Method  string
}

// Restricted reports whether the principal's token came from a restricted
// application credential: such a token may not manage application
// credentials or trusts (Keystone's _check_unrestricted_application_credential).
func (p *Principal) Restricted() bool {
	return p != nil && p.AppCred != nil && !p.AppCred.Unrestricted
}

// Allows reports whether the principal's access rules, if any, allow a
// call of method on one of paths of a service of one of serviceTypes, as
// keystonemiddleware's validate_allowed_request decides.
func (p *Principal) Allows(serviceTypes []string, method string, paths ...string) bool {
	if p == nil || p.AppCred == nil || len(p.AppCred.AccessRules) == 0 {
		return true
	}
	for _, r := range p.AppCred.AccessRules {
		if r.Method != method || !slices.Contains(serviceTypes, r.Service) {
			continue
		}
		for _, path := range paths {
			if PathMatches(path, r.Path) {
				return true
			}
		}
	}
	return false
}

// PathMatches is keystonemiddleware's _path_matches: in pattern, "*" and
// "{name}" match one path segment, "**" any number of them; everything
// else matches itself.
func PathMatches(path, pattern string) bool {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i += 2
		case pattern[i] == '*':
			b.WriteString(`[^/]+`)
			i++
		case pattern[i] == '{':
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				// An unclosed brace is a literal in the middleware's regex.
				b.WriteString(regexp.QuoteMeta("{"))
				i++
				continue
			}
			b.WriteString(`[^/]+`)
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			i++
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(path)
}
