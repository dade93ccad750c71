package v2xml

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds the nesting of a request document: the v2 documents go
// four deep; a deeper one is an attack on the parser, not a request.
const maxDepth = 32

// errForbidden is a document with a DTD, an entity declaration or an
// entity reference: refused before anything is expanded (no XXE, no
// entity bombs), as old Nova's ProtectedExpatParser refused them.
var errForbidden = errors.New("DTDs and entities are forbidden")

// node is one element of a request document.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	text     strings.Builder
}

func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// parse reads a request document: one root element, no directives (a
// DOCTYPE or ENTITY declaration), no entity but XML's five.
func parse(body []byte) (*node, error) {
	if bytes.Contains(body, []byte("<!")) {
		// Only comments and CDATA may start with "<!"; any DOCTYPE or
		// ENTITY is refused however it is spelled below.
		if err := scanDirectives(body); err != nil {
			return nil, err
		}
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errForbidden
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("document nested deeper than %d", maxDepth)
			}
			n := &node{name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					n.attrs = append(n.attrs, a)
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// scanDirectives refuses any "<!" that opens neither a comment nor a
// CDATA section.
func scanDirectives(body []byte) error {
	for rest := body; ; {
		i := bytes.Index(rest, []byte("<!"))
		if i < 0 {
			return nil
		}
		rest = rest[i:]
		if !bytes.HasPrefix(rest, []byte("<!--")) && !bytes.HasPrefix(rest, []byte("<![CDATA[")) {
			return errForbidden
		}
		rest = rest[2:]
	}
}

// ToJSON turns a v2 request document into the JSON document the JSON API
// takes for it, the way old Nova's XML deserializers read them: the root
// element names the body's one key ("server", "reboot", "metadata"),
// attributes are string fields, <metadata><meta key=…>v</meta> is an
// object, <personality>, <networks> and <security_groups> are lists, an
// element with text only is a string and an empty action (<confirmResize/>)
// is null.
func ToJSON(body []byte) ([]byte, error) {
	root, err := parse(body)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if root.name.Local == "meta" {
		// PUT .../metadata/{key}: {"meta": {key: value}}.
		doc = map[string]any{"meta": map[string]any{root.attr("key"): root.text.String()}}
	} else {
		v := value(root)
		if m, ok := v.(map[string]any); ok && len(m) == 0 && strings.TrimSpace(root.text.String()) == "" {
			v = nil
		}
		doc = map[string]any{root.name.Local: v}
	}
	return json.Marshal(doc)
}

// value is an element's JSON value by its name, then by its shape.
func value(n *node) any {
	switch n.name.Local {
	case "metadata":
		m := map[string]any{}
		for _, c := range n.children {
			if c.name.Local == "meta" {
				m[c.attr("key")] = c.text.String()
			}
		}
		return m
	case "personality":
		files := []any{}
		for _, c := range n.children {
			if c.name.Local == "file" {
				// Base64 wrapped over lines, as in the document.
				files = append(files, map[string]any{"path": c.attr("path"),
					"contents": strings.Join(strings.Fields(c.text.String()), "")})
			}
		}
		return files
	case "networks", "security_groups":
		list := []any{}
		for _, c := range n.children {
			list = append(list, value(c))
		}
		return list
	}
	if len(n.attrs) == 0 && len(n.children) == 0 {
		if t := n.text.String(); strings.TrimSpace(t) != "" {
			return t
		}
	}
	m := map[string]any{}
	for _, a := range n.attrs {
		m[a.Name.Local] = a.Value
	}
	for _, c := range n.children {
		m[c.name.Local] = value(c)
	}
	return m
}
