package v2xml_test

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/api/compute/v2xml"
	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// seedDoc is the Compute API v2 document whose XML examples kumo's XML is
// compared with; it is read from the shared reference directory, never
// copied into the repository.
const seedDoc = "seeds/002_36d866775ebcfaf3.txt"

// examples returns the document's XML examples in their order.
func examples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(apisamples.Root(t)), seedDoc))
	if err != nil {
		t.Skipf("seed document not available: %v", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "<?xml") {
			out = append(out, line)
		}
	}
	return out
}

// example is the first example with root element root that holds every
// one of marks.
func example(t *testing.T, all []string, root string, marks ...string) string {
	t.Helper()
next:
	for _, e := range all {
		if parse(t, e).XMLName.Local != root {
			continue
		}
		for _, m := range marks {
			if !strings.Contains(e, m) {
				continue next
			}
		}
		return e
	}
	t.Fatalf("no <%s> example with %q in the document", root, marks)
	return ""
}

type elem struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []elem     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func parse(t *testing.T, s string) elem {
	t.Helper()
	var e elem
	if err := xml.Unmarshal([]byte(s), &e); err != nil {
		t.Fatalf("not XML: %v\n%s", err, s)
	}
	return e
}

func attrs(e elem) map[xml.Name]string {
	m := map[xml.Name]string{}
	for _, a := range e.Attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		m[a.Name] = a.Value
	}
	return m
}

// core reports whether a name is the document's own (no extension's):
// kumo's /v2 shows the extensions the examples were made without.
func core(n xml.Name) bool {
	return n.Space == "" || n.Space == v2xml.NSCompute || n.Space == v2xml.NSCommon || n.Space == v2xml.NSAtom
}

// tolerated are core names kumo shows that an example may lack: the
// examples were made without the extensions that add them (key_name,
// config_drive, security_groups; a snapshot's server), a link's type, a list's next link.
var tolerated = map[string]bool{"type": true, "link:next": true, "key_name": true, "config_drive": true, "security_groups": true, "server": true}

// compare lists the differences of got from want, element by element and
// attribute by attribute: every element and attribute of want must be
// in got, and got may add only extensions' attributes and elements. The
// values of ids, times, hosts and URLs differ and are not compared; the
// link relations, address versions and metadata keys are. allowed are
// element paths want has and got may lack.
func compare(path string, want, got elem, allowed map[string]bool) []string {
	var diffs []string
	if want.XMLName != got.XMLName {
		return []string{path + ": element " + got.XMLName.Space + " " + got.XMLName.Local + ", want " + want.XMLName.Space + " " + want.XMLName.Local}
	}
	wa, ga := attrs(want), attrs(got)
	for n, v := range wa {
		gv, ok := ga[n]
		switch {
		case !ok:
			diffs = append(diffs, path+": missing attribute "+n.Local)
		case n.Local == "rel" || n.Local == "version" && want.XMLName.Local == "ip":
			if gv != v {
				diffs = append(diffs, path+": "+n.Local+"="+gv+", want "+v)
			}
		}
	}
	for n := range ga {
		if _, ok := wa[n]; !ok && core(n) && !tolerated[n.Local] {
			diffs = append(diffs, path+": extra attribute "+n.Local)
		}
	}
	byName := func(e elem) map[string][]elem {
		m := map[string][]elem{}
		for _, c := range e.Children {
			k := c.XMLName.Local
			if c.XMLName.Local == "link" {
				k = "link:" + attrs(c)[xml.Name{Local: "rel"}]
			}
			m[k] = append(m[k], c)
		}
		return m
	}
	wc, gc := byName(want), byName(got)
	keys := make([]string, 0, len(wc))
	for k := range wc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := path + "/" + k
		g, ok := gc[k]
		if !ok {
			if !allowed[p] {
				diffs = append(diffs, p+": missing element")
			}
			continue
		}
		diffs = append(diffs, compare(p, wc[k][0], g[0], allowed)...)
	}
	for k, g := range gc {
		if _, ok := wc[k]; !ok && core(g[0].XMLName) && !tolerated[k] {
			diffs = append(diffs, path+"/"+k+": extra element")
		}
	}
	return diffs
}

// check asks kumo for XML and compares the answer with the example.
func check(t *testing.T, r *apitest.Response, status int, want string, allowed ...string) elem {
	t.Helper()
	r.Expect(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("Content-Type %q: %s", ct, r.Body)
	}
	if bytes.Contains(r.Body, []byte("<!")) {
		t.Fatalf("a directive in the reply: %s", r.Body)
	}
	got := parse(t, string(r.Body))
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	w := parse(t, want)
	if d := compare(w.XMLName.Local, w, got, ok); len(d) > 0 {
		t.Errorf("differences from the document's example:\n%s\nkumo: %s\ndocument: %s", strings.Join(d, "\n"), r.Body, want)
	}
	return got
}

var (
	attrRe = func(name string) *regexp.Regexp { return regexp.MustCompile(name + `="[^"]*"`) }
)

// metas is an element's <meta key>value</meta> children, in order.
func metas(e elem) string {
	var out []string
	for _, c := range e.Children {
		out = append(out, attrs(c)[xml.Name{Local: "key"}]+"="+c.Text)
	}
	return strings.Join(out, ",")
}

// xmlReq sends an XML body and asks for XML.
func xmlReq(c *apitest.Client, method, path, body string) *apitest.Response {
	if body == "" {
		return c.Do(method, path, nil, "Accept", "application/xml")
	}
	return c.Do(method, path, body, "Content-Type", "application/xml", "Accept", "application/xml")
}

// TestCallsMatchTheDocument runs every call the document shows in XML
// over /v2 and compares kumo's XML with the document's example.
func TestCallsMatchTheDocument(t *testing.T) {
	t.Parallel()
	all := examples(t)
	apptest.Each(t, func(t *testing.T, database string) { callsMatch(t, all, database) })
}

func callsMatch(t *testing.T, all []string, database string) {
	cloud := apptest.New(t, apptest.Options{Database: database})
	c := cloud.Admin
	get := func(path string) *apitest.Response { return xmlReq(c, http.MethodGet, path, "") }

	// Servers: create from the document's request, its ids replaced.
	c.Do(http.MethodPost, "/v2.1/os-security-groups", map[string]any{"security_group": map[string]any{"name": "another-secgroup-name", "description": "d"}}).Expect(t, http.StatusOK)
	nets := c.Do(http.MethodGet, "/networking/v2.0/networks", nil).JSON(t)["networks"].([]any)
	netID := nets[0].(map[string]any)["id"].(string)
	create := example(t, all, "server", "imageRef", "personality")
	create = attrRe("imageRef").ReplaceAllString(create, `imageRef="`+cloud.ImageID+`"`)
	create = attrRe("flavorRef").ReplaceAllString(create, `flavorRef="1"`)
	create = attrRe("uuid").ReplaceAllString(create, `uuid="`+netID+`"`)
	created := check(t, xmlReq(c, http.MethodPost, "/v2/servers", create), http.StatusAccepted,
		example(t, all, "server", "adminPass", "OS-DCF"))
	id := attrs(created)[xml.Name{Local: "id"}]
	cloud.Step()
	srv := "/v2/servers/" + id
	// The XML request was read as its JSON: the server has the
	// document's metadata and both security groups.
	js := c.Do(http.MethodGet, "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
	if md := js["metadata"].(map[string]any); md["My Server Name"] != "API Test Server XML" || js["name"] != "server-test-2" {
		t.Errorf("created from XML: %v", js)
	}
	if sg := js["security_groups"].([]any); len(sg) != 2 {
		t.Errorf("security groups: %v", sg)
	}

	t.Run("list", func(t *testing.T) {
		check(t, get("/v2/servers"), http.StatusOK, example(t, all, "servers", "new-server-test"))
	})
	show := example(t, all, "server", `status="ACTIVE"`, "userId")
	t.Run("detail", func(t *testing.T) {
		check(t, get("/v2/servers/detail"), http.StatusOK, example(t, all, "servers", `status="ACTIVE"`))
	})
	t.Run("show", func(t *testing.T) { check(t, get(srv), http.StatusOK, show) })
	t.Run("show.xml", func(t *testing.T) {
		check(t, c.Do(http.MethodGet, srv+".xml", nil), http.StatusOK, show)
	})
	t.Run("update", func(t *testing.T) {
		// The document's update answer is an older form (tenant_id,
		// user_id): kumo answers the show's.
		check(t, xmlReq(c, http.MethodPut, srv, example(t, all, "server", `name="new-server-test"/>`)), http.StatusOK, show)
		check(t, xmlReq(c, http.MethodPut, srv, example(t, all, "server", `accessIPv4="67.23.10.132" accessIPv6="::babe:67.23.10.132" />`)), http.StatusOK, show)
	})

	// Server metadata: all six calls.
	meta := example(t, all, "metadata", "staging_server")
	t.Run("metadata", func(t *testing.T) {
		for _, r := range []*apitest.Response{xmlReq(c, http.MethodPut, srv+"/metadata", meta),
			xmlReq(c, http.MethodPost, srv+"/metadata", meta), get(srv + "/metadata")} {
			if got, want := metas(check(t, r, http.StatusOK, meta)), metas(parse(t, meta)); got != want {
				t.Errorf("metadata %s, want %s", got, want)
			}
		}
		item := `<?xml version="1.0" encoding="UTF-8"?><meta xmlns="` + v2xml.NSCompute + `" key="foo">Foo Value</meta>`
		check(t, xmlReq(c, http.MethodPut, srv+"/metadata/foo", item), http.StatusOK, item)
		got := check(t, get(srv+"/metadata/foo"), http.StatusOK, item)
		if got.Text != "Foo Value" {
			t.Errorf("meta foo: %q", got.Text)
		}
		xmlReq(c, http.MethodDelete, srv+"/metadata/foo", "").Expect(t, http.StatusNoContent)
	})

	t.Run("addresses", func(t *testing.T) {
		got := check(t, get(srv+"/ips"), http.StatusOK, example(t, all, "addresses"))
		label := attrs(got.Children[0])[xml.Name{Local: "id"}]
		check(t, get(srv+"/ips/"+label), http.StatusOK, example(t, all, "network", "ip version"))
	})

	t.Run("actions", func(t *testing.T) {
		act := func(root string, status int, marks ...string) *apitest.Response {
			t.Helper()
			body := example(t, all, root, marks...)
			body = attrRe("imageRef").ReplaceAllString(body, `imageRef="`+cloud.ImageID+`"`)
			return xmlReq(c, http.MethodPost, srv+"/action", body).Expect(t, status)
		}
		// changePassword answers once the guest has the password: the
		// host's agent steps while the call waits.
		done := make(chan *apitest.Response)
		go func() {
			done <- xmlReq(c, http.MethodPost, srv+"/action", example(t, all, "changePassword"))
		}()
		var r *apitest.Response
		for r == nil {
			select {
			case r = <-done:
			case <-time.After(20 * time.Millisecond):
				cloud.Step()
			}
		}
		r.Expect(t, http.StatusAccepted)
		act("reboot", http.StatusAccepted)
		cloud.Step()
		check(t, act("rebuild", http.StatusAccepted), http.StatusAccepted, example(t, all, "server", `name="foobar"`, "adminPass"))
		cloud.Step()
		act("resize", http.StatusAccepted)
		cloud.Step()
		act("revertResize", http.StatusAccepted)
		cloud.Step()
		act("resize", http.StatusAccepted)
		cloud.Step()
		act("confirmResize", http.StatusNoContent)
		cloud.Step()
		r = act("createImage", http.StatusAccepted)
		if r.Header.Get("Location") == "" {
			t.Errorf("createImage: no Location")
		}
	})

	t.Run("flavors", func(t *testing.T) {
		check(t, get("/v2/flavors"), http.StatusOK, example(t, all, "flavors"))
		// The document's detail example repeats the list's: each
		// flavor of the detail is compared with the show's.
		one := strings.TrimPrefix(example(t, all, "flavor", "vcpus"), "<?xml version='1.0' encoding='UTF-8'?>")
		check(t, get("/v2/flavors/detail"), http.StatusOK,
			`<flavors xmlns:atom="`+v2xml.NSAtom+`" xmlns="`+v2xml.NSCompute+`">`+one+`</flavors>`)
		check(t, get("/v2/flavors/1"), http.StatusOK, example(t, all, "flavor", "vcpus"))
	})

	t.Run("images", func(t *testing.T) {
		check(t, get("/v2/images"), http.StatusOK, example(t, all, "images"))
		check(t, get("/v2/images/detail"), http.StatusOK, example(t, all, "images", "minDisk"))
		check(t, get("/v2/images/"+cloud.ImageID), http.StatusOK, example(t, all, "image", "minDisk"))
		img := "/v2/images/" + cloud.ImageID + "/metadata"
		m := example(t, all, "metadata", "Changed")
		check(t, xmlReq(c, http.MethodPost, img, m), http.StatusOK, m)
		check(t, xmlReq(c, http.MethodPut, img, example(t, all, "metadata", "UpdatedImage")), http.StatusOK, example(t, all, "metadata", "UpdatedImage"))
		check(t, get(img), http.StatusOK, example(t, all, "metadata", "kernel_id"))
		// The document shows the item calls with whole <metadata>
		// examples; the API's item is one <meta>, as for servers.
		item := `<meta xmlns="` + v2xml.NSCompute + `" key="Label">Item</meta>`
		check(t, xmlReq(c, http.MethodPut, img+"/Label", item), http.StatusOK, item)
		if got := check(t, get(img+"/Label"), http.StatusOK, item); got.Text != "Item" {
			t.Errorf("image meta Label: %q", got.Text)
		}
		xmlReq(c, http.MethodDelete, img+"/Label", "").Expect(t, http.StatusNoContent)
	})

	t.Run("limits", func(t *testing.T) {
		// Rates are another change's; the absolute part is compared.
		check(t, get("/v2/limits"), http.StatusOK, example(t, all, "limits"), "limits/rates/rate")
	})

	t.Run("version", func(t *testing.T) {
		got := parse(t, string(get("/v2/").Expect(t, http.StatusOK).Body))
		if got.XMLName != (xml.Name{Space: v2xml.NSCommon, Local: "version"}) {
			t.Errorf("version document: %v", got.XMLName)
		}
	})

	t.Run("fault", func(t *testing.T) {
		r := get("/v2/servers/00000000-0000-0000-0000-000000000000").Expect(t, http.StatusNotFound)
		got := parse(t, string(r.Body))
		if got.XMLName != (xml.Name{Space: v2xml.NSCompute, Local: "itemNotFound"}) || attrs(got)[xml.Name{Local: "code"}] != "404" ||
			len(got.Children) != 1 || got.Children[0].XMLName.Local != "message" || got.Children[0].Text == "" {
			t.Errorf("fault: %s", r.Body)
		}
	})

	t.Run("401", func(t *testing.T) {
		r := c.As("", "").Do(http.MethodGet, "/v2/servers.xml", nil).Expect(t, http.StatusUnauthorized)
		r.JSON(t)
	})

	t.Run("json default", func(t *testing.T) {
		for _, r := range []*apitest.Response{c.Do(http.MethodGet, "/v2/flavors", nil), c.Do(http.MethodGet, "/v2/flavors.json", nil, "Accept", "application/xml"),
			c.Do(http.MethodGet, "/v2/flavors", nil, "Accept", "application/json, application/xml")} {
			r.Expect(t, http.StatusOK).JSON(t)
		}
	})
}

// TestBadDocuments: malformed XML, DTDs and entities are 400s, in XML
// for a client that asks for it; /v2.1 answers as Nova does today.
func TestBadDocuments(t *testing.T) {
	t.Parallel()
	cloud := apptest.New(t, apptest.Options{})
	c := cloud.Admin
	for name, body := range map[string]string{
		"malformed":  `<server name="x"`,
		"two roots":  `<a/><b/>`,
		"doctype":    `<?xml version="1.0"?><!DOCTYPE server [<!ENTITY x SYSTEM "file:///etc/passwd">]><server name="&x;"/>`,
		"entity":     `<!ENTITY a "aaaa"><server name="&a;"/>`,
		"bomb":       `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><server name="&lol2;"/>`,
		"undeclared": `<server name="&undeclared;"/>`,
	} {
		t.Run(name, func(t *testing.T) {
			r := xmlReq(c, http.MethodPost, "/v2/servers", body).Expect(t, http.StatusBadRequest)
			got := parse(t, string(r.Body))
			if got.XMLName.Local != "badRequest" || len(got.Children) != 1 || got.Children[0].Text != "Malformed request body" {
				t.Errorf("answer: %s", r.Body)
			}
			r = c.Do(http.MethodPost, "/v2/servers", body, "Content-Type", "application/xml").Expect(t, http.StatusBadRequest)
			if r.JSON(t)["badRequest"] == nil {
				t.Errorf("JSON answer: %s", r.Body)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		small := apptest.New(t, apptest.Options{Configure: func(c *app.Config) { c.MaxBodyBytes = 1 << 10 }})
		body := `<server name="` + strings.Repeat("x", 2<<10) + `"/>`
		r := xmlReq(small.Admin, http.MethodPost, "/v2/servers", body).Expect(t, http.StatusRequestEntityTooLarge)
		if got := parse(t, string(r.Body)); got.XMLName.Local != "overLimit" {
			t.Errorf("answer: %s", r.Body)
		}
	})
	t.Run("v2.1", func(t *testing.T) {
		r := c.Do(http.MethodGet, "/v2.1/flavors", nil, "Accept", "application/xml").Expect(t, http.StatusOK)
		r.JSON(t)
		r = xmlReq(c, http.MethodPost, "/v2.1/servers", `<server name="x"/>`).Expect(t, http.StatusUnsupportedMediaType)
		if f, _ := r.JSON(t)["badMediaType"].(map[string]any); f["message"] != "Unsupported Content-Type" {
			t.Errorf("v2.1 XML body: %s", r.Body)
		}
		c.Do(http.MethodGet, "/v2.1/flavors.xml", nil).Expect(t, http.StatusNotFound)
	})
}

// TestLimitsRatesFromTheDocument renders the document's JSON limits (the
// rate section another change fills in) and compares every element and
// value with the document's XML.
func TestLimitsRatesFromTheDocument(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(apisamples.Root(t)), seedDoc))
	if err != nil {
		t.Skipf("seed document not available: %v", err)
	}
	var js string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, `{ "limits"`) {
			js = line
			break
		}
	}
	got, err := v2xml.Render(v2xml.Context{Status: http.StatusOK, Path: "/limits"}, []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	var flat func(e elem) []string
	flat = func(e elem) []string {
		a := attrs(e)
		names := make([]string, 0, len(a))
		for n, v := range a {
			names = append(names, n.Local+"="+v)
		}
		sort.Strings(names)
		out := []string{e.XMLName.Space + " " + e.XMLName.Local + " " + strings.Join(names, " ")}
		for _, c := range e.Children {
			out = append(out, flat(c)...)
		}
		return out
	}
	g, w := flat(parse(t, string(got))), flat(parse(t, example(t, examples(t), "limits")))
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("limits:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}
