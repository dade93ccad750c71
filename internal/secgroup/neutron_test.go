package secgroup_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestConvertProtocol(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   any
		want string // "" is any protocol; "!" an error
	}{
		{nil, ""}, {"any", ""}, {"ANY", ""}, {"TCP", "tcp"}, {"icmpv6", "icmpv6"}, {json.Number("6"), "6"},
		{"17", "17"}, {json.Number("0"), "0"}, {json.Number("255"), "255"}, {json.Number("256"), "!"}, {"-1", "!"},
		{"foo", "!"}, {"", "!"}, {true, "!"}, {[]any{}, "!"},
	} {
		got, err := secgroup.ConvertProtocol(tc.in)
		switch {
		case tc.want == "!":
			if errs.NameOf(err) != "SecurityGroupRuleInvalidProtocol" {
				t.Errorf("ConvertProtocol(%v) = %v, %v; want SecurityGroupRuleInvalidProtocol", tc.in, got, err)
			}
		case err != nil || (tc.want == "") != (got == nil) || (got != nil && *got != tc.want):
			t.Errorf("ConvertProtocol(%v) = %v, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestConvertIPPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, normalized string
	}{
		{"10.0.0.5/24", "10.0.0.5/24", "10.0.0.0/24"}, {"192.0.2.1", "192.0.2.1/32", "192.0.2.1/32"},
		{"2001:DB8::1/64", "2001:db8::1/64", "2001:db8::/64"}, {"::/0", "::/0", "::/0"},
	} {
		got, err := secgroup.ConvertIPPrefix(tc.in)
		if err != nil || *got != tc.want || *secgroup.NormalizedCIDR(got) != tc.normalized {
			t.Errorf("ConvertIPPrefix(%s) = %v, %v", tc.in, got, err)
		}
	}
	for _, bad := range []any{"10.0.0.0/33", "nope", json.Number("10")} {
		if _, err := secgroup.ConvertIPPrefix(bad); errs.NameOf(err) != "InvalidCIDR" {
			t.Errorf("ConvertIPPrefix(%v): %v, want InvalidCIDR", bad, err)
		}
	}
}

// A port's groups are in use for both faces until the port lets them go;
// CountGroups and CountRules count what a project's quotas would.
func TestPortBindings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		web, err := s.CreateGroup(ctx, "p1", secgroup.GroupFields{})
		if err != nil {
			t.Fatal(err)
		}
		groups, err := s.ListGroups(ctx, secgroup.Scope{ProjectID: "p1"}, "p1")
		if err != nil || len(groups) != 2 {
			t.Fatalf("groups %+v, %v", groups, err)
		}
		def := groups[0].ID
		if !groups[0].Default {
			def = groups[1].ID
		}
		// Bindings name ports that exist (the network domain's rows).
		for _, q := range []string{
			`INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES ('n1', 'p1', 'net', 1, 1)`,
			`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at)
				VALUES ('port1', 'n1', '', 'fa:16:3e:00:00:01', 0, 1), ('port2', 'n1', '', 'fa:16:3e:00:00:02', 0, 1),
				('port3', 'n1', '', 'fa:16:3e:00:00:03', 0, 1)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := secgroup.BindPort(ctx, tx, "port1", []string{web.ID, def}); err != nil {
				return err
			}
			return secgroup.BindPort(ctx, tx, "port2", []string{web.ID})
		}); err != nil {
			t.Fatal(err)
		}
		got, err := secgroup.PortGroups(ctx, db, []string{"port1", "port2", "port3"})
		if err != nil || !slices.Equal(got["port1"], sorted(web.ID, def)) || !slices.Equal(got["port2"], []string{web.ID}) || got["port3"] != nil {
			t.Errorf("PortGroups = %v, %v", got, err)
		}
		if ports, err := secgroup.GroupPorts(ctx, db, web.ID); err != nil || !slices.Equal(ports, []string{"port1", "port2"}) {
			t.Errorf("GroupPorts = %v, %v", ports, err)
		}
		err = s.DeleteGroup(ctx, web.ID, true)
		if errs.NameOf(err) != "SecurityGroupInUse" || errs.KindOf(err) != errs.KindConflict {
			t.Errorf("DeleteGroup of a port's group: %v", err)
		}
		expectErr(t, s.Delete(ctx, member, web.ID), errs.KindInvalid, "Security Group "+web.ID+" in use.")
		if used, err := s.InUse(ctx, web.ID); err != nil || !used {
			t.Errorf("InUse = %v, %v", used, err)
		}
		if groups, err := secgroup.CountGroups(ctx, db, "p1"); err != nil || groups != 2 {
			t.Errorf("CountGroups = %d, %v; want 2", groups, err)
		}
		if rules, err := secgroup.CountRules(ctx, db, "p1"); err != nil || rules != 6 {
			t.Errorf("CountRules = %d, %v; want 6", rules, err)
		}
		// Binding again replaces; unbinding frees.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := secgroup.BindPort(ctx, tx, "port1", []string{def}); err != nil {
				return err
			}
			return secgroup.UnbindPort(ctx, tx, "port2")
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteGroup(ctx, web.ID, false); err != nil {
			t.Errorf("DeleteGroup of a free group: %v", err)
		}
		if used, err := s.InUse(ctx, def); err != nil || !used {
			t.Errorf("InUse of the default group = %v, %v", used, err)
		}
		// A port's delete takes its bindings with it.
		if _, err := db.ExecContext(ctx, `DELETE FROM network_ports WHERE id = 'port1'`); err != nil {
			t.Fatal(err)
		}
		if used, err := s.InUse(ctx, def); err != nil || used {
			t.Errorf("InUse of the default group after its port's delete = %v, %v", used, err)
		}
	})
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}
