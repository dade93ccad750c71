package mv

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Block storage (Cinder v3) microversions. Cinder negotiates them its own
// way (cinder/api/openstack/wsgi.py, set_api_version_request): only the
// OpenStack-API-Version header, its "volume" entry, "latest" in lower
// case, and no legacy header.

// volumeMaxMinor is the newest 3.x microversion kumo's block storage API
// serves: Cinder's current maximum (docs/COMPATIBILITY.md lists what each
// changes and what kumo leaves out).
const volumeMaxMinor = 71

// VolumeSupported is the block storage range: 3.0 (also what a request
// without a version header gets) up to 3.71.
func VolumeSupported() Range { return Range{Min: Version{3, 0}, Max: Version{3, volumeMaxMinor}} }

// The microversions at which the block storage API changes behaviour.
var (
	V3_0  = Version{3, 0}
	V3_1  = Version{3, 1}
	V3_2  = Version{3, 2}
	V3_3  = Version{3, 3}
	V3_4  = Version{3, 4}
	V3_13 = Version{3, 13}
	V3_21 = Version{3, 21}
	V3_22 = Version{3, 22}
	V3_23 = Version{3, 23}
	V3_27 = Version{3, 27}
	V3_30 = Version{3, 30}
	V3_31 = Version{3, 31}
	V3_34 = Version{3, 34}
	V3_36 = Version{3, 36}
	V3_40 = Version{3, 40}
	V3_41 = Version{3, 41}
	V3_42 = Version{3, 42}
	V3_44 = Version{3, 44}
	V3_45 = Version{3, 45}
	V3_46 = Version{3, 46}
	V3_48 = Version{3, 48}
	V3_50 = Version{3, 50}
	V3_52 = Version{3, 52}
	V3_53 = Version{3, 53}
	V3_54 = Version{3, 54}
	V3_55 = Version{3, 55}
	V3_59 = Version{3, 59}
	V3_60 = Version{3, 60}
	V3_61 = Version{3, 61}
	V3_62 = Version{3, 62}
	V3_63 = Version{3, 63}
	V3_64 = Version{3, 64}
	V3_65 = Version{3, 65}
	V3_66 = Version{3, 66}
	V3_67 = Version{3, 67}
	V3_68 = Version{3, 68}
	V3_69 = Version{3, 69}
	V3_71 = Version{3, 71}
)

// ErrNoVolumeVersion is the error for an OpenStack-API-Version header
// without a volume entry: Cinder's VersionNotFoundForAPIMethod escapes
// its version handling and becomes a 400 with webob's explanation.
var ErrNoVolumeVersion = errors.New("The server could not comply with the request since it is either malformed or otherwise incapable of performing the requested operation.")

// cinderVersion is APIVersionRequest's format.
var cinderVersion = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

// Scheme is how an API reads the requested microversion and tells the
// client which one served it.
type Scheme interface {
	Negotiate(h http.Header) (Version, error)
	SetResponseHeaders(h http.Header, v Version)
}

// Compute is Nova's scheme over r.
func Compute(r Range) Scheme { return computeScheme(r) }

type computeScheme Range

func (s computeScheme) Negotiate(h http.Header) (Version, error) {
	return Range(s).Negotiate(Requested(h))
}

func (computeScheme) SetResponseHeaders(h http.Header, v Version) { SetResponseHeaders(h, v) }

// Volume is Cinder's scheme over r.
func Volume(r Range) Scheme { return volumeScheme(r) }

type volumeScheme Range

// Negotiate reads the header as Cinder does: the first comma-separated
// entry containing "volume", split on white space.
func (s volumeScheme) Negotiate(h http.Header) (Version, error) {
	r := Range(s)
	if len(h.Values(HeaderNew)) == 0 {
		return r.Min, nil
	}
	requested := ""
	found := false
	for _, part := range strings.Split(h.Get(HeaderNew), ",") {
		if strings.Contains(part, "volume") {
			fields := strings.Fields(part)
			// Cinder's "service, version = hdr.split()" raises (a 500)
			// for any other shape; kumo answers the 400 of a missing
			// entry.
			if len(fields) == 2 {
				requested, found = fields[1], true
			}
			break
		}
	}
	if !found || requested == "" {
		return Version{}, fmt.Errorf("%w: %s", ErrMalformed, ErrNoVolumeVersion.Error())
	}
	if requested == "latest" {
		return r.Max, nil
	}
	m := cinderVersion.FindStringSubmatch(requested)
	if m == nil {
		return Version{}, fmt.Errorf("%w: API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", ErrMalformed, requested)
	}
	maj, err1 := strconv.Atoi(m[1])
	min, err2 := strconv.Atoi(m[2])
	v := Version{maj, min}
	if err1 != nil || err2 != nil || !r.Contains(v) {
		return Version{}, fmt.Errorf("%w: Version %s is not supported by the API. Minimum is %s and maximum is %s.", ErrUnsupported, requested, r.Min, r.Max)
	}
	return v, nil
}

// SetResponseHeaders writes Cinder's version header and Vary.
func (volumeScheme) SetResponseHeaders(h http.Header, v Version) {
	h.Set(HeaderNew, "volume "+v.String())
	h.Set("Vary", HeaderNew)
}
