// Package v2xml serves the XML of the legacy Compute API v2 (the seed
// document's, namespace http://docs.openstack.org/compute/api/v1.1) in
// front of the /v2 service: it turns an XML request body into the JSON
// document the handlers take, and the JSON document a handler produced
// into XML by per-resource rules. There is no second set of handlers.
package v2xml

import (
	"mime"
	"strconv"
	"strings"
)

// Namespaces of the v2 XML documents.
const (
	NSCompute = "http://docs.openstack.org/compute/api/v1.1"
	NSCommon  = "http://docs.openstack.org/common/api/v1.0"
	NSAtom    = "http://www.w3.org/2005/Atom"
)

// ContentType is what an XML reply is sent as (webob's content type and
// charset on the old Nova's serialized responses).
const ContentType = "application/xml; charset=UTF-8"

// xmlTypes and jsonTypes are the media types the v2 API took for each
// format (nova/api/openstack/wsgi.py's SUPPORTED_CONTENT_TYPES).
var (
	xmlTypes  = []string{"application/xml", "application/vnd.openstack.compute+xml"}
	jsonTypes = []string{"application/json", "application/vnd.openstack.compute+json"}
)

// IsXMLType reports whether a Content-Type header names XML.
func IsXMLType(header string) bool {
	t, _, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	for _, x := range xmlTypes {
		if t == x {
			return true
		}
	}
	return t == "text/xml"
}

// splitSuffix strips a ".xml" or ".json" suffix from the last segment of
// path, as the v2 API took one in place of an Accept header; format is
// "xml", "json" or "" for none.
func splitSuffix(path string) (rest, format string) {
	for _, f := range []string{"xml", "json"} {
		if s := "." + f; strings.HasSuffix(path, s) && !strings.HasSuffix(path, "/"+s) {
			return strings.TrimSuffix(path, s), f
		}
	}
	return path, ""
}

// wantsXML reports whether an Accept header picks XML. As webob's
// best_match over the v2 API's offers (JSON first), XML wins only with a
// strictly higher quality than JSON: no header, "*/*" and ties are JSON.
func wantsXML(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return false
	}
	best := func(offers []string) float64 {
		q := 0.0
		for _, part := range strings.Split(accept, ",") {
			t, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			pq := 1.0
			if s, ok := params["q"]; ok {
				if v, err := strconv.ParseFloat(s, 64); err == nil {
					pq = v
				}
			}
			for _, o := range offers {
				if matches(t, o) && pq > q {
					q = pq
				}
			}
		}
		return q
	}
	return best(xmlTypes) > best(jsonTypes)
}

// matches reports whether a media range covers type t.
func matches(mediaRange, t string) bool {
	if mediaRange == "*/*" || mediaRange == t {
		return true
	}
	major, _, _ := strings.Cut(t, "/")
	return mediaRange == major+"/*"
}
