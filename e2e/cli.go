package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one openstack CLI call (its start-up alone takes a
// second or two).
const cliTimeout = 2 * time.Minute

// CLI runs the openstack command line client with a fixed set of OS_*
// variables and none from the caller's environment.
type CLI struct {
	env []string
}

// NewCLI returns a CLI that logs in with cloud name from cloudsFile.
func NewCLI(cloudsFile, cloud string) *CLI {
	return NewCLIEnv(map[string]string{"OS_CLIENT_CONFIG_FILE": cloudsFile, "OS_CLOUD": cloud})
}

// NewCLIEnv returns a CLI configured only by the given OS_* variables
// (e.g. those `kumo openrc` prints).
func NewCLIEnv(vars map[string]string) *CLI {
	env := cleanEnv()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return &CLI{env: env}
}

// Result is what one CLI call printed.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Err            error // nil when the command exited 0
}

// Exec runs `openstack args...` and returns what it printed, whatever the
// outcome.
func (c *CLI) Exec(args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var stdout, stderr strings.Builder
	var err error
	if cliServer != "" {
		err = execForked(ctx, cliServer, c.env, args, &stdout, &stderr)
	} else {
		cmd := exec.CommandContext(ctx, "openstack", args...)
		cmd.Env = c.env
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
	}
	return Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// Run runs `openstack args...`, fails the test with both outputs when it
// exits non-zero, and returns standard output.
func (c *CLI) Run(t testing.TB, args ...string) string {
	t.Helper()
	r := c.Exec(args...)
	if r.Err != nil {
		t.Fatalf("openstack %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// JSON runs `openstack args... -f json` and decodes its output into v.
func (c *CLI) JSON(t testing.TB, v any, args ...string) {
	t.Helper()
	out := c.Run(t, append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("openstack %s -f json printed no JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Fail runs `openstack args...`, fails the test when it succeeds, and
// returns standard error (where the CLI reports API errors).
func (c *CLI) Fail(t testing.TB, args ...string) string {
	t.Helper()
	r := c.Exec(args...)
	if r.Err == nil {
		t.Fatalf("openstack %s succeeded, want an error\nstdout:\n%s", strings.Join(args, " "), r.Stdout)
	}
	var forked *cliExitError
	if _, ok := r.Err.(*exec.ExitError); !ok && !errors.As(r.Err, &forked) {
		t.Fatalf("openstack %s did not run: %v", strings.Join(args, " "), r.Err)
	}
	return r.Stderr
}
