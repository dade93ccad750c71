package mv_test

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/mv"
)

// novaVersion is Nova's grammar of a version string
// (nova/api/openstack/api_version_request.py), applied after the header
// value's surrounding white space is dropped.
var novaVersion = regexp.MustCompile(`^([1-9][0-9]*)\.([1-9][0-9]*|0)$`)

// FuzzParse: Parse accepts exactly Nova's grammar (numbers too large
// for an int aside, which Negotiate answers as unsupported, as Nova
// does), and formatting a parsed version gives the string back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"2.1", "2.104", " 2.10 ", "3.0", "2.01", "02.1", "0.1", "2.-1", "+2.1", "2.1.1", "latest",
		"2.99999999999999999999", "2.\u0661", "\t2.5\n"} {
		f.Add(s, uint32(2), uint32(1))
	}
	f.Fuzz(func(t *testing.T, s string, major, minor uint32) {
		v, err := mv.Parse(s)
		trimmed := strings.TrimSpace(s)
		m := novaVersion.FindStringSubmatch(trimmed)
		switch {
		case err == nil && m == nil:
			t.Fatalf("Parse(%q) = %v, but Nova refuses it", s, v)
		case err == nil && (v.String() != trimmed || v.Major < 1 || v.Minor < 0):
			t.Fatalf("Parse(%q) = %v, formatted %q", s, v, v.String())
		case err != nil && m != nil && len(m[1]) < 19 && len(m[2]) < 19:
			t.Fatalf("Parse(%q): %v, but Nova accepts it", s, err)
		}
		neg, nerr := mv.Supported().Negotiate(s)
		switch {
		case nerr == nil:
			if !mv.Supported().Contains(neg) && strings.ToLower(s) != "" {
				t.Fatalf("Negotiate(%q) = %v, outside %v", s, neg, mv.Supported())
			}
		case errors.Is(nerr, mv.ErrMalformed) == (m != nil):
			t.Fatalf("Negotiate(%q): %v, but Nova's grammar match is %v", s, nerr, m != nil)
		case !errors.Is(nerr, mv.ErrMalformed) && !errors.Is(nerr, mv.ErrUnsupported):
			t.Fatalf("Negotiate(%q): %v is neither malformed nor unsupported", s, nerr)
		}
		if major == 0 {
			major = 1
		}
		in := mv.Version{Major: int(major), Minor: int(minor)}
		if out, err := mv.Parse(in.String()); err != nil || out != in {
			t.Fatalf("Parse(%q) = %v, %v; want %v", in.String(), out, err, in)
		}
	})
}

// FuzzRequested: the compute version a request asks for is the first
// "compute X" of OpenStack-API-Version, else the legacy header, white
// space dropped; a "compute" part put first always wins.
func FuzzRequested(f *testing.F) {
	for _, s := range [][2]string{{"compute 2.50", ""}, {"volume 3.5, compute 2.12", "2.1"}, {"", "2.20"},
		{"Compute latest", ""}, {"compute", "2.3"}, {",,compute  2.7 ,", ""}, {"compute\t2.8", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, current, legacy string) {
		h := http.Header{}
		h.Set(mv.HeaderNew, current)
		h.Set(mv.HeaderLegacy, legacy)
		got := mv.Requested(h)
		if got != strings.TrimSpace(got) {
			t.Fatalf("Requested(%q, %q) = %q, with surrounding space", current, legacy, got)
		}
		if !strings.Contains(strings.ToLower(current), "compute") && got != strings.TrimSpace(legacy) {
			t.Fatalf("Requested(%q, %q) = %q, want the legacy header's value", current, legacy, got)
		}
		h.Set(mv.HeaderNew, "compute 2.5, "+current)
		if got := mv.Requested(h); got != "2.5" {
			t.Fatalf("Requested(%q) = %q, want 2.5", h.Get(mv.HeaderNew), got)
		}
	})
}
