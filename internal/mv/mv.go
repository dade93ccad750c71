// Package mv owns compute API microversions: the supported range, header
// negotiation, and the comparisons handlers use ("is this request at least
// 2.47?"). Nothing else in kumo parses version headers.
//
// Every microversion that changes behaviour has a name here, by number:
// V2_47 is 2.47 (versions.go). Handlers ask c.AtLeast(mv.V2_47) and
// route tables bound routes and actions with MinVer: mv.V2_26 or
// MaxVer: mv.V2_43; no code outside this package spells a version as two
// numbers. Names by number, not by feature, because one microversion often
// changes several things and Nova's documentation is indexed by number.
package mv

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Version is a compute API microversion such as 2.47.
type Version struct{ Major, Minor int }

// maxMinor is the newest 2.x microversion kumo serves. Raise it only when
// every change up to it is implemented (docs/COMPATIBILITY.md lists them).
const maxMinor = 104

// Supported is the range kumo serves: 2.1 (also what a request without a
// version header gets) up to the newest implemented microversion.
func Supported() Range { return Range{Min: Version{2, 1}, Max: Version{2, maxMinor}} }

// String formats the version as "2.47".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v is o or newer.
func (v Version) AtLeast(o Version) bool {
	return v.Major > o.Major || (v.Major == o.Major && v.Minor >= o.Minor)
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool { return !v.AtLeast(o) }

// Range is a supported interval of microversions.
type Range struct{ Min, Max Version }

// Contains reports whether v lies in the range (inclusive).
func (r Range) Contains(v Version) bool { return !v.Less(r.Min) && !r.Max.Less(v) }

// Parse reads "2.47" into a Version.
func Parse(s string) (Version, error) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return Version{}, fmt.Errorf("invalid microversion %q", s)
	}
	// Nova's format is ^([1-9]\d*)\.([1-9]\d*|0)$: no signs, no leading
	// zeros, major at least 1.
	if !digits(maj) || !digits(min) || maj[0] == '0' || (len(min) > 1 && min[0] == '0') {
		return Version{}, fmt.Errorf("invalid microversion %q", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil {
		// Well formed, but past any version there will ever be (Python's
		// integers have no such limit: Nova finds it unsupported).
		return Version{}, fmt.Errorf("%w: %q", errTooLarge, s)
	}
	return Version{a, b}, nil
}

// errTooLarge is Parse's error for a well-formed version whose numbers
// do not fit an int.
var errTooLarge = errors.New("microversion number too large")

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Errors returned by Negotiate; the API maps ErrMalformed to 400 and
// ErrUnsupported to 406 as Nova does.
var (
	ErrMalformed   = errors.New("malformed microversion")
	ErrUnsupported = errors.New("unsupported microversion")
)

// Headers a compute response carries.
const (
	HeaderNew    = "OpenStack-API-Version"
	HeaderLegacy = "X-OpenStack-Nova-API-Version"
)

// Requested extracts the compute microversion a request asks for: the
// new-style header wins over the legacy one, "" means none was given.
func Requested(h http.Header) string {
	for _, v := range h.Values(HeaderNew) {
		for _, part := range strings.Split(v, ",") {
			service, ver, ok := strings.Cut(strings.TrimSpace(part), " ")
			if ok && strings.EqualFold(service, "compute") {
				return strings.TrimSpace(ver)
			}
		}
	}
	return strings.TrimSpace(h.Get(HeaderLegacy))
}

// Negotiate resolves the requested version string against r. A
// well-formed version outside r is returned with ErrUnsupported.
func (r Range) Negotiate(requested string) (Version, error) {
	switch strings.ToLower(requested) {
	case "":
		return r.Min, nil
	case "latest":
		return r.Max, nil
	}
	v, err := Parse(requested)
	if errors.Is(err, errTooLarge) {
		return Version{}, fmt.Errorf("%w: Version %s is not supported by the API. Minimum is %s and maximum is %s.", ErrUnsupported, strings.TrimSpace(requested), r.Min, r.Max)
	}
	if err != nil {
		return Version{}, fmt.Errorf("%w: API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", ErrMalformed, requested)
	}
	if !r.Contains(v) {
		// The version comes back with the error: Nova answers the 406
		// with it in both version headers.
		return v, fmt.Errorf("%w: Version %s is not supported by the API. Minimum is %s and maximum is %s.", ErrUnsupported, v, r.Min, r.Max)
	}
	return v, nil
}

// SetResponseHeaders writes both version headers and Vary, as Nova does.
func SetResponseHeaders(h http.Header, v Version) {
	h.Set(HeaderNew, "compute "+v.String())
	h.Set(HeaderLegacy, v.String())
	h.Add("Vary", HeaderNew+", "+HeaderLegacy)
}
