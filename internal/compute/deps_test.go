package compute

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/store"
)

// Stand-ins that satisfy the interfaces; New never calls them.
type (
	someQuotas    struct{ Quotas }
	someAddresses struct{ Addresses }
	someKeyPairs  struct{ KeyPairs }
	someVolumes   struct{ Volumes }
)

// TestNewRefusesMissingDependencies: every dependency but Settings,
// Scheduler, Now and ServiceHost is required, and New names the one missing (a wiring mistake)
// instead of serving with a branch that skips it.
func TestNewRefusesMissingDependencies(t *testing.T) {
	full := Deps{DB: &store.DB{}, Flavors: &flavor.Service{}, Images: &image.Service{}, Quotas: someQuotas{},
		Addresses: someAddresses{}, KeyPairs: someKeyPairs{}, Volumes: someVolumes{}, Secrets: &secret.Box{}, Wake: func(string) {}}
	if s := New(full); s == nil {
		t.Fatal("New with every dependency returned nil")
	}
	optional := map[string]bool{"Settings": true, "Scheduler": true, "Now": true, "ServiceHost": true}
	fields := reflect.TypeOf(full)
	for i := range fields.NumField() {
		name := fields.Field(i).Name
		if optional[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			d := full
			reflect.ValueOf(&d).Elem().Field(i).SetZero()
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "Deps."+name+" is nil") {
					t.Fatalf("New without %s: panic %q, want one naming it", name, msg)
				}
			}()
			New(d)
		})
	}
}
