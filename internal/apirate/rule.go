// Package apirate limits the rate of API requests per project, as the
// Compute API v2 documented its "rate" limits (and Nova's limits
// middleware enforced them until Liberty): rules of a verb, a regular
// expression on the request's path, and a number a unit of time allows.
// The counters are rows in the database (one fixed window per project and
// rule), so every API process of a cloud shares them. Not to be confused
// with internal/ratelimit, the in-memory token buckets of failed logins.
package apirate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Units a rule counts in, as the v2 document names them.
var units = map[string]time.Duration{
	"SECOND": time.Second,
	"MINUTE": time.Minute,
	"HOUR":   time.Hour,
	"DAY":    24 * time.Hour,
}

// verbs a rule may name.
var verbs = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// Rule is one rate limit: Value requests of Verb a Unit to the paths
// Regex matches, shown in /limits under URI.
type Rule struct {
	Verb string `yaml:"verb"`
	// URI is how /limits shows the rule ("*/servers"); display only.
	URI string `yaml:"uri"`
	// Regex (RE2) is matched, anchored at its start as Nova's re.match
	// was, against the request's path after the version prefix and the
	// project id, with "?" and the query string when there is one:
	// "/servers/detail?changes-since=2012-01-01".
	Regex string `yaml:"regex"`
	Value int    `yaml:"value"`
	Unit  string `yaml:"unit"`
}

// Period is the rule's unit as a duration.
func (r Rule) Period() time.Duration { return units[r.Unit] }

// key names the rule's counter rows: a changed rule starts counting anew.
func (r Rule) key() string {
	return fmt.Sprintf("%s %d/%s %s %s", r.Verb, r.Value, r.Unit, r.URI, r.Regex)
}

// Details is the overLimit fault's details for the rule, in Nova's words
// (limits.py Limit.error_message).
func (r Rule) Details() string {
	return fmt.Sprintf("Only %d %s request(s) can be made to %s every %s.", r.Value, r.Verb, r.URI, strings.ToLower(r.Unit))
}

// Default is the v2 document's table (Nova's DEFAULT_LIMITS) but for its
// os-fping rule: kumo serves no os-fping.
func Default() []Rule {
	r := func(verb, uri, regex string) Rule {
		return Rule{Verb: verb, URI: uri, Regex: regex, Value: 120, Unit: "MINUTE"}
	}
	return []Rule{
		r("POST", "*", ".*"),
		r("PUT", "*", ".*"),
		r("DELETE", "*", ".*"),
		r("POST", "*/servers", "^/servers"),
		r("GET", "*changes-since*", ".*changes-since.*"),
	}
}

// Normalize upper-cases a rule's verb and unit and checks it.
func Normalize(r *Rule) error {
	r.Verb = strings.ToUpper(strings.TrimSpace(r.Verb))
	r.Unit = strings.ToUpper(strings.TrimSpace(r.Unit))
	switch {
	case !slices.Contains(verbs, r.Verb):
		return fmt.Errorf("verb %q is not one of %s", r.Verb, strings.Join(verbs, ", "))
	case r.URI == "":
		return errors.New("uri is required (how /limits shows the rule, e.g. \"*/servers\")")
	case r.Value < 1:
		return fmt.Errorf("value must be at least 1, not %d", r.Value)
	case units[r.Unit] == 0:
		return fmt.Errorf("unit %q is not one of SECOND, MINUTE, HOUR, DAY", r.Unit)
	}
	if _, err := compile(r.Regex); err != nil {
		return fmt.Errorf("regex %q: %w", r.Regex, err)
	}
	return nil
}

// compile anchors regex at its start, as Python's re.match.
func compile(regex string) (*regexp.Regexp, error) { return regexp.Compile(`^(?:` + regex + `)`) }

// file is a --rate-limits file: a list of rules under "rate_limits".
type file struct {
	RateLimits []Rule `yaml:"rate_limits"`
}

// ParseFile reads the rules of a --rate-limits file.
func ParseFile(data []byte) ([]Rule, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("rate limits file: %w", err)
	}
	if len(f.RateLimits) == 0 {
		return nil, errors.New("rate limits file: no rules under rate_limits")
	}
	for i := range f.RateLimits {
		if err := Normalize(&f.RateLimits[i]); err != nil {
			return nil, fmt.Errorf("rate limits file: rule %d: %w", i+1, err)
		}
	}
	return f.RateLimits, nil
}

// Load is the --rate-limits flag's rules: none for "" (off), the
// document's table for "default", else the rules of the file it names.
func Load(flag string) ([]Rule, error) {
	switch flag {
	case "":
		return nil, nil
	case "default":
		return Default(), nil
	}
	data, err := os.ReadFile(flag)
	if err != nil {
		return nil, fmt.Errorf("--rate-limits: %w", err)
	}
	rules, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("--rate-limits %s: %w", flag, err)
	}
	return rules, nil
}
