package compute_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// Access IPs read back as Nova stores them: parsed and printed canonically
// (Tempest's test_verify_server_details sends the long IPv6 form).
func TestServerAccessIPsCanonical(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		cl := cc.client.As(userToken, "2.1")
		body := cc.body("2.1", map[string]any{"accessIPv4": "1.1.1.1", "accessIPv6": "0000:0000:0000:0000:0000:babe:220.12.22.2"})
		id := cl.Do("POST", "/v2.1/servers", body).Expect(t, 202).JSON(t)["server"].(map[string]any)["id"].(string)
		srv := cl.Do("GET", "/v2.1/servers/"+id, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if srv["accessIPv4"] != "1.1.1.1" || srv["accessIPv6"] != "::babe:dc0c:1602" {
			t.Fatalf("after create: %v / %v", srv["accessIPv4"], srv["accessIPv6"])
		}
		upd := cl.Do("PUT", "/v2.1/servers/"+id, map[string]any{"server": map[string]any{"accessIPv6": "2001:DB8:0:0:0:0:0:1"}}).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if upd["accessIPv6"] != "2001:db8::1" {
			t.Fatalf("after update: %v", upd["accessIPv6"])
		}
	})
}
