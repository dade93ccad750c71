package identity_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestGophercloudApplicationCredentials logs in with an application
// credential as gophercloud.AuthOptions{ApplicationCredentialID, ...}
// does and calls compute and image with the token; a credential with
// access rules reaches only the calls they allow (keystonemiddleware's
// 401 for the others).
func TestGophercloudApplicationCredentials(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := apptest.New(t, apptest.Options{Database: database, Run: true})
		creds, err := app.ReadClouds(c.App.Config.CloudsFile())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		authURL := c.URL() + "/identity/v3"
		admin, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
			IdentityEndpoint: authURL, Username: "admin", Password: creds.Password, TenantName: "admin", DomainID: "default"})
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		identity, err := openstack.NewIdentityV3(admin, gophercloud.EndpointOpts{})
		if err != nil {
			t.Fatal(err)
		}
		user, err := tokens.Get(ctx, identity, admin.TokenID).ExtractUser()
		if err != nil {
			t.Fatal(err)
		}

		// login authenticates with an application credential and returns
		// compute and image clients.
		login := func(t *testing.T, opts gophercloud.AuthOptions) (*gophercloud.ServiceClient, *gophercloud.ServiceClient) {
			t.Helper()
			opts.IdentityEndpoint = authURL
			pc, err := openstack.AuthenticatedClient(ctx, opts)
			if err != nil {
				t.Fatalf("authenticate with the application credential: %v", err)
			}
			compute, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
			if err != nil {
				t.Fatal(err)
			}
			image, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
			if err != nil {
				t.Fatal(err)
			}
			return compute, image
		}
		listImages := func(client *gophercloud.ServiceClient) ([]images.Image, error) {
			pages, err := images.List(client, nil).AllPages(ctx)
			if err != nil {
				return nil, err
			}
			return images.ExtractImages(pages)
		}
		listFlavors := func(client *gophercloud.ServiceClient) ([]flavors.Flavor, error) {
			pages, err := flavors.ListDetail(client, nil).AllPages(ctx)
			if err != nil {
				return nil, err
			}
			return flavors.ExtractFlavors(pages)
		}

		full, err := applicationcredentials.Create(ctx, identity, user.ID, applicationcredentials.CreateOpts{Name: "everything"}).Extract()
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		compute, image := login(t, gophercloud.AuthOptions{ApplicationCredentialID: full.ID, ApplicationCredentialSecret: full.Secret})
		if imgs, err := listImages(image); err != nil || len(imgs) == 0 {
			t.Errorf("images: %d, %v", len(imgs), err)
		}
		fls, err := listFlavors(compute)
		if err != nil || len(fls) == 0 {
			t.Fatalf("flavors: %d, %v", len(fls), err)
		}
		if _, err := servers.List(compute, nil).AllPages(ctx); err != nil {
			t.Errorf("servers: %v", err)
		}
		// By name and user, as clouds.yaml's application_credential_name.
		login(t, gophercloud.AuthOptions{ApplicationCredentialName: "everything", ApplicationCredentialSecret: full.Secret, UserID: user.ID})

		limited, err := applicationcredentials.Create(ctx, identity, user.ID, applicationcredentials.CreateOpts{Name: "images-only",
			AccessRules: []applicationcredentials.AccessRule{{Service: "image", Method: "GET", Path: "/v2/images"}}}).Extract()
		if err != nil {
			t.Fatalf("create with access rules: %v", err)
		}
		compute, image = login(t, gophercloud.AuthOptions{ApplicationCredentialID: limited.ID, ApplicationCredentialSecret: limited.Secret})
		if imgs, err := listImages(image); err != nil || len(imgs) == 0 {
			t.Errorf("images with the rule: %d, %v", len(imgs), err)
		}
		_, err = listFlavors(compute)
		if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
			t.Errorf("flavors without a rule: %v, want 401", err)
		}

		// Deleted: the credential no longer logs in.
		if err := applicationcredentials.Delete(ctx, identity, user.ID, full.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: authURL,
			ApplicationCredentialID: full.ID, ApplicationCredentialSecret: full.Secret})
		var notFound gophercloud.ErrUnexpectedResponseCode
		if !errors.As(err, &notFound) || notFound.Actual != http.StatusNotFound {
			t.Errorf("login with a deleted credential: %v, want 404", err)
		}
	})
}
