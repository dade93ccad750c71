package flavor

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/kumocloud/kumo/internal/errs"
)

type specType int

const (
	specStr specType = iota
	specInt
	specBool
)

// specRule is one known extra spec: its name pattern and value rules.
type specRule struct {
	Name         string // human-readable, e.g. "hw:numa_cpus.{num}"
	Pattern      string // name regex
	Type         specType
	Enum         []string
	ValuePattern string
	Min, Max     *int
}

func ptr(n int) *int { return &n }

// specRegistry is knownSpecs compiled once.
type specRegistry struct {
	byName     map[string]int
	names      []*regexp.Regexp
	values     []*regexp.Regexp
	namespaces []*regexp.Regexp
}

var compiled = sync.OnceValue(func() *specRegistry {
	r := &specRegistry{byName: map[string]int{}}
	seen := map[string]bool{}
	for i := range knownSpecs {
		rule := &knownSpecs[i]
		r.byName[rule.Name] = i
		r.names = append(r.names, regexp.MustCompile(`^(?:`+rule.Pattern+`)$`))
		var vre *regexp.Regexp
		if rule.Type == specStr && rule.ValuePattern != "" {
			vre = regexp.MustCompile(`^(?:` + rule.ValuePattern + `)$`)
		}
		r.values = append(r.values, vre)
		if ns, _, ok := strings.Cut(rule.Pattern, ":"); ok && !seen[ns] {
			seen[ns] = true
			r.namespaces = append(r.namespaces, regexp.MustCompile(`^(?:`+ns+`)$`))
		}
	}
	return r
})

// ValidateExtraSpec checks a spec the way Nova does from microversion
// 2.86: known specs must have valid values, and unknown keys in a known
// namespace (hw:, quota:, resources:, trait:, ...) are rejected.
func ValidateExtraSpec(name, value string) error {
	r := compiled()
	if i, ok := r.byName[name]; ok {
		return knownSpecs[i].check(value, r.values[i])
	}
	for i, re := range r.names {
		if re.MatchString(name) {
			return knownSpecs[i].check(value, r.values[i])
		}
	}
	ns, _, ok := strings.Cut(name, ":")
	if !ok {
		return nil
	}
	for _, re := range r.namespaces {
		if re.MatchString(ns) {
			return errs.Invalid("Validation failed; extra spec '%s' does not appear to be a valid extra spec.", name)
		}
	}
	return nil
}

func (rule *specRule) check(value string, valueRE *regexp.Regexp) error {
	switch rule.Type {
	case specInt:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return errs.Invalid("Validation failed; '%s' is not a valid integer value.", value)
		}
		if rule.Max != nil && *rule.Max < n {
			return errs.Invalid("Validation failed; '%d' is greater than the max value of '%d'.", n, *rule.Max)
		}
		if rule.Min != nil && *rule.Min > n {
			return errs.Invalid("Validation failed; '%d' is less than the min value of '%d'.", n, *rule.Min)
		}
	case specBool:
		if _, ok := ParseBool(value); !ok {
			return errs.Invalid("Validation failed; '%s' is not a valid boolean-like value.", value)
		}
	default:
		if valueRE != nil {
			if !valueRE.MatchString(value) {
				return errs.Invalid("Validation failed; '%s' is not of the format '%s'.", value, rule.ValuePattern)
			}
		} else if len(rule.Enum) > 0 && !contains(rule.Enum, value) {
			return errs.Invalid("Validation failed; '%s' is not one of: %s.", value, strings.Join(rule.Enum, ", "))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseBool reads a boolean the way oslo's bool_from_string(strict=True)
// does: true/false, yes/no, on/off, 1/0, t/f, y/n in any case.
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}
