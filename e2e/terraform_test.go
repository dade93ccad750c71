package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/aggregates"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// The configurations the tests apply, in testdata/terraform (each says
// what it holds).
const terraformTestdata = "testdata/terraform"

// terraformConfig reads the configuration file name of testdata/terraform.
func terraformConfig(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(terraformTestdata, name))
	if err != nil {
		t.Fatalf("read a configuration: %v", err)
	}
	return b
}

// terraformValues are the values of admin.tf.tmpl that change between
// applies.
type terraformValues struct {
	ProjectDescription, UserDescription string
	FlavorDescription, CPUPolicy        string
	Instances, ImageLimit               int
	Zone, ImagePurpose                  string
}

// config renders admin.tf.tmpl with v.
func (v terraformValues) config(t *testing.T) []byte {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join(terraformTestdata, "admin.tf.tmpl"))
	if err != nil {
		t.Fatalf("parse the configuration: %v", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		t.Fatalf("render the configuration: %v", err)
	}
	return b.Bytes()
}

// TestTerraformAdmin applies admin.tf.tmpl with OpenTofu and the OpenStack
// provider, plans again (no changes), checks with gophercloud that kumo
// holds what was applied, changes it in place (again with an empty plan
// after), and destroys it all.
func TestTerraformAdmin(t *testing.T) {
	t.Parallel()
	tofu := RequireTofu(t)
	s := Start(t, kumoBin, Options{Args: []string{"--host", "tf-host"}})
	admin := NewClients(t, s.CloudsFile(), "kumo")
	admin.Compute.Microversion = "2.55" // flavor descriptions
	pub, _ := sshKeygen(t, "tofu")
	pubKey, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}

	first := terraformValues{
		ProjectDescription: "made by tofu", UserDescription: "a developer",
		FlavorDescription: "a small flavor", CPUPolicy: "shared",
		Instances: 7, ImageLimit: 5, Zone: "fast-zone", ImagePurpose: "test",
	}
	tf := tofu.Init(t, s.CloudsFile(), "kumo", map[string][]byte{
		"main.tf":  first.config(t),
		"key.pub":  pubKey,
		"disk.raw": imageData,
	})
	tf.Apply(t)
	out := tf.Outputs(t)
	checkApplied(t, s, admin, out, first)
	if want := sshFingerprint(t, pub); out["imported_fingerprint"] != want {
		t.Errorf("imported key pair fingerprint = %q, want %q (ssh-keygen's)", out["imported_fingerprint"], want)
	}
	checkGeneratedKey(t, out)

	second := terraformValues{
		ProjectDescription: "changed by tofu", UserDescription: "a tester",
		FlavorDescription: "a smaller flavor", CPUPolicy: "dedicated",
		Instances: 9, ImageLimit: 6, Zone: "faster-zone", ImagePurpose: "e2e",
	}
	tf.WriteFile(t, "main.tf", second.config(t))
	tf.Apply(t)
	changed := tf.Outputs(t)
	for _, id := range []string{"project_id", "user_id", "small_flavor_id", "aggregate_id", "image_id"} {
		if changed[id] != out[id] {
			t.Errorf("the second apply replaced %s %s with %s; want it changed in place", id, out[id], changed[id])
		}
	}
	checkApplied(t, s, admin, changed, second)

	tf.Destroy(t)
	checkDestroyed(t, admin, out)
}

// checkApplied checks through gophercloud, as the admin and as the user
// the configuration made, that kumo holds what admin.tf.tmpl with v says.
func checkApplied(t *testing.T, s *Server, admin *Clients, out map[string]string, v terraformValues) {
	t.Helper()
	ctx := context.Background()
	if out["scope_project"] != "admin" || out["zones"] != v.Zone {
		t.Errorf("data sources read scope project %q and zones %q, want admin and %q", out["scope_project"], out["zones"], v.Zone)
	}
	if want := strconv.Itoa(v.Instances); out["max_total_instances"] != want || out["hypervisor"] != "up/enabled" {
		t.Errorf("the project's maxTotalInstances %q and the hypervisor's state/status %q; want %s and up/enabled", out["max_total_instances"], out["hypervisor"], want)
	}
	if out["small_flavor_found"] != out["small_flavor_id"] {
		t.Errorf("the flavor data source found %q by name, want %q", out["small_flavor_found"], out["small_flavor_id"])
	}
	if out["image_checksum"] != md5hex(imageData) || out["ec2_access"] == "" {
		t.Errorf("image checksum %q and EC2 access key %q; want %s and a key", out["image_checksum"], out["ec2_access"], md5hex(imageData))
	}

	project, err := projects.Get(ctx, admin.Identity, out["project_id"]).Extract()
	if err != nil {
		t.Fatalf("get the project: %v", err)
	}
	user, err := users.Get(ctx, admin.Identity, out["user_id"]).Extract()
	if err != nil {
		t.Fatalf("get the user: %v", err)
	}
	if project.Description != v.ProjectDescription || user.Description != v.UserDescription || user.Extra["email"] != "dev@example.org" {
		t.Errorf("project description %q, user description %q and extra %v; want %q, %q and the email", project.Description, user.Description, user.Extra, v.ProjectDescription, v.UserDescription)
	}

	flavor, err := flavors.Get(ctx, admin.Compute, out["small_flavor_id"]).Extract()
	if err != nil {
		t.Fatalf("get the flavor: %v", err)
	}
	specs, err := flavors.ListExtraSpecs(ctx, admin.Compute, out["small_flavor_id"]).Extract()
	if err != nil {
		t.Fatalf("list the flavor's extra specs: %v", err)
	}
	if flavor.Swap != 128 || flavor.Description != v.FlavorDescription || specs["hw:cpu_policy"] != v.CPUPolicy {
		t.Errorf("flavor swap %d, description %q, extra specs %v; want 128, %q, hw:cpu_policy %s",
			flavor.Swap, flavor.Description, specs, v.FlavorDescription, v.CPUPolicy)
	}
	quota, err := quotasets.Get(ctx, admin.Compute, out["project_id"]).Extract()
	if err != nil {
		t.Fatalf("get the project's quota: %v", err)
	}
	if quota.Instances != v.Instances || quota.Cores != 14 || quota.KeyPairs != 11 {
		t.Errorf("quota instances %d, cores %d, key pairs %d; want %d, 14, 11", quota.Instances, quota.Cores, quota.KeyPairs, v.Instances)
	}
	aggregate, err := aggregates.Get(ctx, admin.Compute, atoi(t, out["aggregate_id"])).Extract()
	if err != nil {
		t.Fatalf("get the aggregate: %v", err)
	}
	if aggregate.AvailabilityZone != v.Zone || aggregate.Metadata["ssd"] != "true" || len(aggregate.Hosts) != 1 || aggregate.Hosts[0] != "tf-host" {
		t.Errorf("aggregate zone %q, metadata %v, hosts %v; want %q, ssd=true, tf-host", aggregate.AvailabilityZone, aggregate.Metadata, aggregate.Hosts, v.Zone)
	}
	image, err := images.Get(ctx, admin.Image, out["image_id"]).Extract()
	if err != nil {
		t.Fatalf("get the image: %v", err)
	}
	if image.Status != images.ImageStatusActive || image.Visibility != images.ImageVisibilityShared || image.Properties["purpose"] != v.ImagePurpose {
		t.Errorf("image status %s, visibility %s, properties %v; want active, shared, purpose %s", image.Status, image.Visibility, image.Properties, v.ImagePurpose)
	}
	if data := downloadImage(t, admin.Image, out["image_id"]); !bytes.Equal(data, imageData) {
		t.Errorf("the image holds %d bytes, want the %d of disk.raw", len(data), len(imageData))
	}

	// The user logs in to the project through its role assignment, sees
	// the private flavor and the shared image, and has the project limit.
	dev := NewClients(t, writeClouds(t, strings.TrimSuffix(s.URL, "/")+"/identity/v3", "tf-dev", "tf-dev-password", "tf-team"), "kumo")
	if _, err := flavors.Get(ctx, dev.Compute, out["private_flavor_id"]).Extract(); err != nil {
		t.Errorf("the project's user cannot see the private flavor it was given access to: %v", err)
	}
	if _, err := images.Get(ctx, dev.Image, out["image_id"]).Extract(); err != nil {
		t.Errorf("the project's user cannot see the image shared with it: %v", err)
	}
	var usage struct {
		Usage map[string]struct {
			Limit int `json:"limit"`
		} `json:"usage"`
	}
	if _, err := dev.Image.Get(ctx, dev.Image.ServiceURL("info", "usage"), &usage, nil); err != nil {
		t.Fatalf("GET /v2/info/usage as the project's user: %v", err)
	}
	if got := usage.Usage["image_count_total"].Limit; got != v.ImageLimit {
		t.Errorf("the project's image_count_total limit is %d, want %d", got, v.ImageLimit)
	}
}

// checkGeneratedKey checks that the private key kumo generated for the
// generated key pair belongs to its public key.
func checkGeneratedKey(t *testing.T, out map[string]string) {
	t.Helper()
	priv := filepath.Join(t.TempDir(), "generated")
	if err := os.WriteFile(priv, []byte(out["generated_private_key"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := sshPublicFromPrivate(t, priv), keyBody(out["generated_public_key"]); got != want {
		t.Errorf("the generated private key's public key is %q, want the key pair's %q", got, want)
	}
}

// checkDestroyed checks that what the configuration made is gone.
func checkDestroyed(t *testing.T, admin *Clients, out map[string]string) {
	t.Helper()
	ctx := context.Background()
	gets := []struct {
		what string
		get  func() error
	}{
		{"project", func() error { return projects.Get(ctx, admin.Identity, out["project_id"]).Err }},
		{"user", func() error { return users.Get(ctx, admin.Identity, out["user_id"]).Err }},
		{"small flavor", func() error { return flavors.Get(ctx, admin.Compute, out["small_flavor_id"]).Err }},
		{"private flavor", func() error { return flavors.Get(ctx, admin.Compute, out["private_flavor_id"]).Err }},
		{"imported key pair", func() error { return keypairs.Get(ctx, admin.Compute, "tf-imported", nil).Err }},
		{"generated key pair", func() error { return keypairs.Get(ctx, admin.Compute, "tf-generated", nil).Err }},
		{"server group", func() error { return servergroups.Get(ctx, admin.Compute, out["server_group_id"]).Err }},
		{"aggregate", func() error { return aggregates.Get(ctx, admin.Compute, atoi(t, out["aggregate_id"])).Err }},
		{"image", func() error { return images.Get(ctx, admin.Image, out["image_id"]).Err }},
	}
	for _, g := range gets {
		if err := g.get(); !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("after destroy, getting the %s gave %v, want a 404", g.what, err)
		}
	}
}

func downloadImage(t *testing.T, client *gophercloud.ServiceClient, id string) []byte {
	t.Helper()
	r, err := imagedata.Download(context.Background(), client, id).Extract()
	if err != nil {
		t.Fatalf("download image %s: %v", id, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read image %s: %v", id, err)
	}
	return data
}

// TestTerraformServer applies server.tf, plans again (no changes),
// checks the server, and destroys it.
func TestTerraformServer(t *testing.T) {
	// The provider refreshes every openstack_compute_instance_v2 through
	// the networking API, asking for the server's network by its address
	// label (GET /v2.0/networks?name=private&status=ACTIVE): plan and
	// destroy need the network endpoint even without a network block.
	t.Parallel()
	tofu := RequireTofu(t)
	s := Start(t, kumoBin, Options{})
	admin := NewClients(t, s.CloudsFile(), "kumo")
	tf := tofu.Init(t, s.CloudsFile(), "kumo", map[string][]byte{
		"main.tf":  terraformConfig(t, "server.tf"),
		"disk.raw": imageData,
	})
	tf.Apply(t)
	out := tf.Outputs(t)
	server, err := servers.Get(context.Background(), admin.Compute, out["server_id"]).Extract()
	if err != nil {
		t.Fatalf("get the server: %v", err)
	}
	if server.Status != "ACTIVE" || server.KeyName != "tf-key" || server.Metadata["role"] != "web" || out["access_ip_v4"] == "" {
		t.Errorf("server %+v, access_ip_v4 %q: want ACTIVE with key tf-key, metadata role=web and an IPv4 address", server, out["access_ip_v4"])
	}
	tf.Destroy(t)
	if err := servers.Get(context.Background(), admin.Compute, out["server_id"]).Err; !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("after destroy, getting the server gave %v, want a 404", err)
	}
}

// TestTerraformNetworking applies networking.tf, plans again (no
// changes), checks the server's addresses, and destroys it all: the
// provider's usual networking configuration (a network and subnet, a
// security group with rules, a router with its gateway and an interface,
// a port with the group, a server booted on the port, a floating IP
// associated with it).
func TestTerraformNetworking(t *testing.T) {
	t.Parallel()
	tofu := RequireTofu(t)
	s := Start(t, kumoBin, Options{})
	admin := NewClients(t, s.CloudsFile(), "kumo")
	tf := tofu.Init(t, s.CloudsFile(), "kumo", map[string][]byte{
		"main.tf":  terraformConfig(t, "networking.tf"),
		"disk.raw": imageData,
	})
	tf.Apply(t)
	out := tf.Outputs(t)
	if out["fixed_ip"] != "192.168.77.10" || out["floating_ip"] == "" {
		t.Errorf("outputs %v: want the server on the port's fixed address 192.168.77.10 and a floating IP", out)
	}
	server, err := servers.Get(context.Background(), admin.Compute, out["server_id"]).Extract()
	if err != nil {
		t.Fatalf("get the server: %v", err)
	}
	// Nova labels the addresses with the network's name.
	got := map[string]bool{}
	entries, _ := server.Addresses["tf-app"].([]any)
	for _, e := range entries {
		if addr, ok := e.(map[string]any); ok {
			got[fmt.Sprint(addr["addr"])] = true
		}
	}
	if !got[out["fixed_ip"]] || !got[out["floating_ip"]] {
		t.Errorf("server addresses %v, want %s and %s on tf-app", server.Addresses, out["fixed_ip"], out["floating_ip"])
	}
	tf.Destroy(t)
	if err := servers.Get(context.Background(), admin.Compute, out["server_id"]).Err; !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("after destroy, getting the server gave %v, want a 404", err)
	}
}
