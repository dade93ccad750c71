package image

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

const nsPath = "/image/v2/metadefs/namespaces"

// sampleBody reads an api-ref request sample as raw JSON.
func sampleBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apisamples.Root(t), glanceV2+name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compareSample(t *testing.T, sample string, body []byte, o apisamples.Options) {
	t.Helper()
	if diffs := apisamples.Compare(apisamples.Load(t, glanceV2+sample), body, o); len(diffs) > 0 {
		t.Errorf("response differs from %s: %v\nbody: %s", sample, diffs, body)
	}
}

// TestMetadefSamples walks a namespace's life with the api-ref's
// requests and compares each answer with its sample.
func TestMetadefSamples(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, _, admin := clients(t, db)
		r := admin.Do("POST", nsPath, sampleBody(t, "metadef-namespace-create-request.json")).Expect(t, http.StatusCreated)
		// The sample predates Glance showing the owner and times.
		compareSample(t, "metadef-namespace-create-response.json", r.Body, apisamples.Options{Extra: []string{"owner", "created_at", "updated_at"}})
		if loc := r.Header.Get("Location"); loc != "/v2/metadefs/namespaces/OS::Compute::Hypervisor" {
			t.Errorf("Location %q", loc)
		}
		ns := nsPath + "/OS::Compute::Hypervisor"
		r = admin.Do("GET", nsPath, nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-namespaces-list-response.json", r.Body, apisamples.Options{Optional: []string{"next"}})

		r = admin.Do("POST", ns+"/objects", sampleBody(t, "metadef-object-create-request.json")).Expect(t, http.StatusCreated)
		compareSample(t, "metadef-object-create-response.json", r.Body, apisamples.Options{})
		r = admin.Do("GET", ns+"/objects", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-objects-list-response.json", r.Body, apisamples.Options{Extra: []string{"objects[].updated_at"}})
		r = admin.Do("GET", ns+"/objects/CPU%20Limits", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-object-details-response.json", r.Body, apisamples.Options{})
		r = admin.Do("PUT", ns+"/objects/CPU%20Limits", sampleBody(t, "metadef-object-update-request.json")).Expect(t, http.StatusOK)
		compareSample(t, "metadef-object-update-response.json", r.Body, apisamples.Options{})

		// The namespace has the sample's property already: the property
		// samples go to another.
		admin.Do("POST", nsPath, map[string]any{"namespace": "props"}).Expect(t, http.StatusCreated)
		admin.Do("POST", ns+"/properties", sampleBody(t, "metadef-property-create-request.json")).Expect(t, http.StatusConflict)
		props := nsPath + "/props"
		r = admin.Do("POST", props+"/properties", sampleBody(t, "metadef-property-create-request.json")).Expect(t, http.StatusCreated)
		compareSample(t, "metadef-property-create-response.json", r.Body, apisamples.Options{})
		r = admin.Do("PUT", props+"/properties/hypervisor_type", sampleBody(t, "metadef-property-update-request.json")).Expect(t, http.StatusOK)
		compareSample(t, "metadef-property-update-response.json", r.Body, apisamples.Options{})
		r = admin.Do("GET", props+"/properties/hypervisor_type", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-property-details-response.json", r.Body, apisamples.Options{})

		r = admin.Do("POST", ns+"/tags", sampleBody(t, "metadef-tags-create-request.json")).Expect(t, http.StatusCreated)
		compareSample(t, "metadef-tags-create-response.json", r.Body, apisamples.Options{})
		r = admin.Do("POST", ns+"/tags/added-sample-tag", nil).Expect(t, http.StatusCreated)
		compareSample(t, "metadef-tag-create-response.json", r.Body, apisamples.Options{})
		r = admin.Do("PUT", ns+"/tags/added-sample-tag", sampleBody(t, "metadef-tag-update-request.json")).Expect(t, http.StatusOK)
		compareSample(t, "metadef-tag-update-response.json", r.Body, apisamples.Options{})
		r = admin.Do("GET", ns+"/tags/new-tag-name", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-tag-details-response.json", r.Body, apisamples.Options{})
		r = admin.Do("GET", ns+"/tags", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-tags-list-response.json", r.Body, apisamples.Options{Extra: []string{"tags[].created_at", "tags[].updated_at"}})

		r = admin.Do("POST", ns+"/resource_types", sampleBody(t, "metadef-resource-type-create-request.json")).Expect(t, http.StatusCreated)
		compareSample(t, "metadef-resource-type-assoc-create-response.json", r.Body, apisamples.Options{})
		r = admin.Do("GET", ns+"/resource_types", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-resource-type-assoc-list-response.json", r.Body, apisamples.Options{
			Optional: []string{"resource_type_associations[].prefix"},
			Extra:    []string{"resource_type_associations[].properties_target", "resource_type_associations[].updated_at"}})
		r = admin.Do("GET", "/image/v2/metadefs/resource_types", nil).Expect(t, http.StatusOK)
		compareSample(t, "metadef-resource-types-list-response.json", r.Body, apisamples.Options{})

		v := admin.Do("GET", ns, nil).Expect(t, http.StatusOK).JSON(t)
		for _, k := range []string{"objects", "properties", "tags", "resource_type_associations"} {
			if _, ok := v[k]; !ok {
				t.Errorf("namespace shows no %s: %v", k, v)
			}
		}
		// With a resource type, property names take its prefix.
		v = admin.Do("GET", ns+"?resource_type=OS::Cinder::Volume", nil).Expect(t, http.StatusOK).JSON(t)
		if _, ok := v["properties"].(map[string]any)["hw_hypervisor_type"]; !ok {
			t.Errorf("prefixed properties: %v", v["properties"])
		}
		admin.Do("GET", ns+"/properties/hw_hypervisor_type?resource_type=OS::Cinder::Volume", nil).Expect(t, http.StatusOK)
		admin.Do("GET", ns+"/properties/hypervisor_type?resource_type=OS::Cinder::Volume", nil).Expect(t, http.StatusNotFound)

		r = admin.Do("PUT", ns, sampleBody(t, "metadef-namespace-update-request.json")).Expect(t, http.StatusOK)
		compareSample(t, "metadef-namespace-update-response.json", r.Body, apisamples.Options{})
		admin.Do("DELETE", ns, nil).Expect(t, http.StatusNoContent)
		admin.Do("GET", ns, nil).Expect(t, http.StatusNotFound)
	})
}

// TestMetadefSchemas checks each schema document against its sample, as
// it is: clients validate with them.
func TestMetadefSchemas(t *testing.T) {
	t.Parallel()
	owner, _, _ := clients(t, storetest.SQLite(t))
	for name, sample := range map[string]string{
		"namespace": "namespace-show", "namespaces": "namespaces-list", "object": "object-show", "objects": "objects-list",
		"property": "property-show", "properties": "properties-list", "tag": "tag-show", "tags": "tags-list",
		"resource_type": "resource-type-association-show", "resource_types": "resource-type-associations-list",
	} {
		r := owner.Do("GET", "/image/v2/schemas/metadefs/"+name, nil).Expect(t, http.StatusOK)
		var got any
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if want := apisamples.Load(t, glanceV2+"schemas-metadef-"+sample+"-response.json"); !reflect.DeepEqual(got, want) {
			t.Errorf("schema %s differs from its sample:\n%s", name, r.Body)
		}
	}
}

// TestMetadefAccess checks who may do what: admins write, readers see
// public namespaces and their own project's, and a namespace they do not
// see is not found.
func TestMetadefAccess(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		owner, other, admin := clients(t, db)
		admin.Do("POST", nsPath, map[string]any{"namespace": "pub", "visibility": "public"}).Expect(t, http.StatusCreated)
		admin.Do("POST", nsPath, map[string]any{"namespace": "priv"}).Expect(t, http.StatusCreated)
		admin.Do("POST", nsPath, map[string]any{"namespace": "p1s", "owner": "p1", "protected": true}).Expect(t, http.StatusCreated)
		cases := []struct {
			name   string
			c      *apitest.Client
			method string
			path   string
			body   any
			status int
			text   string
		}{
			{"reader creates", owner, "POST", nsPath, map[string]any{"namespace": "x"}, 403, "add_metadef_namespace"},
			{"reader reads public", other, "GET", nsPath + "/pub", nil, 200, ""},
			{"reader reads own private", owner, "GET", nsPath + "/p1s", nil, 200, ""},
			{"other project's private", other, "GET", nsPath + "/p1s", nil, 404, "Metadata definition namespace=p1s was not found."},
			{"admin's private", owner, "GET", nsPath + "/priv/objects", nil, 404, "Namespace priv not found"},
			{"write on hidden namespace", other, "DELETE", nsPath + "/p1s", nil, 404, "Namespace p1s not found"},
			{"write on visible namespace", owner, "DELETE", nsPath + "/pub", nil, 403, "delete_metadef_namespace"},
			{"protected", admin, "DELETE", nsPath + "/p1s", nil, 403, "Metadata definition namespace p1s is protected and cannot be deleted."},
			{"protected contents", admin, "DELETE", nsPath + "/p1s/tags", nil, 403, "is protected"},
			{"duplicate", admin, "POST", nsPath, map[string]any{"namespace": "pub"}, 409, "The metadata definition namespace=pub already exists."},
			{"read-only attribute", admin, "POST", nsPath, map[string]any{"namespace": "y", "created_at": "x"}, 403, "Attribute 'created_at' is read-only."},
			{"bad visibility", admin, "POST", nsPath, map[string]any{"namespace": "y", "visibility": "shared"}, 400, "Provided object does not match schema 'namespace'"},
			{"unknown attribute", admin, "POST", nsPath, map[string]any{"namespace": "y", "color": "red"}, 400, "Additional properties are not allowed ('color' was unexpected)"},
			{"no name", admin, "POST", nsPath, map[string]any{}, 400, "'namespace' is a required property"},
			{"bad list visibility", owner, "GET", nsPath + "?visibility=shared", nil, 400, "Invalid visibility value: shared"},
			{"bad sort dir", owner, "GET", nsPath + "?sort_dir=up", nil, 400, "Invalid sort direction: up"},
			{"bad limit", owner, "GET", nsPath + "?limit=x", nil, 400, "limit param must be an integer"},
			{"property without title", admin, "POST", nsPath + "/pub/properties", map[string]any{"name": "a", "type": "string"}, 400, "'title' is a required property"},
			{"property of no type", admin, "POST", nsPath + "/pub/properties", map[string]any{"name": "a", "title": "A", "type": "text"}, 400, "'text' is not one of"},
			{"property with extra keyword", admin, "POST", nsPath + "/pub/properties", map[string]any{"name": "a", "title": "A", "type": "string", "color": 1}, 400, "Additional properties are not allowed"},
			{"negative maxLength", admin, "POST", nsPath + "/pub/properties", map[string]any{"name": "a", "title": "A", "type": "string", "maxLength": -1}, 400, "less than the minimum"},
			{"object property without type", admin, "POST", nsPath + "/pub/objects", map[string]any{"name": "o", "properties": map[string]any{"p": map[string]any{"title": "P"}}}, 400, "'type' is a required property"},
			{"missing object", owner, "GET", nsPath + "/pub/objects/nope", nil, 404, "The metadata definition object with name=nope was not found in namespace=pub."},
			{"missing tag", owner, "GET", nsPath + "/pub/tags/nope", nil, 404, "The metadata definition tag with name=nope was not found in namespace=pub."},
			{"dissociate unknown type", admin, "DELETE", nsPath + "/pub/resource_types/Nope", nil, 404, "resource-type with name=Nope"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := c.c.Do(c.method, c.path, c.body).Expect(t, c.status)
				if !strings.Contains(string(r.Body), c.text) {
					t.Errorf("body %q lacks %q", r.Body, c.text)
				}
			})
		}
		// The listing shows what each caller sees.
		names := func(c *apitest.Client, query string) []string {
			var out []string
			for _, n := range c.Do("GET", nsPath+query, nil).Expect(t, 200).JSON(t)["namespaces"].([]any) {
				out = append(out, n.(map[string]any)["namespace"].(string))
			}
			return out
		}
		if got := names(owner, "?sort_key=namespace&sort_dir=asc"); !reflect.DeepEqual(got, []string{"p1s", "pub"}) {
			t.Errorf("p1 lists %v", got)
		}
		if got := names(other, ""); !reflect.DeepEqual(got, []string{"pub"}) {
			t.Errorf("p2 lists %v", got)
		}
		if got := names(admin, "?visibility=private&sort_key=namespace&sort_dir=desc"); !reflect.DeepEqual(got, []string{"priv", "p1s"}) {
			t.Errorf("admin lists private %v", got)
		}
		// Paging: limit, next link, marker.
		page := admin.Do("GET", nsPath+"?limit=2&sort_key=namespace&sort_dir=asc", nil).Expect(t, 200).JSON(t)
		next, _ := page["next"].(string)
		if len(page["namespaces"].([]any)) != 2 || !strings.Contains(next, "marker=priv") {
			t.Fatalf("first page %v", page)
		}
		if got := names(admin, strings.TrimPrefix(next, "/v2/metadefs/namespaces")); !reflect.DeepEqual(got, []string{"pub"}) {
			t.Errorf("second page %v", got)
		}
	})
}

// TestMetadefTagsBulk checks POST /tags replaces the tags unless the
// caller asks to append, and that tag names are unique without regard
// to case.
func TestMetadefTagsBulk(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, _, admin := clients(t, db)
		admin.Do("POST", nsPath, map[string]any{"namespace": "t"}).Expect(t, http.StatusCreated)
		tags := func() []string {
			var out []string
			for _, tag := range admin.Do("GET", nsPath+"/t/tags?sort_key=name&sort_dir=asc", nil).Expect(t, 200).JSON(t)["tags"].([]any) {
				out = append(out, tag.(map[string]any)["name"].(string))
			}
			return out
		}
		bulk := func(names ...string) map[string]any {
			var ts []map[string]any
			for _, n := range names {
				ts = append(ts, map[string]any{"name": n})
			}
			return map[string]any{"tags": ts}
		}
		for _, c := range []struct {
			name    string
			body    map[string]any
			headers []string
			status  int
			want    []string
		}{
			{"create", bulk("a", "b"), nil, 201, []string{"a", "b"}},
			{"replace", bulk("c"), nil, 201, []string{"c"}},
			{"append", bulk("d"), []string{"X-Openstack-Append", "True"}, 201, []string{"c", "d"}},
			{"append a duplicate", bulk("C"), []string{"X-Openstack-Append", "true"}, 409, []string{"c", "d"}},
			{"duplicates in the request", bulk("e", "E"), nil, 409, []string{"c", "d"}},
		} {
			admin.Do("POST", nsPath+"/t/tags", c.body, c.headers...).Expect(t, c.status)
			if got := tags(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: tags %v, want %v", c.name, got, c.want)
			}
		}
		admin.Do("GET", nsPath+"/t/tags/D", nil).Expect(t, 200)
		admin.Do("POST", nsPath+"/t/tags/D", nil).Expect(t, 409)
		admin.Do("DELETE", nsPath+"/t/tags", nil).Expect(t, 204)
		if got := tags(); len(got) != 0 {
			t.Errorf("tags after delete all: %v", got)
		}
	})
}

// TestMetadefSeed compares the seeded OS::Compute::Libvirt with the
// api-ref's, and checks the seed is public, protected and there once.
func TestMetadefSeed(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := image.New(db, filepath.Join(t.TempDir(), "images"))
	for range 2 {
		if err := svc.SeedMetadefs(context.Background(), "admin"); err != nil {
			t.Fatal(err)
		}
	}
	c := apitest.New(t, NewService(svc, api.Options{Auth: auth.NoAuth{}})).As("u1:p1", "")
	r := c.Do("GET", nsPath+"/OS::Compute::Libvirt", nil).Expect(t, http.StatusOK)
	compareSample(t, "metadef-namespace-details-response.json", r.Body, apisamples.Options{
		Extra: []string{"updated_at", "resource_type_associations[].updated_at"}})
	list := c.Do("GET", nsPath+"?resource_types=OS::Nova::Flavor&limit=100", nil).Expect(t, http.StatusOK).JSON(t)
	seen := map[string]bool{}
	for _, n := range list["namespaces"].([]any) {
		ns := n.(map[string]any)
		if ns["visibility"] != "public" || ns["protected"] != true || ns["owner"] != "admin" || seen[ns["namespace"].(string)] {
			t.Errorf("seeded namespace %v", ns)
		}
		seen[ns["namespace"].(string)] = true
	}
	if !seen["OS::Compute::Watchdog"] || seen["OS::Glance::CommonImageProperties"] {
		t.Errorf("namespaces for flavors: %v", seen)
	}
	rts := c.Do("GET", "/image/v2/metadefs/resource_types", nil).Expect(t, http.StatusOK).JSON(t)["resource_types"].([]any)
	if len(rts) != 4 || rts[0].(map[string]any)["name"] != "OS::Cinder::Volume" {
		t.Errorf("resource types %v", rts)
	}
	c.Do("GET", nsPath+"/OS::Compute::VirtCPUTopology/properties/hw:cpu_cores?resource_type=OS::Nova::Flavor", nil).Expect(t, http.StatusOK)
}
