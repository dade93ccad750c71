package computeaddr

import (
	"context"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestRequestTranslatesNovaModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   compute.NetworkRequest
		want network.Request
	}{
		{"none", compute.NetworkRequest{Mode: "none"}, network.NoNetworks()},
		{"auto", compute.NetworkRequest{Mode: "auto"}, network.Auto()},
		{"absent", compute.NetworkRequest{}, network.Auto()},
		{"empty list", compute.NetworkRequest{Mode: "list"}, network.Auto()},
		{"list", compute.NetworkRequest{Mode: "list", Networks: []compute.RequestedNetwork{
			{UUID: "n1", FixedIP: "10.0.0.5", Tag: "a"}, {Port: "p1"},
		}}, network.Request{Networks: []network.NetworkRequest{
			{NetworkID: "n1", FixedIP: "10.0.0.5", Tag: "a"}, {PortID: "p1"},
		}}},
	}
	for _, tt := range tests {
		if got := Request(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Request = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestAddressesAllocateAndRelease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m, err := network.New(network.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a := Addresses{Manager: m}
		ctx := context.Background()
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return a.Allocate(ctx, tx, "p1", "i1", compute.NetworkRequest{Mode: "auto"})
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.ForInstances(ctx, db, []string{"i1"})
		if err != nil || len(got["i1"]) != 1 {
			t.Fatalf("after Allocate: %+v, %v", got, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return a.Release(ctx, tx, "i1") }); err != nil {
			t.Fatal(err)
		}
		if got, err := m.ForInstances(ctx, db, []string{"i1"}); err != nil || len(got) != 0 {
			t.Fatalf("after Release: %+v, %v", got, err)
		}
	})
}
