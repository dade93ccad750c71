package v2xml

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestWantsXML: webob's best_match over JSON then XML.
func TestWantsXML(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                      false,
		"*/*":                                   false,
		"application/json":                      false,
		"application/xml":                       true,
		"application/vnd.openstack.compute+xml": true,
		"application/json, application/xml":     false,
		"application/xml, application/json;q=0.5": true,
		"application/xml;q=0.5, */*;q=0.9":        false,
		"text/html":                               false,
		"application/*":                           false,
	} {
		if got := wantsXML(accept); got != want {
			t.Errorf("Accept %q: XML %v, want %v", accept, got, want)
		}
	}
}

func TestSplitSuffix(t *testing.T) {
	for path, want := range map[string][2]string{
		"/v2/servers.xml":            {"/v2/servers", "xml"},
		"/v2/servers/detail.json":    {"/v2/servers/detail", "json"},
		"/v2/servers":                {"/v2/servers", ""},
		"/v2/.xml":                   {"/v2/.xml", ""},
		"/v2/servers/x/metadata/a.b": {"/v2/servers/x/metadata/a.b", ""},
	} {
		rest, f := splitSuffix(path)
		if rest != want[0] || f != want[1] {
			t.Errorf("%s: %q %q, want %q", path, rest, f, want)
		}
	}
}

// TestToJSON: request documents become the JSON API's bodies.
func TestToJSON(t *testing.T) {
	for _, tc := range []struct{ xml, json string }{
		{`<confirmResize xmlns="` + NSCompute + `"/>`, `{"confirmResize": null}`},
		{`<reboot type="HARD"/>`, `{"reboot": {"type": "HARD"}}`},
		{`<meta key="k">v</meta>`, `{"meta": {"k": "v"}}`},
		{`<metadata><meta key="a">1</meta><meta key="b"></meta></metadata>`, `{"metadata": {"a": "1", "b": ""}}`},
		{`<server name="s"><personality><file path="/p"> YWJj
ZA== </file></personality><networks><network uuid="n"/></networks><security_groups><security_group name="g"/></security_groups></server>`,
			`{"server": {"name": "s", "personality": [{"path": "/p", "contents": "YWJjZA=="}], "networks": [{"uuid": "n"}], "security_groups": [{"name": "g"}]}}`},
		{`<server><name>text &amp; more</name></server>`, `{"server": {"name": "text & more"}}`},
	} {
		got, err := ToJSON([]byte(tc.xml))
		if err != nil {
			t.Errorf("%s: %v", tc.xml, err)
			continue
		}
		var g, w any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal([]byte(tc.json), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s, want %s", tc.xml, got, tc.json)
		}
	}
}
