package compute_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestAvailabilityZones(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		const base = "nova/api_samples/os-availability-zone/"
		for _, v := range []string{"2.1", "2.104"} {
			list := x.client.As(hostsMember, v).Do("GET", "/v2.1/os-availability-zone", nil).Expect(t, http.StatusOK)
			apisamples.Assert(t, base+"availability-zone-list-resp.json", list.Body, apisamples.Options{})
			zones := list.JSON(t)["availabilityZoneInfo"].([]any)
			if len(zones) != 2 || zones[0].(map[string]any)["zoneName"] != "nova" || zones[1].(map[string]any)["zoneName"] != "west" {
				t.Errorf("zones at %s = %v (internal is hidden, zones sorted)", v, zones)
			}
			detail := x.client.As(hostsAdmin, v).Do("GET", "/v2.1/os-availability-zone/detail", nil).Expect(t, http.StatusOK)
			apisamples.Assert(t, base+"availability-zone-detail-resp.json", sampleHostKeys(detail.JSON(t)), apisamples.Options{})
			if !strings.Contains(string(detail.Body), `"internal"`) || !strings.Contains(string(detail.Body), `"nova-conductor"`) {
				t.Errorf("detail lacks the internal zone: %s", detail.Body)
			}
			resp := x.client.As(hostsMember, v).Do("GET", "/v2.1/os-availability-zone/detail", nil).Expect(t, http.StatusForbidden)
			if !strings.Contains(string(resp.Body), "os_compute_api:os-availability-zone:detail") {
				t.Errorf("detail as member: %s", resp.Body)
			}
		}
		// Unknown query parameters are refused from 2.102.
		x.client.As(hostsMember, "2.101").Do("GET", "/v2.1/os-availability-zone?foo=1", nil).Expect(t, http.StatusOK)
		x.client.As(hostsMember, "2.102").Do("GET", "/v2.1/os-availability-zone?foo=1", nil).Expect(t, http.StatusBadRequest)

		// A zone whose only service is disabled is listed as unavailable,
		// and detail lists no hosts for it.
		x.client.As(hostsAdmin, "2.1").Do("PUT", "/v2.1/os-services/disable",
			map[string]any{"host": "node-b", "binary": "nova-compute"}).Expect(t, http.StatusOK)
		zones := x.client.As(hostsMember, "2.1").Do("GET", "/v2.1/os-availability-zone", nil).Expect(t, 200).JSON(t)["availabilityZoneInfo"].([]any)
		west := zones[len(zones)-1].(map[string]any)
		if west["zoneName"] != "west" || west["zoneState"].(map[string]any)["available"] != false {
			t.Errorf("west after disable = %v", west)
		}
	})
}

// sampleHostKeys renames the hosts of a detail body the way Nova's sample
// names them (one host per binary: compute, conductor, scheduler), since
// host names are data, not keys the sample can know.
func sampleHostKeys(body map[string]any) []byte {
	for _, z := range body["availabilityZoneInfo"].([]any) {
		zone := z.(map[string]any)
		hostMap, ok := zone["hosts"].(map[string]any)
		if !ok {
			continue
		}
		renamed := map[string]any{}
		for _, services := range hostMap {
			for binary, svc := range services.(map[string]any) {
				renamed[strings.TrimPrefix(binary, "nova-")] = map[string]any{binary: svc}
			}
		}
		zone["hosts"] = renamed
	}
	b, _ := json.Marshal(body)
	return b
}
