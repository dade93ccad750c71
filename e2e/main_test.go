package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// kumoBin is the binary TestMain builds once for every test.
var kumoBin string

// scratchDir is TestMain's temporary directory, removed when the tests
// end: things built once for several tests go there.
var scratchDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kumo-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	scratchDir = dir
	if kumoBin, err = BuildKumo(context.Background(), dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if cliServer, err = startCLIServer(dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v; each openstack command runs as a process of its own\n", err)
	}
	return m.Run()
}

// requireCLI fails (never skips) when the openstack CLI is missing: a
// green run must have driven kumo with it.
func requireCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openstack"); err != nil {
		t.Fatalf("the openstack CLI is required for the e2e tests (apt-get install python3-openstackclient, or run scripts/test): %v", err)
	}
}

// startAdmin starts kumo with default flags and returns it with an
// openstack CLI logged in as its admin.
func startAdmin(t *testing.T, args ...string) (*Server, *CLI) {
	t.Helper()
	requireCLI(t)
	s := Start(t, kumoBin, Options{Args: args})
	return s, NewCLI(s.CloudsFile(), "kumo")
}
