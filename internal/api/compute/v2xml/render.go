package v2xml

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"maps"
	"slices"
	"strings"
)

// extNamespaces are the namespaces old Nova's extensions put their
// prefixed attributes in; a prefix not listed gets one named after it.
var extNamespaces = map[string]string{
	"OS-DCF":              "http://docs.openstack.org/compute/ext/disk_config/api/v1.1",
	"OS-EXT-STS":          "http://docs.openstack.org/compute/ext/extended_status/api/v1.1",
	"OS-EXT-SRV-ATTR":     "http://docs.openstack.org/compute/ext/extended_status/api/v1.1",
	"OS-EXT-AZ":           "http://docs.openstack.org/compute/ext/extended_availability_zone/api/v2",
	"OS-EXT-IPS":          "http://docs.openstack.org/compute/ext/extended_ips/api/v1.1",
	"OS-EXT-IPS-MAC":      "http://docs.openstack.org/compute/ext/extended_ips_mac/api/v1.1",
	"OS-SRV-USG":          "http://docs.openstack.org/compute/ext/server_usage/api/v1.1",
	"os-extended-volumes": "http://docs.openstack.org/compute/ext/extended_volumes/api/v1.1",
	"OS-FLV-EXT-DATA":     "http://docs.openstack.org/compute/ext/flavor_extra_data/api/v1.1",
	"OS-FLV-DISABLED":     "http://docs.openstack.org/compute/ext/flavor_disabled/api/v1.1",
	"os-flavor-access":    "http://docs.openstack.org/compute/ext/flavor_access/api/v2",
	"OS-EXT-IMG-SIZE":     "http://docs.openstack.org/compute/ext/image_size/api/v1.1",
	"os-flavor-swap":      "http://docs.openstack.org/compute/ext/flavor_swap/api/v1.1",
	"os-flavor-rxtx":      "http://docs.openstack.org/compute/ext/flavor_rxtx/api/v1.1",
}

func extNamespace(prefix string) string {
	if ns, ok := extNamespaces[prefix]; ok {
		return ns
	}
	return "http://docs.openstack.org/compute/ext/" + strings.ToLower(prefix) + "/api/v1.1"
}

// attrNames are the v2 XML's names for JSON fields that differ: the
// server's owner in camel case, and the flavor fields extensions added
// in their own namespaces (os-flavor-swap, os-flavor-rxtx).
var attrNames = map[string]string{"user_id": "userId", "tenant_id": "tenantId",
	"swap": "os-flavor-swap:swap", "rxtx_factor": "os-flavor-rxtx:rxtx_factor"}

// Context is what a reply's XML depends on beyond its JSON document.
type Context struct {
	Status int
	// Path is the request's path below the mount and project
	// ("/servers/{id}/ips/private").
	Path string
}

// errNotResource is a JSON document no rule renders (a Keystone 401):
// it is sent as it is.
var errNotResource = errors.New("not a v2 resource document")

// Render turns the JSON document of a reply into the v2 XML document.
func Render(c Context, body []byte) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	key, rootLinks := "", []any(nil)
	for k, v := range doc {
		if strings.HasSuffix(k, "_links") {
			rootLinks, _ = v.([]any)
			continue
		}
		if key != "" {
			return nil, errNotResource
		}
		key = k
	}
	if key == "" {
		return nil, errNotResource
	}
	v := doc[key]
	w := &writer{}
	w.buf.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n")
	if c.Status >= 400 {
		f, ok := v.(map[string]any)
		// keystonemiddleware's 401 ({"error": …}) stays its JSON.
		if !ok || f["message"] == nil || key == "error" {
			return nil, errNotResource
		}
		w.fault(key, f)
		return w.buf.Bytes(), nil
	}
	switch {
	case strings.Contains(c.Path, "/ips/"):
		// GET /servers/{id}/ips/{network}: {label: [ip, ...]}, whatever
		// the label.
		w.network(key, v, rootNS(NSCompute, false))
	case key == "limits":
		m, _ := v.(map[string]any)
		w.limits(m)
	case key == "metadata":
		m, _ := v.(map[string]any)
		w.open("metadata", rootNS(NSCompute, false))
		w.metas(m)
		w.close("metadata")
	case key == "meta":
		m, _ := v.(map[string]any)
		for k, val := range m {
			w.open("meta", append(rootNS(NSCompute, false), xml.Attr{Name: xml.Name{Local: "key"}, Value: k}))
			w.text(scalar(val))
			w.close("meta")
		}
	case key == "addresses":
		m, _ := v.(map[string]any)
		w.open("addresses", rootNS(NSCompute, false))
		w.networks(m)
		w.close("addresses")
	default:
		ns := NSCompute
		if key == "versions" || key == "version" || key == "choices" {
			ns = NSCommon
		}
		switch val := v.(type) {
		case []any:
			w.open(key, rootNS(ns, true))
			for _, item := range val {
				w.element(singular(key), item, nil)
			}
			w.links(rootLinks)
			w.close(key)
		default:
			if m, ok := val.(map[string]any); ok && key == "server" && c.Status == 202 &&
				strings.HasSuffix(c.Path, "/servers") && m["metadata"] == nil {
				// Old Nova's create template always held a metadata
				// element (the document's <metadata/>).
				m["metadata"] = map[string]any{}
			}
			w.element(key, val, rootNS(ns, true))
		}
	}
	return w.finish(), nil
}

// rootNS is a root element's namespace declarations.
func rootNS(ns string, atom bool) []xml.Attr {
	var a []xml.Attr
	if atom {
		a = append(a, xml.Attr{Name: xml.Name{Local: "xmlns:atom"}, Value: NSAtom})
	}
	return append(a, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: ns})
}

// singular is the element name of a list's items ("servers": "server").
func singular(key string) string {
	if s, ok := strings.CutSuffix(key, "ies"); ok {
		return s + "y"
	}
	return strings.TrimSuffix(key, "s")
}

// scalar is a JSON scalar as the v2 XML wrote it (Python's str()).
func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writer builds a document; prefixes collects the extension prefixes
// used, declared on the root element when the document is finished.
type writer struct {
	buf      bytes.Buffer
	rootEnd  int // offset of the root start tag's closing ">"
	prefixes map[string]bool
	depth    int
}

func (w *writer) name(n string) string {
	if p, _, ok := strings.Cut(n, ":"); ok && p != "atom" && p != "xmlns" {
		if w.prefixes == nil {
			w.prefixes = map[string]bool{}
		}
		w.prefixes[p] = true
	}
	return n
}

func (w *writer) start(name string, attrs []xml.Attr) {
	w.buf.WriteByte('<')
	w.buf.WriteString(w.name(name))
	for _, a := range attrs {
		w.buf.WriteByte(' ')
		w.buf.WriteString(w.name(a.Name.Local))
		w.buf.WriteString(`="`)
		_ = xml.EscapeText(&w.buf, []byte(a.Value))
		w.buf.WriteByte('"')
	}
	if w.depth == 0 {
		w.rootEnd = w.buf.Len()
	}
}

func (w *writer) open(name string, attrs []xml.Attr) {
	w.start(name, attrs)
	w.buf.WriteByte('>')
	w.depth++
}

func (w *writer) empty(name string, attrs []xml.Attr) {
	w.start(name, attrs)
	w.buf.WriteString("/>")
}

func (w *writer) close(name string) {
	w.depth--
	w.buf.WriteString("</" + name + ">")
}

func (w *writer) text(s string) { _ = xml.EscapeText(&w.buf, []byte(s)) }

// finish declares the extension prefixes on the root element.
func (w *writer) finish() []byte {
	if len(w.prefixes) == 0 {
		return w.buf.Bytes()
	}
	var decl bytes.Buffer
	for _, p := range slices.Sorted(maps.Keys(w.prefixes)) {
		decl.WriteString(` xmlns:` + p + `="` + extNamespace(p) + `"`)
	}
	b := w.buf.Bytes()
	out := make([]byte, 0, len(b)+decl.Len())
	out = append(out, b[:w.rootEnd]...)
	out = append(out, decl.Bytes()...)
	return append(out, b[w.rootEnd:]...)
}

// element writes an object: scalars as attributes, links as atom:link,
// metadata, addresses and lists by their rules, objects as child
// elements.
func (w *writer) element(name string, v any, attrs []xml.Attr) {
	m, ok := v.(map[string]any)
	if !ok {
		w.open(name, attrs)
		w.text(scalar(v))
		w.close(name)
		return
	}
	keys := slices.Sorted(maps.Keys(m))
	var children []string
	for _, k := range keys {
		switch val := m[k].(type) {
		case nil:
		case map[string]any, []any:
			children = append(children, k)
		default:
			if !validName(k) {
				continue
			}
			n := k
			if a, ok := attrNames[k]; ok {
				n = a
			}
			attrs = append(attrs, xml.Attr{Name: xml.Name{Local: n}, Value: scalar(val)})
		}
	}
	if len(children) == 0 {
		w.empty(name, attrs)
		return
	}
	w.open(name, attrs)
	// Links last, as the document's examples put them.
	for _, k := range children {
		if k == "links" || !validName(k) {
			continue
		}
		switch val := m[k].(type) {
		case map[string]any:
			switch k {
			case "metadata":
				w.open("metadata", nil)
				w.metas(val)
				w.close("metadata")
			case "addresses":
				w.open("addresses", nil)
				w.networks(val)
				w.close("addresses")
			default:
				w.element(k, val, nil)
			}
		case []any:
			w.open(k, nil)
			for _, item := range val {
				w.element(singular(k), item, nil)
			}
			w.close(k)
		}
	}
	if l, ok := m["links"].([]any); ok {
		w.links(l)
	}
	w.close(name)
}

// validName keeps JSON keys that are no XML names out of the document.
func validName(k string) bool {
	if k == "" || strings.Count(k, ":") > 1 {
		return false
	}
	for i, r := range k {
		ok := r == '_' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func (w *writer) links(links []any) {
	for _, l := range links {
		m, _ := l.(map[string]any)
		var attrs []xml.Attr
		for _, k := range []string{"rel", "type", "href"} {
			if s, ok := m[k].(string); ok {
				attrs = append(attrs, xml.Attr{Name: xml.Name{Local: k}, Value: s})
			}
		}
		w.empty("atom:link", attrs)
	}
}

func (w *writer) metas(m map[string]any) {
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		w.open("meta", []xml.Attr{{Name: xml.Name{Local: "key"}, Value: k}})
		w.text(scalar(m[k]))
		w.close("meta")
	}
}

func (w *writer) networks(m map[string]any) {
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		w.network(k, m[k], nil)
	}
}

// network writes <network id=label><ip version addr/>…</network>.
func (w *writer) network(label string, ips any, attrs []xml.Attr) {
	attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "id"}, Value: label})
	list, _ := ips.([]any)
	if len(list) == 0 {
		w.empty("network", attrs)
		return
	}
	w.open("network", attrs)
	for _, ip := range list {
		w.element("ip", ip, nil)
	}
	w.close("network")
}

// limits writes the common namespace's limits: <rates> from the rate
// list, <absolute><limit name value/> from the absolute limits.
func (w *writer) limits(m map[string]any) {
	w.open("limits", rootNS(NSCommon, true))
	rates, _ := m["rate"].([]any)
	if len(rates) == 0 {
		w.empty("rates", nil)
	} else {
		w.open("rates", nil)
		for _, r := range rates {
			rm, _ := r.(map[string]any)
			var attrs []xml.Attr
			for _, k := range []string{"regex", "uri"} {
				if rm[k] != nil {
					attrs = append(attrs, xml.Attr{Name: xml.Name{Local: k}, Value: scalar(rm[k])})
				}
			}
			w.open("rate", attrs)
			ls, _ := rm["limit"].([]any)
			for _, l := range ls {
				w.element("limit", l, nil)
			}
			w.close("rate")
		}
		w.close("rates")
	}
	abs, _ := m["absolute"].(map[string]any)
	keys := slices.Sorted(maps.Keys(abs))
	w.open("absolute", nil)
	for _, k := range keys {
		if abs[k] == nil {
			continue
		}
		w.empty("limit", []xml.Attr{{Name: xml.Name{Local: "name"}, Value: k}, {Name: xml.Name{Local: "value"}, Value: scalar(abs[k])}})
	}
	w.close("absolute")
	w.close("limits")
}

// fault writes <itemNotFound code="404" xmlns=…><message>…</message>,
// with retryAfter as an attribute, as old Nova's Fault serialized.
func (w *writer) fault(name string, f map[string]any) {
	attrs := []xml.Attr{{Name: xml.Name{Local: "code"}, Value: scalar(f["code"])}}
	if f["retryAfter"] != nil {
		attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "retryAfter"}, Value: scalar(f["retryAfter"])})
	}
	attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: NSCompute})
	w.open(name, attrs)
	w.open("message", nil)
	w.text(scalar(f["message"]))
	w.close("message")
	if f["details"] != nil {
		w.open("details", nil)
		w.text(scalar(f["details"]))
		w.close("details")
	}
	w.close(name)
}
