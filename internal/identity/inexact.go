package identity

import "strings"

// Inexact is one of Keystone's inexact list filters, such as
// name__icontains=foo: the attribute, the comparison (contains,
// startswith or endswith) and whether case matters (the "i" forms ignore
// it).
type Inexact struct {
	Attr          string
	Comparator    string
	Value         string
	CaseSensitive bool
}

// ParseInexact reads key=value as Keystone's build_driver_hints does: a
// key "<attr>__<comparator>" for one of the list's attributes is an
// inexact filter, a comparator starting with "i" ignores case. ok is false
// for any other key.
func ParseInexact(key, value string, attrs ...string) (f Inexact, ok bool) {
	attr, comparator, found := strings.Cut(key, "__")
	if !found {
		return Inexact{}, false
	}
	for _, a := range attrs {
		if a != attr {
			continue
		}
		f = Inexact{Attr: attr, Comparator: comparator, Value: value, CaseSensitive: true}
		if strings.HasPrefix(comparator, "i") {
			f.Comparator, f.CaseSensitive = comparator[1:], false
		}
		return f, true
	}
	return Inexact{}, false
}

// Match reports whether v passes the filter. The value is taken
// literally: % and _ are no wildcards. Comparators Keystone does not know
// are ignored (everything passes), as Keystone silently ignores them.
func (f Inexact) Match(v string) bool {
	want := f.Value
	if !f.CaseSensitive {
		v, want = strings.ToLower(v), strings.ToLower(want)
	}
	switch f.Comparator {
	case "contains":
		return strings.Contains(v, want)
	case "startswith":
		return strings.HasPrefix(v, want)
	case "endswith":
		return strings.HasSuffix(v, want)
	}
	return true
}

// matchInexact reports whether an item passes every filter; attr returns
// the item's value of a string attribute and false when it has none (a
// null domain_id), which matches nothing, as in Keystone.
func matchInexact(fs []Inexact, attr func(name string) (string, bool)) bool {
	for _, f := range fs {
		v, ok := attr(f.Attr)
		if !ok || !f.Match(v) {
			return false
		}
	}
	return true
}

// keepInexact drops the items that do not pass every filter.
func keepInexact[T any](items []T, fs []Inexact, attr func(item *T, name string) (string, bool)) []T {
	if len(fs) == 0 {
		return items
	}
	out := items[:0]
	for i := range items {
		if matchInexact(fs, func(name string) (string, bool) { return attr(&items[i], name) }) {
			out = append(out, items[i])
		}
	}
	return out
}

// The string attributes inexact filters look at, by the names Keystone
// shows.

func projectAttr(p *Project, name string) (string, bool) {
	switch name {
	case "name":
		return p.Name, true
	case "domain_id":
		return p.DomainID, true
	case "parent_id":
		if p.ParentID == "" {
			return p.DomainID, true // a top-level project's parent is its domain
		}
		return p.ParentID, true
	}
	return "", false
}

func domainAttr(d *Domain, name string) (string, bool) {
	if name == "name" {
		return d.Name, true
	}
	return "", false
}

func userAttr(u *User, name string) (string, bool) {
	switch name {
	case "name":
		return u.Name, true
	case "domain_id":
		return u.DomainID, true
	}
	return "", false
}

func roleAttr(r *Role, name string) (string, bool) {
	switch name {
	case "name":
		return r.Name, true
	case "domain_id":
		return r.DomainID, r.DomainID != "" // a global role's is null
	}
	return "", false
}
