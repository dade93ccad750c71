package networking

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
)

var testColl = collection{Name: "things", Sortable: []string{"id", "name", "mtu", "shared"}}

// things are views as a resource would list them.
func things() []view {
	return []view{
		{"id": "a", "name": "web", "mtu": 1500, "shared": false, "tags": []string{"red", "blue"}, "subnets": []string{"s1"}, "gateway_ip": nil},
		{"id": "b", "name": "db", "mtu": 1450, "shared": true, "tags": []string{"red"}, "subnets": []string{}, "gateway_ip": "10.0.0.1"},
		{"id": "c", "name": "web", "mtu": 9000, "shared": false, "tags": []string{}, "subnets": []string{"s2", "s3"}, "gateway_ip": nil},
		{"id": "d", "name": "cache", "mtu": 1450, "shared": true, "tags": []string{"blue", "green"}, "subnets": []string{}, "gateway_ip": nil},
	}
}

func ids(vs []view) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i], _ = v["id"].(string)
	}
	return strings.Join(out, ",")
}

func TestListFiltersSortsAndPages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		query string
		want  string
	}{
		{"", "a,b,c,d"},
		{"name=web", "a,c"},
		{"name=web&name=db", "a,b,c"}, // a repeated key is any of its values
		{"name=web&mtu=9000", "c"},
		{"shared=true", "b,d"},
		{"shared=True", "b,d"},
		{"shared=0", "a,c"},
		{"subnets=s3", "c"},                // a list attribute matches any element
		{"no_such_attribute=x", "a,b,c,d"}, // without filter-validation unknown filters are ignored
		{"name=", "a,b,c,d"},               // empty values are no filter
		{"tags=red", "a,b"},
		{"tags=red,blue", "a"}, // all of
		{"tags=red&tags=blue", "a"},
		{"tags-any=green,red", "a,b,d"},
		{"not-tags=red,blue", "b,c,d"}, // not all of
		{"not-tags-any=red,green", "c"},
		{"sort_key=name&sort_dir=asc", "d,b,a,c"},
		{"sort_key=mtu&sort_dir=desc&sort_key=id&sort_dir=desc", "c,a,d,b"},
		{"sort_key=mtu&sort_dir=asc", "b,d,a,c"}, // ties by id
		{"sort_key=shared&sort_dir=asc", "a,c,b,d"},
		{"limit=2", "a,b"},
		{"limit=2&marker=b", "c,d"},
		{"limit=2&marker=d", ""},
		{"limit=2&marker=zzz", ""}, // a marker not among the items: nothing
		{"limit=2&marker=c&page_reverse=True", "a,b"},
		{"limit=2&page_reverse=true", "c,d"},
		{"limit=0", "a,b,c,d"},                                // 0 is no limit
		{"marker=b", "a,b,c,d"},                               // no marker without a limit
		{"limit=1&sort_key=name&sort_dir=desc&marker=a", "c"}, // web(a), web(c), db, cache
	}
	for _, tc := range cases {
		q, _ := url.ParseQuery(tc.query)
		lq, err := parseListQuery(q, testColl)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		got, _, err := lq.apply(things(), func(url.Values) string { return "" }, q)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if ids(got) != tc.want {
			t.Errorf("%q: %s, want %s", tc.query, ids(got), tc.want)
		}
	}
}

func TestListQueryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ query, want string }{
		{"sort_key=name", "The number of sort_keys and sort_dirs must be same"},
		{"sort_key=color&sort_dir=asc", "['color'] is invalid attribute for sort_keys"},
		{"sort_key=name&sort_dir=up", "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'"},
		{"limit=-1", "Limit must be an integer 0 or greater and not '-1'"},
		{"limit=x", "Limit must be an integer 0 or greater and not 'x'"},
		{"shared=maybe", "Invalid input for operation: 'maybe' cannot be converted to boolean."},
		{"mtu=big", "Invalid input for operation: 'big' is not an integer."},
	}
	for _, tc := range cases {
		q, _ := url.ParseQuery(tc.query)
		lq, err := parseListQuery(q, testColl)
		if err == nil {
			_, _, err = lq.apply(things(), func(url.Values) string { return "" }, q)
		}
		if !errs.Is(err, errs.KindInvalid) || errs.Message(err) != tc.want {
			t.Errorf("%q: %v, want a 400 %q", tc.query, err, tc.want)
		}
	}
}

func TestListLinksAndFields(t *testing.T) {
	t.Parallel()
	link := func(q url.Values) string { return "/v2.0/things?" + q.Encode() }
	cases := []struct {
		query string
		want  []string // rel=href of each link; nil: no links at all
	}{
		{"", nil},
		{"limit=2", []string{"next=/v2.0/things?limit=2&marker=b", "previous=/v2.0/things?limit=2&marker=a&page_reverse=True"}},
		// A short forward page has no next link.
		{"limit=3&marker=b", []string{"previous=/v2.0/things?limit=3&marker=c&page_reverse=True"}},
		// A short reverse page has no previous link.
		{"limit=3&marker=b&page_reverse=True", []string{"next=/v2.0/things?limit=3&marker=a"}},
		{"limit=2&marker=d", []string{"previous=/v2.0/things?limit=2&page_reverse=True"}},
	}
	for _, tc := range cases {
		q, _ := url.ParseQuery(tc.query)
		lq, _ := parseListQuery(q, testColl)
		_, links, err := lq.apply(things(), link, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range links {
			got = append(got, l.Rel+"="+l.Href)
		}
		if (links == nil) != (tc.want == nil) || !slices.Equal(got, tc.want) {
			t.Errorf("%q: links %v, want %v", tc.query, got, tc.want)
		}
	}
	q, _ := url.ParseQuery("fields=name&fields=mtu&fields=nope&sort_key=mtu&sort_dir=asc")
	lq, _ := parseListQuery(q, testColl)
	got, _, _ := lq.apply(things(), link, q)
	for _, v := range got {
		if len(v) != 2 || v["name"] == nil || v["mtu"] == nil {
			t.Errorf("fields=name,mtu gave %v", v)
		}
	}
}
