package blockstorage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/image"
)

// step runs the volume worker until it has nothing left to do.
func (c *cloud) step(t *testing.T) {
	t.Helper()
	if _, err := c.App.VolumeWorker.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestVolumeLifecycle(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		m := c.member.at("3.71")
		r := m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "name": " v1 ", "metadata": map[string]string{"a": "1"}}}).Expect(t, 202)
		v := obj(t, r, "volume")
		id := v["id"].(string)
		if v["status"] != "creating" || v["name"] != "v1" || v["volume_type"] != "__DEFAULT__" || v["consumes_quota"] != true {
			t.Errorf("created %v", v)
		}
		if _, ok := v["os-vol-host-attr:host"]; ok {
			t.Errorf("a member sees the host: %v", v)
		}
		// Cinder's controller extensions extend show and detail only.
		if _, ok := v["os-vol-tenant-attr:tenant_id"]; ok {
			t.Errorf("the create answer has the tenant attribute: %v", v)
		}
		c.step(t)
		v = obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		if v["os-vol-tenant-attr:tenant_id"] != c.member.project {
			t.Errorf("tenant attribute %v", v["os-vol-tenant-attr:tenant_id"])
		}
		if v["status"] != "available" {
			t.Fatalf("after the worker: %v", v)
		}
		links := v["links"].([]any)
		if self := links[0].(map[string]any)["href"]; self != "http://example.com/volume/v3/"+c.member.project+"/volumes/"+id {
			t.Errorf("self link %v", self)
		}
		if bm := links[1].(map[string]any)["href"]; bm != "http://example.com/volume/"+c.member.project+"/volumes/"+id {
			t.Errorf("bookmark link %v", bm)
		}
		// The admin sees the host; the detail at 3.0 lacks later fields.
		av := obj(t, c.admin.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		if av["os-vol-host-attr:host"] == nil || av["migration_status"] != nil {
			t.Errorf("admin view %v", av)
		}
		for _, k := range []string{"group_id", "provider_id", "service_uuid", "shared_targets", "cluster_name", "volume_type_id", "consumes_quota"} {
			if _, ok := av[k]; ok {
				t.Errorf("3.0 shows %s", k)
			}
		}

		list := list(t, m.do("GET", "/volumes", nil).Expect(t, 200), "volumes")
		if len(list) != 1 || len(list[0]) != 3 || list[0]["id"] != id {
			t.Errorf("list %v", list)
		}
		r = m.do("GET", "/volumes/detail?with_count=true&limit=1", nil).Expect(t, 200)
		if r.JSON(t)["count"] != float64(1) || r.JSON(t)["volumes_links"] == nil {
			t.Errorf("detail %s", r.Body)
		}
		fault(t, m.do("GET", "/volumes?bogus=1", nil), 400, "badRequest", "Invalid filters bogus are found in query options.")
		if n := len(list2(t, m.do("GET", "/volumes?name=v1", nil))); n != 1 {
			t.Errorf("name filter: %d", n)
		}

		r = m.do("PUT", "/volumes/"+id, map[string]any{"volume": map[string]any{"name": "v2", "description": "d"}}).Expect(t, 200)
		if v := obj(t, r, "volume"); v["name"] != "v2" || v["description"] != "d" {
			t.Errorf("updated %v", v)
		}
		fault(t, m.do("PUT", "/volumes/"+id, map[string]any{"volume": map[string]any{}}), 400, "badRequest", "Invalid input for field/attribute volume. Value: {}. {} is not valid under any of the given schemas")

		// Metadata.
		m.do("POST", "/volumes/"+id+"/metadata", map[string]any{"metadata": map[string]string{"b": "2"}}).Expect(t, 200)
		md := obj(t, m.do("GET", "/volumes/"+id+"/metadata", nil).Expect(t, 200), "metadata")
		if md["a"] != "1" || md["b"] != "2" {
			t.Errorf("metadata %v", md)
		}
		m.do("PUT", "/volumes/"+id+"/metadata/a", map[string]any{"meta": map[string]string{"a": "3"}}).Expect(t, 200)
		fault(t, m.do("PUT", "/volumes/"+id+"/metadata/a", map[string]any{"meta": map[string]string{"c": "3"}}), 400, "badRequest", "Request body and URI mismatch")
		m.do("DELETE", "/volumes/"+id+"/metadata/b", nil).Expect(t, 200)
		fault(t, m.do("GET", "/volumes/"+id+"/metadata/b", nil), 404, "itemNotFound", fmt.Sprintf("Volume %s has no metadata with key b.", id))

		// Actions.
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-set_bootable": map[string]any{"bootable": "true"}}).Expect(t, 200)
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-extend": map[string]any{"new_size": 2}}).Expect(t, 202)
		c.step(t)
		v = obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		if v["size"] != float64(2) || v["bootable"] != "true" || v["status"] != "available" {
			t.Errorf("after extend %v", v)
		}
		fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-nothing": nil}), 400, "badRequest",
			"There is no such action: os-nothing. Verify the request body and Content-Type header and try again.")
		fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-reset_status": map[string]any{"status": "error"}}), 403, "forbidden",
			"Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed.")
		fault(t, c.admin.do("POST", "/volumes/"+id+"/action", map[string]any{"os-reset_status": map[string]any{"status": "bogus"}}), 400, "badRequest",
			"Volume status: bogus is invalid, valid statuses are: ('creating', *")

		// The old attach flow.
		server := "8c2b7b4e-2f43-4d25-9a2e-6ad7d7c2f0a1"
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-reserve": nil}).Expect(t, 202)
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-attach": map[string]any{"instance_uuid": server, "mountpoint": "/dev/vdb"}}).Expect(t, 202)
		v = obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		atts := v["attachments"].([]any)
		if v["status"] != "in-use" || len(atts) != 1 || atts[0].(map[string]any)["server_id"] != server {
			t.Fatalf("attached %v", v)
		}
		fault(t, m.do("DELETE", "/volumes/"+id, nil), 400, "badRequest", "Invalid volume: Volume status must be available or error*")
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-begin_detaching": map[string]any{}}).Expect(t, 202)
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-detach": map[string]any{}}).Expect(t, 202)

		// Snapshots and delete with cascade.
		r = m.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": id, "name": "s1"}}).Expect(t, 202)
		sid := obj(t, r, "snapshot")["id"].(string)
		c.step(t)
		s := obj(t, m.do("GET", "/snapshots/"+sid, nil).Expect(t, 200), "snapshot")
		if s["status"] != "available" || s["os-extended-snapshot-attributes:progress"] != "100%" || s["consumes_quota"] != true {
			t.Errorf("snapshot %v", s)
		}
		fault(t, m.do("DELETE", "/volumes/"+id, nil), 400, "badRequest", "Invalid volume: Volume status must be available or error*")
		m.do("DELETE", "/volumes/"+id+"?cascade=true", nil).Expect(t, 202)
		c.step(t)
		fault(t, m.do("GET", "/volumes/"+id, nil), 404, "itemNotFound", fmt.Sprintf("Volume %s could not be found.", id))
		fault(t, m.do("GET", "/snapshots/"+sid, nil), 404, "itemNotFound", fmt.Sprintf("Snapshot %s could not be found.", sid))
	})
}

func list2(t *testing.T, r interface {
	JSON(testing.TB) map[string]any
}) []any {
	t.Helper()
	l, _ := r.JSON(t)["volumes"].([]any)
	return l
}

func TestVolumeValidation(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	m := c.member
	for _, tc := range []struct {
		body    any
		message string
	}{
		{map[string]any{"volume": map[string]any{"size": 0}}, "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1"},
		{map[string]any{"volume": map[string]any{"size": "x"}}, "Invalid input for field/attribute size. Value: x. 'x' does not match '^[0-9]+$'"},
		{map[string]any{"volume": map[string]any{"size": 1, "snapshot_id": "nope"}}, "Invalid input for field/attribute snapshot_id. Value: nope. 'nope' is not valid under any of the given schemas"},
		{map[string]any{"volume": map[string]any{"size": 1, "multiattach": true}}, "multiattach parameter has been removed.*"},
		{map[string]any{"nothing": 1}, "'volume' is a required property"},
	} {
		r := m.do("POST", "/volumes", tc.body)
		fault(t, r, 400, "badRequest", tc.message)
	}
	fault(t, m.at("3.53").do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "bogus": 1}}), 400, "badRequest",
		"Invalid input for field/attribute volume. Value: {'bogus': 1, 'size': 1}. Additional properties are not allowed ('bogus' was unexpected)")
	// Over quota: 413 overLimit with Retry-After.
	c.admin.do("PUT", "/os-quota-sets/"+c.member.project, map[string]any{"quota_set": map[string]any{"gigabytes": 5}}).Expect(t, 200)
	r := m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 6}})
	fault(t, r, 413, "overLimit", "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 6G, quota is 5G and 0G has been consumed.")
	if r.Header.Get("Retry-After") != "0" {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
}

func TestMultiattachType(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	r := c.admin.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "multi",
		"extra_specs": map[string]string{"multiattach": "<is> True"}}}).Expect(t, 200)
	if obj(t, r, "volume_type")["name"] != "multi" {
		t.Fatalf("type %s", r.Body)
	}
	v := obj(t, c.member.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "volume_type": "multi"}}).Expect(t, 202), "volume")
	if v["multiattach"] != true {
		t.Errorf("volume of a multiattach type: %v", v)
	}
	v = obj(t, c.member.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")
	if v["multiattach"] != false {
		t.Errorf("volume of the default type: %v", v)
	}
}

func TestVolumeFromImageAndUpload(t *testing.T) {
	t.Parallel()
	// Room in Glance's quota for a 1 GiB raw image.
	c := newCloudWith(t, "", func(cfg *app.Config) {
		cfg.ImageLimits = app.DefaultImageLimits()
		cfg.ImageLimits[image.QuotaImageSizeTotal] = 10000
		cfg.ImageLimits[image.QuotaImageStageTotal] = 10000
	})
	m := c.member.at("3.1")
	v := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "imageRef": c.ImageID}}).Expect(t, 202), "volume")
	id := v["id"].(string)
	c.step(t)
	v = obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
	md, _ := v["volume_image_metadata"].(map[string]any)
	if v["status"] != "available" || md["image_id"] != c.ImageID || v["bootable"] != "true" {
		t.Fatalf("volume from image %v", v)
	}
	r := m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-volume_upload_image": map[string]any{
		"image_name": "from-volume", "disk_format": "raw", "visibility": "private"}}).Expect(t, 202)
	up := obj(t, r, "os-volume_upload_image")
	if up["status"] != "uploading" || up["image_name"] != "from-volume" || up["image_id"] == nil || up["visibility"] != "private" {
		t.Errorf("upload %v", up)
	}
	fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-volume_upload_image": map[string]any{
		"image_name": "pub", "visibility": "public"}}), 403, "forbidden", "Policy doesn't allow volume_extension:volume_actions:upload_public to be performed.")
	c.step(t)
	img := c.Member.Do("GET", "/image/v2/images/"+up["image_id"].(string), nil).Expect(t, 200).JSON(t)
	if img["status"] != "active" {
		t.Errorf("uploaded image %v", img)
	}
	if v := obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume"); v["status"] != "available" {
		t.Errorf("after upload %v", v)
	}
}

func TestRevertRetypeForceDetach(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	m := c.member.at("3.40")
	id := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")["id"].(string)
	c.step(t)
	fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"revert": map[string]any{"snapshot_id": nil}}), 400, "badRequest",
		fmt.Sprintf("Volume %s doesn't have any snapshots.", id))
	sid := obj(t, m.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": id}}).Expect(t, 202), "snapshot")["id"].(string)
	c.step(t)
	m.do("POST", "/volumes/"+id+"/action", map[string]any{"revert": map[string]any{"snapshot_id": sid}}).Expect(t, 202)
	c.step(t)
	// Not before 3.40.
	fault(t, c.member.at("3.39").do("POST", "/volumes/"+id+"/action", map[string]any{"revert": map[string]any{"snapshot_id": sid}}), 400, "badRequest",
		"There is no such action: revert. Verify the request body and Content-Type header and try again.")

	c.admin.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "other"}}).Expect(t, 200)
	m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-retype": map[string]any{"new_type": "other"}}).Expect(t, 202)
	if v := obj(t, m.at("3.63").do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume"); v["volume_type"] != "other" {
		t.Errorf("retyped %v", v)
	}
	fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-retype": map[string]any{"new_type": "other", "migration_policy": nil}}), 400, "badRequest",
		"Invalid input for field/attribute migration_policy. Value: None. None is not one of ['on-demand', 'never']")

	m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-attach": map[string]any{"host_name": "h", "mountpoint": "/dev/vdb"}}).Expect(t, 202)
	fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-force_detach": map[string]any{}}), 403, "forbidden",
		"Policy doesn't allow volume_extension:volume_admin_actions:force_detach to be performed.")
	c.admin.do("POST", "/volumes/"+id+"/action", map[string]any{"os-force_detach": map[string]any{}}).Expect(t, 202)
	if v := obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume"); v["status"] != "available" {
		t.Errorf("after force detach %v", v)
	}
}

// TestListLimitZero: limit=0 asks for no entries (Cinder's LIMIT 0),
// while with_count still counts them all.
func TestListLimitZero(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	m := c.member
	id := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")["id"].(string)
	c.step(t)
	m.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": id}}).Expect(t, 202)
	for _, tc := range []struct{ path, key string }{
		{"/volumes?limit=0", "volumes"}, {"/volumes/detail?limit=0", "volumes"},
		{"/snapshots?limit=0", "snapshots"}, {"/snapshots/detail?limit=0", "snapshots"},
	} {
		var body map[string]any
		if err := json.Unmarshal(m.do("GET", tc.path, nil).Expect(t, 200).Body, &body); err != nil {
			t.Fatal(err)
		}
		if got, _ := body[tc.key].([]any); got == nil || len(got) != 0 {
			t.Errorf("GET %s: %s = %v, want an empty list", tc.path, tc.key, body[tc.key])
		}
	}
	var counted map[string]any
	if err := json.Unmarshal(m.at("3.45").do("GET", "/volumes?limit=0&with_count=true", nil).Expect(t, 200).Body, &counted); err != nil {
		t.Fatal(err)
	}
	if counted["count"] != float64(1) {
		t.Errorf("with_count at limit=0: count %v, want 1", counted["count"])
	}
}

// TestListNextLinks: a page as long as its limit ends with a next link
// whose marker is its last item; a shorter page has none.
func TestListNextLinks(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	m := c.member.at("3.57")
	var vols []string
	for range 2 {
		vols = append(vols, obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")["id"].(string))
	}
	c.step(t)
	for _, id := range vols {
		m.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": id}}).Expect(t, 202)
	}
	c.step(t)
	for _, id := range vols {
		m.do("POST", "/volume-transfers", map[string]any{"transfer": map[string]any{"volume_id": id}}).Expect(t, 202)
	}
	c.admin.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "second"}}).Expect(t, 200)
	for _, tc := range []struct {
		cl                  *client
		path, key, linksKey string
		collection          string
	}{
		{m, "/volumes", "volumes", "volumes_links", "/volumes"},
		{m, "/volumes/detail", "volumes", "volumes_links", "/volumes/detail"},
		{m, "/snapshots", "snapshots", "snapshots_links", "/snapshots"},
		{m, "/snapshots/detail", "snapshots", "snapshots_links", "/snapshots/detail"},
		{m, "/os-volume-transfer/detail", "transfers", "transfers_links", "/os-volume-transfer"},
		{c.admin, "/types", "volume_types", "volume_type_links", "/types"},
	} {
		for _, limit := range []int{1, 3} {
			var body map[string]any
			path := fmt.Sprintf("%s?limit=%d", tc.path, limit)
			if err := json.Unmarshal(tc.cl.do("GET", path, nil).Expect(t, 200).Body, &body); err != nil {
				t.Fatal(err)
			}
			items, _ := body[tc.key].([]any)
			links, _ := body[tc.linksKey].([]any)
			if limit == 3 {
				if len(items) != 2 || links != nil {
					t.Errorf("GET %s: %d items, links %v; want 2 and none", path, len(items), links)
				}
				continue
			}
			if len(items) != 1 || len(links) != 1 {
				t.Fatalf("GET %s: %d items, links %v; want 1 and a next link", path, len(items), links)
			}
			last := items[0].(map[string]any)["id"].(string)
			href, _ := links[0].(map[string]any)["href"].(string)
			if !strings.Contains(href, tc.collection+"?") || !strings.Contains(href, "marker="+last) {
				t.Errorf("GET %s: next link %q, want %s with marker %s", path, href, tc.collection, last)
			}
		}
	}
}
