package compute

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/api"
)

// TestNewServicesRefusesMissingDependencies: every service in Deps is
// required; NewServices names the one missing (a wiring mistake) instead
// of serving with handlers that branch around it.
func TestNewServicesRefusesMissingDependencies(t *testing.T) {
	fields := reflect.TypeOf(Deps{})
	full := Deps{}
	v := reflect.ValueOf(&full).Elem()
	for i := range fields.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Func:
			f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value { panic("not called") }))
		default:
			t.Fatalf("Deps.%s is a %s: teach this test to fill it", fields.Field(i).Name, f.Kind())
		}
	}
	if name := full.missing(); name != "" {
		t.Fatalf("every dependency set, yet %s is missing", name)
	}
	for i := range fields.NumField() {
		name := fields.Field(i).Name
		d := full
		reflect.ValueOf(&d).Elem().Field(i).SetZero()
		if got := d.missing(); got != name {
			t.Errorf("without %s: missing() = %q", name, got)
		}
	}
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "Deps.Flavors is nil") {
			t.Fatalf("NewServices(Deps{}): panic %q, want one naming Flavors", msg)
		}
	}()
	NewServices(Deps{}, api.Options{})
}
