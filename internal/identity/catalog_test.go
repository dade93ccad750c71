package identity

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// expectErr fails unless err is of kind k (nil: no error) with message msg
// when msg is not empty.
func expectErr(t *testing.T, what string, err error, k errs.Kind, msg string) {
	t.Helper()
	if k == 0 {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if !errs.Is(err, k) {
		t.Fatalf("%s: %v, want kind %v", what, err, k)
	}
	if msg != "" && errs.Message(err) != msg {
		t.Errorf("%s: %q, want %q", what, errs.Message(err), msg)
	}
}

func TestSeededCatalog(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cat, err := f.svc.Catalog(f.ctx, f.adminProject)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ typ, name, path string }{
			{"compute", "nova", "/v2.1"}, {"identity", "keystone", "/identity/v3"}, {"image", "glance", "/image"},
			{"network", "neutron", "/networking"}, {"block-storage", "cinder", "/volume/v3/$(project_id)s"},
			{"volumev3", "cinderv3", "/volume/v3/$(project_id)s"},
		}
		if len(cat) != len(want) {
			t.Fatalf("%d services, want %d", len(cat), len(want))
		}
		for i, w := range want {
			s := cat[i]
			if s.Type != w.typ || s.Name() != w.name || s.ID != ServiceID(w.typ) || len(s.Endpoints) != 3 {
				t.Errorf("service %d: %+v, want %+v", i, s, w)
				continue
			}
			for j, iface := range []string{"public", "internal", "admin"} {
				e := s.Endpoints[j]
				if e.ID != stableID("endpoint", w.typ, iface) || e.Interface != iface || e.URL != w.path || e.RegionID != Region {
					t.Errorf("%s endpoint %d: %+v", w.typ, j, e)
				}
			}
		}
		if got := ResolveURL("http://127.0.0.1:9999/", "/v2.1"); got != "http://127.0.0.1:9999/v2.1" {
			t.Errorf("resolve relative: %s", got)
		}
		if got := ResolveURL("http://127.0.0.1:9999", "https://x.example/v1"); got != "https://x.example/v1" {
			t.Errorf("resolve absolute: %s", got)
		}
	})
}

func TestRegionsDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		mk := func(id, parent string) {
			t.Helper()
			if _, err := f.svc.CreateRegion(ctx, CatalogRegion{ID: id, ParentRegionID: parent}); err != nil {
				t.Fatalf("create %s: %v", id, err)
			}
		}
		mk("a", "")
		mk("b", "a")
		mk("c", "b")
		gen, err := f.svc.CreateRegion(ctx, CatalogRegion{Description: "generated"})
		expectErr(t, "generated id", err, 0, "")
		if len(gen.ID) != 32 {
			t.Errorf("generated id %q", gen.ID)
		}
		svc, err := f.svc.CreateCatalogService(ctx, CatalogService{Type: "x", Enabled: true})
		expectErr(t, "service", err, 0, "")
		for _, tc := range []struct {
			name string
			run  func() error
			kind errs.Kind
			msg  string
		}{
			{"duplicate", func() error { _, err := f.svc.CreateRegion(ctx, CatalogRegion{ID: "a"}); return err },
				errs.KindConflict, "Conflict occurred attempting to store region - Duplicate ID, a."},
			{"missing parent", func() error {
				_, err := f.svc.CreateRegion(ctx, CatalogRegion{ID: "z", ParentRegionID: "nope"})
				return err
			},
				errs.KindNotFound, "Could not find region: nope."},
			{"cycle", func() error {
				_, err := f.svc.UpdateRegion(ctx, "a", RegionPatch{SetParent: true, ParentRegionID: "c"})
				return err
			}, errs.KindInvalid, "The specified parent region c would create a circular region hierarchy."},
			{"self parent", func() error {
				_, err := f.svc.UpdateRegion(ctx, "a", RegionPatch{SetParent: true, ParentRegionID: "a"})
				return err
			}, errs.KindInvalid, "The specified parent region a would create a circular region hierarchy."},
			{"endpoint in child blocks delete", func() error {
				if _, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: svc.ID, Interface: "public", URL: "http://x", RegionID: "c", Enabled: true}, ""); err != nil {
					return err
				}
				return f.svc.DeleteRegion(ctx, "a")
			}, errs.KindForbidden, "Unable to delete region a because it or its child regions have associated endpoints."},
			{"endpoint to missing region", func() error {
				_, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: svc.ID, Interface: "public", URL: "http://x", RegionID: "nope"}, "")
				return err
			}, errs.KindInvalid, ""},
			{"endpoint to missing service", func() error {
				_, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: "nope", Interface: "public", URL: "http://x"}, "")
				return err
			}, errs.KindInvalid, ""},
		} {
			expectErr(t, tc.name, tc.run(), tc.kind, tc.msg)
		}
		// The legacy "region" creates its region.
		e, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: svc.ID, Interface: "admin", URL: "http://y", Enabled: true}, "legacy")
		expectErr(t, "legacy region", err, 0, "")
		if e.RegionID != "legacy" {
			t.Errorf("legacy region endpoint %+v", e)
		}
		if _, err := f.svc.GetRegion(ctx, "legacy"); err != nil {
			t.Errorf("legacy region not created: %v", err)
		}
		// Deleting the service deletes its endpoints; then the tree goes
		// with its root.
		expectErr(t, "delete service", f.svc.DeleteCatalogService(ctx, svc.ID), 0, "")
		expectErr(t, "delete tree", f.svc.DeleteRegion(ctx, "a"), 0, "")
		for _, id := range []string{"a", "b", "c"} {
			_, err := f.svc.GetRegion(ctx, id)
			expectErr(t, "deleted "+id, err, errs.KindNotFound, "")
		}
	})
}

func TestCatalogEndpointFilter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		svc, err := f.svc.CreateCatalogService(ctx, CatalogService{Type: "object-store", Enabled: true, Extra: map[string]any{"name": "swift"}})
		expectErr(t, "service", err, 0, "")
		e, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: svc.ID, Interface: "public", URL: "http://swift/v1/AUTH_$(project_id)s", RegionID: Region, Enabled: true}, "")
		expectErr(t, "endpoint", err, 0, "")
		off, err := f.svc.CreateEndpoint(ctx, Endpoint{ServiceID: svc.ID, Interface: "internal", URL: "http://swift-internal", Enabled: false}, "")
		expectErr(t, "disabled endpoint", err, 0, "")
		count := func(project string) (services, endpoints int) {
			t.Helper()
			cat, err := f.svc.Catalog(ctx, project)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range cat {
				services++
				endpoints += len(s.Endpoints)
			}
			return
		}
		if s, e := count(f.adminProject); s != 7 || e != 19 {
			t.Errorf("full catalog: %d services %d endpoints, want 7 and 19 (the disabled endpoint left out)", s, e)
		}
		expectErr(t, "associate", f.svc.AddEndpointToProject(ctx, f.adminProject, e.ID), 0, "")
		expectErr(t, "associate twice", f.svc.AddEndpointToProject(ctx, f.adminProject, e.ID), errs.KindConflict, "")
		expectErr(t, "associate missing", f.svc.AddEndpointToProject(ctx, f.adminProject, "nope"), errs.KindNotFound, "Could not find endpoint: nope.")
		if s, e := count(f.adminProject); s != 1 || e != 1 {
			t.Errorf("filtered catalog: %d services %d endpoints, want 1 and 1", s, e)
		}
		if s, _ := count(""); s != 7 {
			t.Errorf("unfiltered catalog without a project: %d services", s)
		}
		expectErr(t, "check", f.svc.CheckEndpointInProject(ctx, f.adminProject, e.ID), 0, "")
		expectErr(t, "check other", f.svc.CheckEndpointInProject(ctx, f.adminProject, off.ID), errs.KindNotFound,
			"Endpoint "+off.ID+" not found in project "+f.adminProject)
		ps, err := f.svc.ListProjectsForEndpoint(ctx, e.ID)
		if err != nil || len(ps) != 1 || ps[0].ID != f.adminProject {
			t.Errorf("projects of endpoint: %v %v", ps, err)
		}
		// Disabling the service hides it; deleting the endpoint drops the
		// association, and the project sees everything again.
		no := false
		_, err = f.svc.UpdateCatalogService(ctx, svc.ID, CatalogServicePatch{Enabled: &no})
		expectErr(t, "disable service", err, 0, "")
		if s, _ := count(f.adminProject); s != 0 {
			t.Errorf("catalog with the only associated service disabled: %d services", s)
		}
		expectErr(t, "delete endpoint", f.svc.DeleteEndpoint(ctx, e.ID), 0, "")
		if s, _ := count(f.adminProject); s != 6 {
			t.Errorf("catalog after the association's endpoint went: %d services, want 6", s)
		}
	})
}

func TestPoliciesDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p, err := f.svc.CreatePolicy(f.ctx, Policy{Type: "application/json", Blob: `{"a": 1}`, Extra: map[string]any{"x": "y"}})
		expectErr(t, "create", err, 0, "")
		_, err = f.svc.CreatePolicy(f.ctx, Policy{Type: "text/plain", Blob: "b"})
		expectErr(t, "create 2", err, 0, "")
		ps, err := f.svc.ListPolicies(f.ctx, "application/json")
		if err != nil || len(ps) != 1 || ps[0].Blob != `{"a": 1}` || ps[0].Extra["x"] != "y" {
			t.Errorf("list by type: %+v %v", ps, err)
		}
		blob := "new"
		p, err = f.svc.UpdatePolicy(f.ctx, p.ID, PolicyPatch{Blob: &blob})
		if err != nil || p.Blob != "new" || p.Type != "application/json" {
			t.Errorf("update: %+v %v", p, err)
		}
		expectErr(t, "delete", f.svc.DeletePolicy(f.ctx, p.ID), 0, "")
		expectErr(t, "delete again", f.svc.DeletePolicy(f.ctx, p.ID), errs.KindNotFound, "Could not find policy: "+p.ID+".")
	})
}

func TestCredentialsDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		u := f.user(t, "cred-user", "pw")
		f.grant(t, f.adminProject, u.ID, "member")
		for _, tc := range []struct {
			name string
			blob string
			kind errs.Kind
			msg  string
		}{
			{"not JSON", "nope", errs.KindInvalid, "Invalid blob in credential"},
			{"empty object", "{}", errs.KindInvalid, ""},
			{"no access", `{"secret": "s"}`, errs.KindInvalid, ""},
		} {
			_, err := f.svc.CreateCredential(ctx, Credential{UserID: u.ID, ProjectID: f.adminProject, Type: "ec2", Blob: tc.blob})
			expectErr(t, tc.name, err, tc.kind, tc.msg)
		}
		c, err := f.svc.CreateCredential(ctx, Credential{UserID: u.ID, ProjectID: f.adminProject, Type: "ec2", Blob: `{"access": "181920", "secret": "secretKey"}`})
		expectErr(t, "create ec2", err, 0, "")
		if c.ID != tokenHash("181920") {
			t.Errorf("ec2 credential id %s, want the access key's SHA-256", c.ID)
		}
		_, err = f.svc.CreateCredential(ctx, Credential{UserID: u.ID, ProjectID: f.adminProject, Type: "ec2", Blob: `{"access": "181920", "secret": "other"}`})
		expectErr(t, "same access", err, errs.KindConflict, "")
		// OS-EC2 sees it.
		ec2s, err := f.svc.ListEC2Credentials(ctx, u.ID)
		if err != nil || len(ec2s) != 1 || ec2s[0].Access != "181920" || ec2s[0].Secret != "secretKey" {
			t.Errorf("OS-EC2 list: %+v %v", ec2s, err)
		}
		// And OS-EC2's show in /v3/credentials.
		made, err := f.svc.CreateEC2Credential(ctx, u.ID, f.adminProject)
		expectErr(t, "OS-EC2 create", err, 0, "")
		all, err := f.svc.ListCredentials(ctx, u.ID, "ec2")
		if err != nil || len(all) != 2 || (all[0].ID != tokenHash(made.Access) && all[1].ID != tokenHash(made.Access)) {
			t.Errorf("credentials of user: %+v %v", all, err)
		}
		other, err := f.svc.CreateCredential(ctx, Credential{UserID: u.ID, Type: "totp", Blob: "abc"})
		expectErr(t, "create totp", err, 0, "")
		if len(other.ID) != 32 || other.Blob != "abc" {
			t.Errorf("totp credential %+v", other)
		}
		trust := `{"access": "181920", "secret": "s", "trust_id": "t"}`
		_, err = f.svc.UpdateCredential(ctx, c.ID, CredentialPatch{Blob: &trust})
		expectErr(t, "trust change", err, errs.KindInvalid, "trust_id can not be updated for credential")

		// s3tokens: a v1 signature with the secret authenticates the owner.
		toSign := "GET\n\n\nDate\n/bucket"
		m := hmac.New(sha1.New, []byte("secretKey"))
		m.Write([]byte(toSign))
		sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
		tok, err := f.svc.AuthenticateS3(ctx, S3Credentials{Access: "181920", Token: base64.URLEncoding.EncodeToString([]byte(toSign)), Signature: sig})
		if err != nil || tok.UserID != u.ID || tok.ProjectID != f.adminProject || tok.Methods[0] != "ec2credential" {
			t.Errorf("s3 auth: %+v %v", tok, err)
		}
		_, err = f.svc.AuthenticateS3(ctx, S3Credentials{Access: "181920", Token: base64.URLEncoding.EncodeToString([]byte(toSign)), Signature: "bad"})
		expectErr(t, "bad signature", err, errs.KindUnauthorized, "Credential signature mismatch")
		_, err = f.svc.AuthenticateS3(ctx, S3Credentials{Access: "nope", Token: "x", Signature: "y"})
		expectErr(t, "unknown access", err, errs.KindNotFound, "EC2 access key not found.")

		expectErr(t, "delete", f.svc.DeleteCredential(ctx, c.ID), 0, "")
		_, err = f.svc.GetEC2Credential(ctx, "181920")
		expectErr(t, "gone from OS-EC2", err, errs.KindNotFound, "")
	})
}

func TestEC2TokensDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "ec2-user", "pw")
		f.grant(t, f.adminProject, u.ID, "member")
		cred, err := f.svc.CreateEC2Credential(f.ctx, u.ID, f.adminProject)
		expectErr(t, "create", err, 0, "")
		params := map[string]string{"Action": "DescribeInstances", "SignatureVersion": "2", "SignatureMethod": "HmacSHA256",
			"Timestamp": f.now.Format("2006-01-02T15:04:05Z"), "AWSAccessKeyId": cred.Access, "Note": "a b/c"}
		// Ec2Signer's v2: SHA-256 over verb, host, path and the sorted,
		// quoted query ("a b/c" is "a%20b%2Fc").
		m := hmac.New(sha256.New, []byte(cred.Secret))
		m.Write([]byte("GET\nec2.example:8788\n/\nAWSAccessKeyId=" + cred.Access + "&Action=DescribeInstances&Note=a%20b%2Fc&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=" +
			strings.ReplaceAll(params["Timestamp"], ":", "%3A")))
		sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
		for _, tc := range []struct {
			name string
			req  EC2Request
			kind errs.Kind
			msg  string
		}{
			{"signed with the port", EC2Request{Access: cred.Access, Signature: sig, Host: "ec2.example:8788", Verb: "GET", Path: "/", Params: params}, 0, ""},
			{"bad signature", EC2Request{Access: cred.Access, Signature: "x", Host: "ec2.example:8788", Verb: "GET", Path: "/", Params: params}, errs.KindUnauthorized, "Invalid EC2 signature."},
			{"no access", EC2Request{}, errs.KindUnauthorized, "EC2 Signature not supplied"},
			{"unknown access", EC2Request{Access: "nope"}, errs.KindNotFound, "EC2 access key not found."},
		} {
			tok, err := f.svc.AuthenticateEC2(f.ctx, tc.req)
			expectErr(t, tc.name, err, tc.kind, tc.msg)
			if err == nil {
				if tok.UserID != u.ID || tok.ProjectID != f.adminProject || tok.ID == "" {
					t.Errorf("%s: token %+v", tc.name, tok)
				}
				if _, err := f.svc.ValidateToken(f.ctx, tok.ID); err != nil {
					t.Errorf("%s: issued token does not validate: %v", tc.name, err)
				}
			}
		}
		f.now = f.now.Add(time.Hour)
		_, err = f.svc.AuthenticateEC2(f.ctx, EC2Request{Access: cred.Access, Signature: sig, Host: "ec2.example:8788", Verb: "GET", Path: "/", Params: params})
		expectErr(t, "expired", err, errs.KindUnauthorized, "Credential is expired")
	})
}
