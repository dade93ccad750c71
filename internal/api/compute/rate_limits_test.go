package compute_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// documentRate is the "rate" section of the Compute API v2 document's
// GET /limits example, but for its os-fping rule (kumo serves none).
const documentRate = `[
 { "limit": [ { "next-available": "2012-11-27T17:22:18Z", "remaining": 120, "unit": "MINUTE", "value": 120, "verb": "POST" },
   { "next-available": "2012-11-27T17:22:18Z", "remaining": 120, "unit": "MINUTE", "value": 120, "verb": "PUT" },
   { "next-available": "2012-11-27T17:22:18Z", "remaining": 120, "unit": "MINUTE", "value": 120, "verb": "DELETE" } ],
   "regex": ".*", "uri": "*" },
 { "limit": [ { "next-available": "2012-11-27T17:22:18Z", "remaining": 120, "unit": "MINUTE", "value": 120, "verb": "POST" } ],
   "regex": "^/servers", "uri": "*/servers" },
 { "limit": [ { "next-available": "2012-11-27T17:22:18Z", "remaining": 120, "unit": "MINUTE", "value": 120, "verb": "GET" } ],
   "regex": ".*changes-since.*", "uri": "*changes-since*" } ]`

// documentRatesXML is the <rates> of the document's XML example, but for
// its os-fping rule.
const documentRatesXML = `<limits xmlns:atom="http://www.w3.org/2005/Atom" xmlns="http://docs.openstack.org/common/api/v1.0"> <rates> <rate regex=".*" uri="*"> <limit next-available="2012-11-27T17:22:18Z" unit="MINUTE" verb="POST" remaining="120" value="120"/> <limit next-available="2012-11-27T17:22:18Z" unit="MINUTE" verb="PUT" remaining="120" value="120"/> <limit next-available="2012-11-27T17:22:18Z" unit="MINUTE" verb="DELETE" remaining="120" value="120"/> </rate> <rate regex="^/servers" uri="*/servers"> <limit next-available="2012-11-27T17:22:18Z" unit="MINUTE" verb="POST" remaining="120" value="120"/> </rate> <rate regex=".*changes-since.*" uri="*changes-since*"> <limit next-available="2012-11-27T17:22:18Z" unit="MINUTE" verb="GET" remaining="120" value="120"/> </rate> </rates></limits>`

// xmlRates is the <rates> of an XML limits document, every
// next-available replaced by the document's after a check of its form.
func xmlRates(t *testing.T, body []byte) any {
	t.Helper()
	var doc struct {
		XMLName xml.Name
		Rates   []struct {
			Regex string `xml:"regex,attr"`
			URI   string `xml:"uri,attr"`
			Limit []struct {
				NextAvailable string `xml:"next-available,attr"`
				Unit          string `xml:"unit,attr"`
				Verb          string `xml:"verb,attr"`
				Remaining     string `xml:"remaining,attr"`
				Value         string `xml:"value,attr"`
			} `xml:"limit"`
		} `xml:"rates>rate"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if doc.XMLName.Space != "http://docs.openstack.org/common/api/v1.0" || doc.XMLName.Local != "limits" {
		t.Errorf("root %v", doc.XMLName)
	}
	for i := range doc.Rates {
		for j := range doc.Rates[i].Limit {
			l := &doc.Rates[i].Limit[j]
			if !isoSecond.MatchString(l.NextAvailable) {
				t.Errorf("next-available %q is not an ISO time in Z", l.NextAvailable)
			}
			l.NextAvailable = "2012-11-27T17:22:18Z"
		}
	}
	return doc.Rates
}

var isoSecond = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// rateSection is /limits' "rate" with every next-available checked for
// its form and replaced by the document's.
func rateSection(t *testing.T, body []byte) []any {
	t.Helper()
	var doc struct {
		Limits struct {
			Rate []any `json:"rate"`
		} `json:"limits"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, g := range doc.Limits.Rate {
		for _, l := range g.(map[string]any)["limit"].([]any) {
			l := l.(map[string]any)
			if s, _ := l["next-available"].(string); !isoSecond.MatchString(s) {
				t.Errorf("next-available %v is not an ISO time in Z", l["next-available"])
			}
			l["next-available"] = "2012-11-27T17:22:18Z"
		}
	}
	return doc.Limits.Rate
}

func TestRateLimitsDocumentTable(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		_, c := newCloud(t, database, computetest.Options{Configure: func(cfg *app.Config) { cfg.RateLimits = "default" }})
		var want []any
		if err := json.Unmarshal([]byte(documentRate), &want); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/v2.1/limits", "/v2/limits", "/v2/p1/limits"} {
			version := "2.1"
			if path != "/v2.1/limits" {
				version = ""
			}
			got := rateSection(t, c.As(userToken, version).Do("GET", path, nil).Expect(t, 200).Body)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				t.Errorf("%s rate:\n%s\nwant the document's:\n%s", path, g, documentRate)
			}
		}
		// And in XML on /v2, as the document's XML example.
		got := xmlRates(t, c.As(userToken, "").Do("GET", "/v2/limits", nil, "Accept", "application/xml").Expect(t, 200).Body)
		if want := xmlRates(t, []byte(documentRatesXML)); !reflect.DeepEqual(got, want) {
			t.Errorf("XML rates %+v, want the document's %+v", got, want)
		}
		// The v2 document's field order, group then limit.
		raw := string(c.As(userToken, "2.1").Do("GET", "/v2.1/limits", nil).Body)
		if !regexp.MustCompile(`"rate":\[\{"limit":\[\{"next-available":"[^"]+","remaining":120,"unit":"MINUTE","value":120,"verb":"POST"\}`).MatchString(raw) {
			t.Errorf("field order differs from the document's: %s", raw)
		}
	})
}

func TestRateLimitsOffByDefault(t *testing.T) {
	t.Parallel()
	_, c := newCloud(t, filepath.Join(t.TempDir(), "kumo.db"), computetest.Options{})
	for _, name := range []string{"a", "b", "c"} {
		c.As(userToken, "2.1").Do("POST", "/v2.1/os-keypairs", `{"keypair": {"name": "`+name+`"}}`).Expect(t, 200)
	}
	body := c.As(userToken, "2.1").Do("GET", "/v2.1/limits", nil).Expect(t, 200).JSON(t)
	if rate := body["limits"].(map[string]any)["rate"].([]any); len(rate) != 0 {
		t.Errorf("rate %v with rate limits off, want []", rate)
	}
}

// TestRateLimitsEnforced: a rules file's limit refuses the request past
// it with Nova's v2 413, counts /v2.1 and /v2 together per project,
// writes nothing for a refused request, and lets requests through again
// in the next window.
func TestRateLimitsEnforced(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		file := filepath.Join(t.TempDir(), "rate.yaml")
		rules := "rate_limits:\n- {verb: POST, uri: '*/os-keypairs', regex: '^/os-keypairs', value: 2, unit: MINUTE}\n"
		if err := os.WriteFile(file, []byte(rules), 0o600); err != nil {
			t.Fatal(err)
		}
		clk := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 10, 0, time.UTC))
		_, c := newCloud(t, database, computetest.Options{Clock: clk, Configure: func(cfg *app.Config) { cfg.RateLimits = file }})
		create := func(path, token, name string) *apitest.Response {
			return c.As(token, "").Do("POST", path, `{"keypair": {"name": "`+name+`"}}`)
		}
		create("/v2.1/os-keypairs", userToken, "a").Expect(t, 200)
		create("/v2/p1/os-keypairs", userToken, "b").Expect(t, 200)
		r := create("/v2.1/os-keypairs", userToken, "c").Expect(t, 413)
		var fault map[string]map[string]any
		if err := json.Unmarshal(r.Body, &fault); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"code": float64(413), "message": "This request was rate-limited.", "retryAfter": "50",
			"details": "Only 2 POST request(s) can be made to */os-keypairs every minute."}
		if !reflect.DeepEqual(fault["overLimit"], want) || len(fault) != 1 {
			t.Errorf("413 body %s, want overLimit %v", r.Body, want)
		}
		if got := r.Header.Get("Retry-After"); got != "50" {
			t.Errorf("Retry-After %q, want 50", got)
		}
		create("/v2/os-keypairs", userToken, "c").Expect(t, 413)
		x := c.As(userToken, "").Do("POST", "/v2/os-keypairs", `{"keypair": {"name": "c"}}`, "Accept", "application/xml").Expect(t, 413)
		if want := `<overLimit code="413" retryAfter="50" xmlns="http://docs.openstack.org/compute/api/v1.1"><message>This request was rate-limited.</message><details>Only 2 POST request(s) can be made to */os-keypairs every minute.</details></overLimit>`; !strings.Contains(string(x.Body), want) || x.Header.Get("Retry-After") != "50" {
			t.Errorf("XML 413 %s (Retry-After %q), want %s", x.Body, x.Header.Get("Retry-After"), want)
		}
		// Nothing written; reads and other projects are not limited.
		c.As(userToken, "2.1").Do("GET", "/v2.1/os-keypairs/c", nil).Expect(t, 404)
		create("/v2.1/os-keypairs", "u2:p2", "c").Expect(t, 200)
		rate := c.As(userToken, "2.1").Do("GET", "/v2.1/limits", nil).Expect(t, 200).JSON(t)["limits"].(map[string]any)["rate"].([]any)
		wantRate := []any{map[string]any{"regex": "^/os-keypairs", "uri": "*/os-keypairs", "limit": []any{map[string]any{
			"next-available": "2026-12-07T12:01:00Z", "remaining": float64(0), "unit": "MINUTE", "value": float64(2), "verb": "POST"}}}}
		if !reflect.DeepEqual(rate, wantRate) {
			t.Errorf("rate %v, want %v", rate, wantRate)
		}
		// ?tenant_id= names the absolute limits' project; rate stays the
		// caller's, as Nova's middleware kept it.
		rate = c.As(adminToken, "2.1").Do("GET", "/v2.1/limits?tenant_id=p1", nil).Expect(t, 200).JSON(t)["limits"].(map[string]any)["rate"].([]any)
		if got := rate[0].(map[string]any)["limit"].([]any)[0].(map[string]any)["remaining"]; got != float64(2) {
			t.Errorf("admin's rate with ?tenant_id=p1: remaining %v, want the admin project's 2", got)
		}
		clk.Advance(50 * time.Second)
		create("/v2.1/os-keypairs", userToken, "c").Expect(t, 200)
	})
}
