package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// TestRemovedAPIsGone: a real kumo answers the APIs Nova removed with
// Nova's 410 body, through gophercloud's authenticated client.
func TestRemovedAPIsGone(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()
	want := map[string]any{"computeFault": map[string]any{"code": float64(410),
		"message": "This resource is no longer available.  No forwarding address is given."}}
	for _, call := range []struct {
		method string
		path   []string
		body   any
	}{
		{"GET", []string{"os-agents"}, nil},
		{"GET", []string{"os-cells"}, nil},
		{"POST", []string{"os-certificates"}, map[string]any{}},
		{"GET", []string{"os-fping"}, nil},
		{"POST", []string{"os-networks"}, map[string]any{"network": map[string]any{"label": "x"}}},
		{"GET", []string{"os-security-group-default-rules"}, nil},
		{"POST", []string{"servers", "00000000-0000-0000-0000-000000000000", "action"}, map[string]any{"resetNetwork": nil}},
	} {
		resp, err := c.Compute.Request(ctx, call.method, c.Compute.ServiceURL(call.path...), &gophercloud.RequestOpts{
			JSONBody: call.body, OkCodes: []int{http.StatusGone}, KeepResponseBody: true})
		if err != nil {
			t.Errorf("%s %v: %v", call.method, call.path, err)
			continue
		}
		var got map[string]any
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s %v: body %v (%v), want %v", call.method, call.path, got, err, want)
		}
	}
}
