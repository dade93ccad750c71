package identity

import (
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestEndpointPolicyDomain associates policies with an endpoint, a
// service and a service in a region of a three-level tree, and checks
// Keystone's errors, which policy each endpoint gets, which endpoints each
// policy reaches, and that associations go with what they name.
func TestEndpointPolicyDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		// Each record a second after the last: lists are oldest first.
		tick := func() { f.now = f.now.Add(time.Second) }
		must := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		svc := map[string]string{}
		for _, typ := range []string{"s", "t"} {
			tick()
			c, err := f.svc.CreateCatalogService(ctx, CatalogService{Type: typ, Enabled: true})
			must("service "+typ, err)
			svc[typ] = c.ID
		}
		for _, r := range []struct{ id, parent string }{{"r1", ""}, {"r2", "r1"}, {"r3", "r2"}, {"r4", "r1"}} {
			tick()
			_, err := f.svc.CreateRegion(ctx, CatalogRegion{ID: r.id, ParentRegionID: r.parent})
			must("region "+r.id, err)
		}
		ep := map[string]string{}
		for _, e := range []struct{ name, svc, region string }{
			{"s1", "s", "r1"}, {"s2", "s", "r2"}, {"s3", "s", "r3"}, {"s4", "s", "r4"}, {"s0", "s", ""}, {"t2", "t", "r2"},
		} {
			tick()
			got, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: svc[e.svc], RegionID: e.region, Interface: "public", URL: "http://" + e.name, Enabled: true}, "")
			must("endpoint "+e.name, err)
			ep[e.name] = got.ID
		}
		pol := map[string]string{}
		for _, name := range []string{"p1", "p2", "p3", "p4"} {
			tick()
			p, err := f.svc.CreatePolicy(ctx, Policy{Type: "application/json", Blob: name})
			must("policy "+name, err)
			pol[name] = p.ID
		}
		onEndpoint := func(e string) PolicyTarget { return PolicyTarget{EndpointID: ep[e]} }
		onService := func(s string) PolicyTarget { return PolicyTarget{ServiceID: svc[s]} }
		inRegion := func(s, r string) PolicyTarget { return PolicyTarget{ServiceID: svc[s], RegionID: r} }
		for _, a := range []struct {
			policy string
			target PolicyTarget
		}{
			{"p1", inRegion("s", "r2")}, {"p2", onEndpoint("s3")}, {"p3", onService("s")}, {"p4", inRegion("s", "r1")},
			{"p4", inRegion("t", "r4")},
		} {
			tick()
			must("associate "+a.policy, f.svc.AssociatePolicy(ctx, pol[a.policy], a.target))
		}

		for _, tc := range []struct {
			name string
			run  func() error
			kind errs.Kind
			msg  string
		}{
			{"missing policy", func() error { return f.svc.AssociatePolicy(ctx, "nope", onService("s")) },
				errs.KindNotFound, "Could not find policy: nope."},
			{"missing endpoint", func() error { return f.svc.AssociatePolicy(ctx, pol["p1"], PolicyTarget{EndpointID: "nope"}) },
				errs.KindNotFound, "Could not find endpoint: nope."},
			{"missing service", func() error { return f.svc.CheckPolicyAssociation(ctx, pol["p1"], PolicyTarget{ServiceID: "nope"}) },
				errs.KindNotFound, "Could not find service: nope."},
			{"missing region", func() error {
				return f.svc.DeletePolicyAssociation(ctx, pol["p1"], PolicyTarget{ServiceID: svc["s"], RegionID: "nope"})
			}, errs.KindNotFound, "Could not find region: nope."},
			{"policy checked first", func() error { return f.svc.CheckPolicyAssociation(ctx, "nope", PolicyTarget{EndpointID: "nope"}) },
				errs.KindNotFound, "Could not find policy: nope."},
			{"endpoint and service", func() error {
				return f.svc.AssociatePolicy(ctx, pol["p1"], PolicyTarget{EndpointID: ep["s1"], ServiceID: svc["s"]})
			}, errs.KindForbidden, "Invalid mix of entities for policy association: only Endpoint, Service, or Region+Service allowed. " +
				"Request was - Endpoint: " + ep["s1"] + ", Service: " + svc["s"] + ", Region: None."},
			{"region alone", func() error { return f.svc.AssociatePolicy(ctx, pol["p1"], PolicyTarget{RegionID: "r1"}) },
				errs.KindForbidden, ""},
			{"check associated", func() error { return f.svc.CheckPolicyAssociation(ctx, pol["p1"], inRegion("s", "r2")) }, 0, ""},
			{"check other policy", func() error { return f.svc.CheckPolicyAssociation(ctx, pol["p2"], inRegion("s", "r2")) },
				errs.KindNotFound, "Could not find policy association."},
			{"check service alone is not in region", func() error { return f.svc.CheckPolicyAssociation(ctx, pol["p1"], onService("s")) },
				errs.KindNotFound, "Could not find policy association."},
			{"delete absent association", func() error { return f.svc.DeletePolicyAssociation(ctx, pol["p2"], onService("t")) }, 0, ""},
			{"policy of missing endpoint", func() error { _, err := f.svc.PolicyForEndpoint(ctx, "nope"); return err },
				errs.KindNotFound, "Could not find endpoint: nope."},
			{"endpoints of missing policy", func() error { _, err := f.svc.ListEndpointsForPolicy(ctx, "nope"); return err },
				errs.KindNotFound, "Could not find policy: nope."},
		} {
			expectErr(t, tc.name, tc.run(), tc.kind, tc.msg)
		}

		// The most specific association wins; regions are walked up.
		for _, tc := range []struct{ endpoint, policy string }{
			{"s3", "p2"}, // its own, over p1 of its parent region
			{"s2", "p1"}, // its region's
			{"s1", "p4"}, // its region's, over p3 of its service
			{"s4", "p4"}, // its parent region's (r4 under r1)
			{"s0", "p3"}, // no region: its service's
			{"t2", ""},   // t's region association is in r4, not above r2
		} {
			p, err := f.svc.PolicyForEndpoint(ctx, ep[tc.endpoint])
			if tc.policy == "" {
				expectErr(t, "policy of "+tc.endpoint, err, errs.KindNotFound, "No policy is associated with endpoint "+ep[tc.endpoint]+".")
				continue
			}
			if err != nil || p.ID != pol[tc.policy] {
				t.Errorf("policy of %s: %+v %v, want %s", tc.endpoint, p, err, tc.policy)
			}
		}
		endpointsOf := func(policy string) []string {
			t.Helper()
			es, err := f.svc.ListEndpointsForPolicy(ctx, pol[policy])
			if err != nil {
				t.Fatalf("endpoints of %s: %v", policy, err)
			}
			var names []string
			for _, e := range es {
				for name, id := range ep {
					if id == e.ID {
						names = append(names, name)
					}
				}
			}
			return names
		}
		for _, tc := range []struct {
			policy string
			want   []string
		}{
			{"p1", []string{"s2", "s3"}},                   // s in r2 and below
			{"p2", []string{"s3"}},                         // one endpoint
			{"p3", []string{"s1", "s2", "s3", "s4", "s0"}}, // all of s
			// s in r1, depth first (r2, r3, then r4), then t in r4 (none).
			{"p4", []string{"s1", "s2", "s3", "s4"}},
		} {
			if got := endpointsOf(tc.policy); !slices.Equal(got, tc.want) {
				t.Errorf("endpoints of %s: %v, want %v", tc.policy, got, tc.want)
			}
		}

		// Associating a target again moves it to the new policy.
		must("move", f.svc.AssociatePolicy(ctx, pol["p3"], inRegion("s", "r2")))
		expectErr(t, "old policy's", f.svc.CheckPolicyAssociation(ctx, pol["p1"], inRegion("s", "r2")), errs.KindNotFound, "")
		expectErr(t, "new policy's", f.svc.CheckPolicyAssociation(ctx, pol["p3"], inRegion("s", "r2")), 0, "")
		if got := endpointsOf("p1"); len(got) != 0 {
			t.Errorf("endpoints of p1 after the move: %v", got)
		}
		// An endpoint reached twice is listed twice, as in Keystone; the
		// moved association keeps its place (the older one).
		if got, want := endpointsOf("p3"), []string{"s2", "s3", "s1", "s2", "s3", "s4", "s0"}; !slices.Equal(got, want) {
			t.Errorf("endpoints of p3: %v, want %v", got, want)
		}
		must("delete association", f.svc.DeletePolicyAssociation(ctx, pol["p3"], inRegion("s", "r2")))
		expectErr(t, "deleted", f.svc.CheckPolicyAssociation(ctx, pol["p3"], inRegion("s", "r2")), errs.KindNotFound, "")

		// Associations go with what they name.
		count := func() (n int) {
			t.Helper()
			must("count", db.QueryRowContext(ctx, `SELECT COUNT(*) FROM policy_associations`).Scan(&n))
			return n
		}
		for _, tc := range []struct {
			name string
			del  func() error
			left int
		}{
			{"endpoint", func() error { return f.svc.DeleteEndpoint(ctx, ep["s3"]) }, 3}, // p2's
			{"policy", func() error { return f.svc.DeletePolicy(ctx, pol["p3"]) }, 2},    // p3's service
			{"region", func() error { // t in r4
				if err := f.svc.DeleteEndpoint(ctx, ep["s4"]); err != nil {
					return err
				}
				return f.svc.DeleteRegion(ctx, "r4")
			}, 1},
			{"service", func() error { return f.svc.DeleteCatalogService(ctx, svc["s"]) }, 0}, // p4's s in r1
		} {
			must("delete "+tc.name, tc.del())
			if n := count(); n != tc.left {
				t.Errorf("after deleting the %s: %d associations, want %d", tc.name, n, tc.left)
			}
		}
	})
}
