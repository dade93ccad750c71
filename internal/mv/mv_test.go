package mv_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/mv"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want mv.Version
		ok   bool
	}{
		{"2.1", mv.Version{Major: 2, Minor: 1}, true},
		{"2.104", mv.Version{Major: 2, Minor: 104}, true},
		{" 2.10 ", mv.Version{Major: 2, Minor: 10}, true},
		{"3.0", mv.Version{Major: 3, Minor: 0}, true},
		{"2", mv.Version{}, false},
		{"2.", mv.Version{}, false},
		{".1", mv.Version{}, false},
		{"2.01", mv.Version{}, false},
		{"02.1", mv.Version{}, false},
		{"0.1", mv.Version{}, false},
		{"2.-1", mv.Version{}, false},
		{"+2.1", mv.Version{}, false},
		{"2.x", mv.Version{}, false},
		{"2.1.1", mv.Version{}, false},
		{"latest", mv.Version{}, false},
	}
	for _, c := range cases {
		got, err := mv.Parse(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	v := mv.Version{Major: 2, Minor: 55}
	cases := []struct {
		o       mv.Version
		atLeast bool
	}{
		{mv.V2_1, true}, {mv.V2_54, true}, {mv.V2_55, true}, {mv.V2_56, false}, {mv.Version{Major: 3}, false},
		{mv.Version{Major: 1, Minor: 99}, true},
	}
	for _, c := range cases {
		if got := v.AtLeast(c.o); got != c.atLeast {
			t.Errorf("2.55.AtLeast(%v) = %v", c.o, got)
		}
	}
	if !(mv.Version{Major: 2, Minor: 9}).Less(mv.Version{Major: 2, Minor: 10}) {
		t.Error("2.9 should be older than 2.10 (numeric, not lexical)")
	}
	if v.String() != "2.55" {
		t.Errorf("String() = %q", v.String())
	}
}

func TestSupported(t *testing.T) {
	t.Parallel()
	r := mv.Supported()
	if r.Min != (mv.Version{Major: 2, Minor: 1}) {
		t.Errorf("minimum %v, want 2.1", r.Min)
	}
	if r.Max.Less(r.Min) {
		t.Errorf("maximum %v below minimum", r.Max)
	}
	if !r.Contains(r.Min) || !r.Contains(r.Max) || r.Contains(mv.Version{Major: 2, Minor: 0}) {
		t.Errorf("Contains is not inclusive of exactly [%v, %v]", r.Min, r.Max)
	}
}

func TestRequested(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		headers map[string][]string
		want    string
	}{
		{"none", nil, ""},
		{"new style", map[string][]string{"Openstack-Api-Version": {"compute 2.50"}}, "2.50"},
		{"new style among services", map[string][]string{"Openstack-Api-Version": {"volume 3.5, compute 2.12"}}, "2.12"},
		{"new style repeated header", map[string][]string{"Openstack-Api-Version": {"volume 3.5", "compute 2.13"}}, "2.13"},
		{"service name case", map[string][]string{"Openstack-Api-Version": {"Compute 2.14"}}, "2.14"},
		{"legacy", map[string][]string{"X-Openstack-Nova-Api-Version": {"2.20"}}, "2.20"},
		{"new wins over legacy", map[string][]string{"Openstack-Api-Version": {"compute 2.30"}, "X-Openstack-Nova-Api-Version": {"2.20"}}, "2.30"},
		{"other service falls back to legacy", map[string][]string{"Openstack-Api-Version": {"volume 3.5"}, "X-Openstack-Nova-Api-Version": {"2.21"}}, "2.21"},
		{"latest", map[string][]string{"Openstack-Api-Version": {"compute latest"}}, "latest"},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, vs := range c.headers {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		if got := mv.Requested(h); got != c.want {
			t.Errorf("%s: Requested = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	r := mv.Range{Min: mv.Version{Major: 2, Minor: 1}, Max: mv.Version{Major: 2, Minor: 90}}
	cases := []struct {
		requested string
		want      mv.Version
		err       error
		msg       string
	}{
		{"", r.Min, nil, ""},
		{"latest", r.Max, nil, ""},
		{"LATEST", r.Max, nil, ""},
		{"2.60", mv.Version{Major: 2, Minor: 60}, nil, ""},
		{"2.91", mv.Version{Major: 2, Minor: 91}, mv.ErrUnsupported, "Version 2.91 is not supported by the API. Minimum is 2.1 and maximum is 2.90."},
		{"2.0", mv.Version{Major: 2, Minor: 0}, mv.ErrUnsupported, "Version 2.0 is not supported by the API. Minimum is 2.1 and maximum is 2.90."},
		{"3.0", mv.Version{Major: 3, Minor: 0}, mv.ErrUnsupported, "Version 3.0 is not supported"},
		{"2.x", mv.Version{}, mv.ErrMalformed, "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum."},
		{"garbage", mv.Version{}, mv.ErrMalformed, "API Version String garbage is of invalid format."},
		// Well formed but past an int (found by FuzzParse): Nova's
		// Python integers parse it, and it is not supported.
		{"2.99999999999999999999", mv.Version{}, mv.ErrUnsupported, "Version 2.99999999999999999999 is not supported by the API."},
		{" 99999999999999999999.0 ", mv.Version{}, mv.ErrUnsupported, "Version 99999999999999999999.0 is not supported by the API."},
	}
	for _, c := range cases {
		got, err := r.Negotiate(c.requested)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("Negotiate(%q) = %v, %v; want %v, %v", c.requested, got, err, c.want, c.err)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Negotiate(%q) message %q, want %q", c.requested, err, c.msg)
		}
	}
}

func TestSetResponseHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	mv.SetResponseHeaders(h, mv.Version{Major: 2, Minor: 42})
	if h.Get("OpenStack-API-Version") != "compute 2.42" || h.Get("X-OpenStack-Nova-API-Version") != "2.42" {
		t.Errorf("version headers %v", h)
	}
	vary := strings.Join(h.Values("Vary"), ",")
	if !strings.Contains(vary, "OpenStack-API-Version") || !strings.Contains(vary, "X-OpenStack-Nova-API-Version") {
		t.Errorf("Vary %q", vary)
	}
}
