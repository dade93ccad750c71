package networking_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestTags(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		subID := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.1.0.0/24"})["id"].(string)
		for _, res := range []struct{ path, key string }{{"/networking/v2.0/networks/" + netID, "network"}, {"/networking/v2.0/subnets/" + subID, "subnet"}} {
			tags := func() string {
				t.Helper()
				r := c.member.Do("GET", res.path+"/tags", nil).Expect(t, http.StatusOK)
				var got []string
				for _, v := range r.JSON(t)["tags"].([]any) {
					got = append(got, v.(string))
				}
				return strings.Join(got, ",")
			}
			steps := []struct {
				method, path string
				body         any
				status       int
				want         string // the tags after
			}{
				{"PUT", "/tags", map[string]any{"tags": []string{"b", "a"}}, http.StatusOK, "a,b"},
				{"PUT", "/tags/c", nil, http.StatusCreated, "a,b,c"},
				{"PUT", "/tags/c", nil, http.StatusCreated, "a,b,c"},
				{"GET", "/tags/c", nil, http.StatusNoContent, "a,b,c"},
				{"GET", "/tags/zz", nil, http.StatusNotFound, "a,b,c"},
				{"DELETE", "/tags/a", nil, http.StatusNoContent, "b,c"},
				{"DELETE", "/tags/a", nil, http.StatusNotFound, "b,c"},
				{"POST", "/tags", map[string]any{"tags": []string{"d"}}, http.StatusCreated, "b,c,d"},
				{"PUT", "/tags", map[string]any{"tags": []string{"x", "x"}}, http.StatusBadRequest, "b,c,d"},
				{"PUT", "/tags", map[string]any{"tag": []string{"x"}}, http.StatusBadRequest, "b,c,d"},
				{"PUT", "/tags/" + strings.Repeat("t", 256), nil, http.StatusBadRequest, "b,c,d"},
				{"DELETE", "/tags", nil, http.StatusNoContent, ""},
				{"PUT", "/tags", map[string]any{"tags": []string{"red", "blue"}}, http.StatusOK, "blue,red"},
			}
			for _, s := range steps {
				r := c.member.Do(s.method, res.path+s.path, s.body)
				if r.Status != s.status {
					t.Errorf("%s %s%s: %d, want %d: %s", s.method, res.key, s.path, r.Status, s.status, r.Body)
				}
				if got := tags(); got != s.want {
					t.Errorf("after %s %s%s: tags %q, want %q", s.method, res.key, s.path, got, s.want)
				}
			}
			wantError(t, c.member.Do("DELETE", res.path+"/tags/nope", nil), 404, "TagNotFound", "Tag nope could not be found.")
			wantError(t, c.reader.Do("PUT", res.path+"/tags/x", nil), 403, "PolicyNotAuthorized", "(rule:update_"+res.key+":tags) is disallowed by policy")
			wantError(t, c.other.Do("GET", res.path+"/tags", nil), 404, strings.ToUpper(res.key[:1])+res.key[1:]+"NotFound", "")
			// Tags show in the object and bump its revision.
			o := obj(t, c.member.Do("GET", res.path, nil).Expect(t, http.StatusOK), res.key)
			if got := o["tags"].([]any); len(got) != 2 || o["revision_number"].(float64) < 5 {
				t.Errorf("%s after tagging: %v", res.key, o)
			}
		}
		// Tag filters on lists.
		net2 := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n2"})["id"].(string)
		c.member.Do("PUT", "/networking/v2.0/networks/"+net2+"/tags", map[string]any{"tags": []string{"red", "green"}}).Expect(t, http.StatusOK)
		for query, want := range map[string][]string{
			"tags=red":               {"n", "n2"},
			"tags=red,blue":          {"n"},
			"tags-any=green,blue":    {"n", "n2"},
			"not-tags=red,blue":      {"n2", "private", "public"},
			"not-tags-any=green":     {"n", "private", "public"},
			"tags=red&name=n2":       {"n2"},
			"tags=red&tags=green":    {"n2"},
			"not-tags-any=red,green": {"private", "public"},
		} {
			got := names(list(t, c.member.Do("GET", "/networking/v2.0/networks?"+query, nil).Expect(t, http.StatusOK), "networks"))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("networks?%s: %v, want %v", query, got, want)
			}
		}
	})
}

// The list machinery over HTTP: paging links are absolute URLs a client
// follows, and fields cut the objects.
func TestNetworkListPaging(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	for _, n := range []string{"a", "b", "c"} {
		create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": n})
	}
	var seen []string
	next := "/networking/v2.0/networks?limit=2&sort_key=name&sort_dir=asc&fields=name"
	for range 5 {
		r := c.member.Do("GET", next, nil).Expect(t, http.StatusOK)
		page := list(t, r, "networks")
		for _, n := range page {
			if len(n) != 1 {
				t.Errorf("fields=name gave %v", n)
			}
		}
		seen = append(seen, names(page)...)
		next = ""
		links, _ := r.JSON(t)["networks_links"].([]any)
		for _, l := range links {
			if l.(map[string]any)["rel"] == "next" {
				next = strings.TrimPrefix(l.(map[string]any)["href"].(string), "http://example.com")
			}
		}
		if next == "" || len(page) == 0 {
			break
		}
	}
	if want := []string{"a", "b", "c", "private", "public"}; !slices.Equal(seen, want) {
		t.Errorf("pages gave %v, want %v", seen, want)
	}
}
