package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// How long kumo gets to become healthy and to stop after SIGTERM.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
)

// Options configure one kumo process.
type Options struct {
	// DataDir is kumo's data directory; empty means a fresh t.TempDir().
	DataDir string
	// Listen is host:port; empty means 127.0.0.1 on a free port.
	Listen string
	// Args are extra flags, e.g. "--auth", "noauth".
	Args []string
	// Command is the kumo command run: serve (the default), api or
	// compute.
	Command string
}

// Server is a running `kumo serve` (or api, or compute) process.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123.
	URL string
	// Listen is the host:port kumo listens on (reuse it to restart).
	Listen string
	// DataDir is kumo's data directory.
	DataDir string
	// LogFile holds kumo's stdout and stderr.
	LogFile string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit status, valid after done
}

// CloudsFile is the clouds.yaml kumo wrote for the admin account.
func (s *Server) CloudsFile() string { return filepath.Join(s.DataDir, "clouds.yaml") }

// Start runs `kumo serve` from bin, waits until GET /healthz answers 200,
// and stops the process when the test ends.
func Start(t testing.TB, bin string, o Options) *Server {
	t.Helper()
	// A free port can be taken between probing and binding. kumo writes
	// the address into clouds.yaml before it binds, so a retry needs a
	// fresh data dir too: only retry when the test chose neither.
	canRetry := o.DataDir == "" && o.Listen == ""
	for attempt := 1; ; attempt++ {
		try := o
		if try.DataDir == "" {
			try.DataDir = t.TempDir()
		}
		if try.Listen == "" {
			try.Listen = freeAddr(t)
		}
		s, err := start(t, bin, try)
		if err == nil {
			t.Cleanup(func() { s.Stop(t) })
			return s
		}
		if !canRetry || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("start kumo: %v", err)
		}
	}
}

func start(t testing.TB, bin string, o Options) (*Server, error) {
	listen := o.Listen
	logFile := filepath.Join(t.TempDir(), "kumo.log")
	logw, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	defer logw.Close() // the child keeps its own descriptor
	// bcrypt's lowest cost: every openstack CLI command logs in, and at
	// Keystone's cost (kumo's default) each login takes a quarter of a
	// second or more. o.Args may set it again (the last flag wins).
	command := o.Command
	if command == "" {
		command = "serve"
	}
	args := []string{command, "--listen", listen, "--data-dir", o.DataDir, "--log-level", "debug"}
	if command != "compute" { // a compute host logs nobody in
		args = append(args, "--password-hash-cost", "4")
	}
	args = append(args, o.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout = logw
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	s := &Server{URL: "http://" + listen, Listen: listen, DataDir: o.DataDir, LogFile: logFile, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitHealthy(); err != nil {
		s.kill()
		return nil, fmt.Errorf("%w\nkumo log:\n%s", err, tail(logFile, 40))
	}
	return s, nil
}

// waitHealthy polls /healthz until it answers 200, the process exits, or
// startTimeout passes.
func (s *Server) waitHealthy() error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("kumo exited before it was healthy: %v", s.err)
		default:
		}
		resp, err := client.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("kumo was not healthy at %s/healthz within %v", s.URL, startTimeout)
}

// Stop sends SIGTERM, then SIGKILL after stopTimeout, and waits for the
// process. It is safe to call more than once. A failed test gets the
// tail of kumo's log.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			t.Errorf("kumo (pid %d) did not stop within %v of SIGTERM; killing it", s.cmd.Process.Pid, stopTimeout)
			s.kill()
		}
	}
	if t.Failed() {
		t.Logf("kumo log (%s), last lines:\n%s", s.LogFile, tail(s.LogFile, 60))
	}
}

// Kill stops the process with SIGKILL at once, as a crash or power loss
// would, and waits for it to exit. It is safe after Stop.
func (s *Server) Kill() { s.kill() }

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// PID is the kumo process's id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// ExitErr is the process's exit status once it has stopped: nil after a
// clean exit, an error while it still runs or when it failed.
func (s *Server) ExitErr() error {
	select {
	case <-s.done:
		return s.err
	default:
		return fmt.Errorf("kumo (pid %d) is still running", s.cmd.Process.Pid)
	}
}

// freeAddr returns 127.0.0.1:<a port nobody listens on right now>.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv is the test's environment without OS_* (client settings) and
// KUMO_* (kumo defaults), so nothing from the caller's shell leaks in, and
// with loopback exempt from any HTTP proxy the environment names.
func cleanEnv() []string {
	var env []string
	noProxy := "127.0.0.1,localhost"
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OS_"), strings.HasPrefix(k, "KUMO_"):
			continue
		case strings.EqualFold(k, "no_proxy"):
			if v != "" {
				noProxy = v + "," + noProxy
			}
			continue
		}
		env = append(env, kv)
	}
	return append(env, "no_proxy="+noProxy, "NO_PROXY="+noProxy)
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// RunKumo runs a kumo subcommand that is not serve and returns its
// standard output, failing the test with stderr on error.
func RunKumo(t testing.TB, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kumo %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// RunKumoFail runs a kumo command that must fail (a non-zero exit within
// startTimeout) and returns what it wrote to stdout and stderr.
func RunKumoFail(t testing.TB, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("kumo %s still ran after %v; want it to fail at once\noutput:\n%s", strings.Join(args, " "), startTimeout, out)
	}
	if err == nil {
		t.Fatalf("kumo %s succeeded; want it to fail\noutput:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}
