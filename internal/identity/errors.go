package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kumocloud/kumo/internal/errs"
)

// unauthorizedMessage is Keystone's text for every failed authentication;
// it never says which part was wrong.
const unauthorizedMessage = "The request you have made requires authentication."

func unauthorized() error { return errs.Unauthorized(unauthorizedMessage) }

// notFound is Keystone's "Could not find <kind>: <id>." 404.
func notFound(kind, id string) error { return errs.NotFound("Could not find %s: %s.", kind, id) }

// validationError is Keystone's ValidationError for an attribute a
// request lacks.
func validationError(attribute, target string) error {
	return errs.Invalid("Expecting to find %s in %s. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.", attribute, target)
}

// duplicate is Keystone's 409 for a name already taken, with the domain
// when names are unique per domain.
func duplicate(kind, name, domainID string) error {
	if domainID != "" {
		return errs.Conflict("Conflict occurred attempting to store %s - Duplicate entry found with name %s at domain ID %s.", kind, name, domainID)
	}
	return errs.Conflict("Conflict occurred attempting to store %s - Duplicate entry found with name %s.", kind, name)
}

// projectConflict is the 409 Keystone's resource manager gives for a new
// project whose name is taken in its domain (it replaces the driver's
// "Duplicate entry" text).
func projectConflict(name, id string) error {
	return errs.Conflict("Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is %s, project id %s.", name, id)
}

// domainConflict is Keystone's 409 for a domain name taken: domains are
// projects acting as domains there, so the type is "project".
func domainConflict(name string) error {
	return errs.Conflict("Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: %s.", name)
}

// Names' longest lengths in Keystone's schemas: parameter_types.name for
// users, groups, roles and application credentials; the resource schema's
// _name_properties for domains and projects (its project table's name is a
// String(64)).
const (
	nameMax         = 255
	resourceNameMax = 64
)

// requireName rejects empty names, names over max characters and names
// of nothing but whitespace the way Keystone's schema does, in its order
// (minLength, maxLength, then the pattern [\S]+; jsonschema counts
// characters, not bytes).
func requireName(name string, max int) error {
	if name == "" {
		return errs.Invalid("Invalid input for field 'name': '' is too short")
	}
	if utf8.RuneCountInString(name) > max {
		return errs.Invalid("Invalid input for field 'name': '%s' is too long", name)
	}
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsSpace(r) }) < 0 {
		return errs.Invalid(`Invalid input for field 'name': '%s' does not match '[\\S]+'`, name)
	}
	return nil
}
