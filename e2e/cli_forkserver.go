package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cliServer is the socket of the openstack CLI's fork server
// (testdata/osc_forkserver.py), started by TestMain; "" runs each command
// as a process of its own. The server imports the CLI once and forks a
// child per command that runs the CLI's own main(): the same code on
// the same arguments, without the 0.6 s of CPU each start-up spends
// importing it (the e2e tests run the CLI well over a thousand times).
var cliServer string

// startCLIServer starts the fork server with the interpreter of the
// openstack script, its socket in dir; it answers "" (and the commands
// run as processes) when that fails. The server exits when this process
// does.
func startCLIServer(dir string) (string, error) {
	script, err := exec.LookPath("openstack")
	if err != nil {
		return "", err
	}
	f, err := os.Open(script)
	if err != nil {
		return "", err
	}
	first, _ := bufio.NewReader(f).ReadString('\n')
	f.Close()
	interp := strings.Fields(strings.TrimPrefix(strings.TrimSpace(first), "#!"))
	if len(interp) == 0 || !strings.Contains(filepath.Base(interp[0]), "python") {
		return "", fmt.Errorf("%s is not a python script (%q)", script, first)
	}
	sock := filepath.Join(dir, "osc.sock")
	cmd := exec.Command(interp[0], append(interp[1:], "testdata/osc_forkserver.py", sock)...)
	cmd.Env = cleanEnv()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("said %q", line)
		}
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(time.Minute):
		err = fmt.Errorf("not ready after a minute")
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", fmt.Errorf("openstack CLI fork server: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return sock, nil
}

// cliExitError is a command's non-zero exit status through the fork
// server.
type cliExitError struct{ code int }

func (e *cliExitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// execForked runs `openstack args...` with env through the fork server at
// sock, giving up (and killing the command) when ctx ends.
func execForked(ctx context.Context, sock string, env, args []string, stdout, stderr io.Writer) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unixpacket", sock) // the request is one message
	if err != nil {
		return fmt.Errorf("openstack CLI fork server: %w", err)
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()
	envMap := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		envMap[k] = v
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	req, err := json.Marshal(map[string]any{"argv": args, "env": envMap, "cwd": cwd})
	if err != nil {
		return err
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer stdin.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return err
	}
	defer errR.Close()
	rights := syscall.UnixRights(int(stdin.Fd()), int(outW.Fd()), int(errW.Fd()))
	_, _, err = conn.WriteMsgUnix(req, rights, nil)
	// The child holds the write ends now: ours go, so that the reads
	// below end when the command does.
	outW.Close()
	errW.Close()
	if err != nil {
		return fmt.Errorf("openstack CLI fork server: %w", err)
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); _, _ = io.Copy(stdout, outR) }()
	go func() { defer copies.Done(); _, _ = io.Copy(stderr, errR) }()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // the server kills the command
	defer stop()
	line, err := bufio.NewReader(conn).ReadString('\n')
	copies.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("openstack CLI fork server: %w", err)
	}
	code, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return fmt.Errorf("openstack CLI fork server answered %q", line)
	}
	if code != 0 {
		return &cliExitError{code: code}
	}
	return nil
}
