package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// The variables scripts/test sets (from scripts/build-tofu) for the
// Terraform tests: the OpenTofu binary and a provider filesystem mirror
// holding the Terraform OpenStack provider.
const (
	tofuBinEnv    = "KUMO_TOFU"
	tofuMirrorEnv = "KUMO_TF_MIRROR"
)

// tofuProvider is the provider's source address; the mirror holds it under
// registry.opentofu.org/, the registry OpenTofu resolves short sources to.
const tofuProvider = "terraform-provider-openstack/openstack"

// tofuTimeout bounds one tofu command: applying a configuration waits for
// every resource (servers, images) to be ready.
const tofuTimeout = 10 * time.Minute

// TofuTools are the OpenTofu binary and the provider mirror scripts/test
// builds (scripts/build-tofu) and names in KUMO_TOFU and KUMO_TF_MIRROR.
type TofuTools struct {
	bin, mirror string
}

// RequireTofu returns the tools, and skips the test when KUMO_TOFU is not
// set: scripts/test always sets it, so CI runs these tests.
func RequireTofu(t *testing.T) TofuTools {
	t.Helper()
	tools := TofuTools{bin: os.Getenv(tofuBinEnv), mirror: os.Getenv(tofuMirrorEnv)}
	if tools.bin == "" {
		t.Skipf("%s is not set: scripts/test builds OpenTofu and the OpenStack provider (scripts/build-tofu) and sets it", tofuBinEnv)
	}
	if tools.mirror == "" {
		t.Fatalf("%s is set but %s is not: run scripts/build-tofu and set both", tofuBinEnv, tofuMirrorEnv)
	}
	return tools
}

// Tofu runs OpenTofu in a working directory that holds one configuration
// for the OpenStack provider, logged in to a kumo, and its state.
type Tofu struct {
	bin string
	dir string
	env []string
}

// Init writes files (the configuration's .tf files and the files they
// read) into a fresh working directory, beside a provider block that logs
// in as cloud from cloudsFile, and runs `tofu init` there.
func (tools TofuTools) Init(t *testing.T, cloudsFile, cloud string, files map[string][]byte) *Tofu {
	t.Helper()
	tf := &Tofu{bin: tools.bin, dir: t.TempDir()}
	cliConfig := filepath.Join(t.TempDir(), "tofu.rc")
	writeFile(t, cliConfig, []byte(tofuCLIConfig(tools.mirror)))
	tf.WriteFile(t, "provider.tf", []byte(providerConfig(t, cloudsFile, cloud)))
	for name, content := range files {
		tf.WriteFile(t, name, content)
	}
	tf.env = append(cleanEnv(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		// A plugin cache would take providers from outside the mirror.
		"TF_PLUGIN_CACHE_DIR=",
	)
	tf.Run(t, "init")
	return tf
}

// WriteFile writes (or replaces) a file of the working directory, e.g. a
// changed main.tf to apply next.
func (tf *Tofu) WriteFile(t *testing.T, name string, content []byte) {
	t.Helper()
	writeFile(t, filepath.Join(tf.dir, name), content)
}

// tofuCLIConfig is a CLI configuration that installs the OpenStack
// provider from the filesystem mirror and nothing from a registry, which
// neither CI nor the developers' machines can reach.
func tofuCLIConfig(mirror string) string {
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %s
    include = [%s]
  }
}
`, strconv.Quote(mirror), strconv.Quote("registry.opentofu.org/"+tofuProvider))
}

// providerConfig is the provider block for cloud from cloudsFile, with the
// credentials spelled out as a user would write them.
func providerConfig(t *testing.T, cloudsFile, cloud string) string {
	t.Helper()
	ao, eo, _, err := clouds.Parse(clouds.WithLocations(cloudsFile), clouds.WithCloudName(cloud))
	if err != nil {
		t.Fatalf("parse %s: %v", cloudsFile, err)
	}
	projectDomain := ao.DomainName
	if ao.Scope != nil && ao.Scope.DomainName != "" {
		projectDomain = ao.Scope.DomainName
	}
	q := strconv.Quote // Go's quoting of these plain strings is HCL's
	return fmt.Sprintf(`terraform {
  required_providers {
    openstack = {
      source = %s
    }
  }
}

provider "openstack" {
  auth_url            = %s
  user_name           = %s
  password            = %s
  tenant_name         = %s
  user_domain_name    = %s
  project_domain_name = %s
  region              = %s
}
`, q(tofuProvider), q(ao.IdentityEndpoint), q(ao.Username), q(ao.Password), q(ao.TenantName),
		q(ao.DomainName), q(projectDomain), q(eo.Region))
}

// Exec runs `tofu args...` in the working directory and returns what it
// printed, whatever the outcome.
func (tf *Tofu) Exec(args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), tofuTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf.bin, append([]string{"-chdir=" + tf.dir}, append(args, "-no-color")...)...)
	cmd.Env = tf.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after %v: %w", tofuTimeout, err)
	}
	return Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// Run runs `tofu args...`, fails the test with both outputs when it exits
// non-zero, and returns standard output.
func (tf *Tofu) Run(t *testing.T, args ...string) string {
	t.Helper()
	r := tf.Exec(args...)
	if r.Err != nil {
		t.Fatalf("tofu %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Apply applies the configuration, then plans again and fails the test
// unless the plan is empty: a resource whose read-back differs from what
// was applied (a field kumo drops, renames or reformats) shows up as a
// change, and a refresh that fails fails the plan.
func (tf *Tofu) Apply(t *testing.T) {
	t.Helper()
	tf.Run(t, "apply", "-auto-approve")
	// -detailed-exitcode: 0 no changes, 1 an error, 2 changes.
	r := tf.Exec("plan", "-detailed-exitcode")
	var exit *exec.ExitError
	switch {
	case r.Err == nil:
	case errors.As(r.Err, &exit) && exit.ExitCode() == 2:
		t.Fatalf("tofu plan after apply wants changes; want none:\n%s", r.Stdout)
	default:
		t.Fatalf("tofu plan after apply: %v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
}

// Destroy destroys everything the configuration made.
func (tf *Tofu) Destroy(t *testing.T) {
	t.Helper()
	tf.Run(t, "destroy", "-auto-approve")
}

// Outputs returns the configuration's outputs, which must be strings.
func (tf *Tofu) Outputs(t *testing.T) map[string]string {
	t.Helper()
	var raw map[string]struct {
		Value any `json:"value"`
	}
	out := tf.Run(t, "output", "-json")
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("tofu output -json printed no JSON: %v\n%s", err, out)
	}
	outputs := make(map[string]string, len(raw))
	for name, o := range raw {
		s, ok := o.Value.(string)
		if !ok {
			t.Fatalf("output %s is %T (%v), want a string", name, o.Value, o.Value)
		}
		outputs[name] = s
	}
	return outputs
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
