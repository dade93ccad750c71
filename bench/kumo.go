package main

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
	"time"
)

// localKumo is a kumo process the benchmark started.
type localKumo struct {
	cmd        *exec.Cmd
	dir        string // its data dir's parent, under the build's directory
	addr       string // host:port it listens on
	pid        int
	cloudsFile string
}

// kumoBuild is a kumo binary built from this checkout in a temporary
// directory, and the settings every process started from it shares.
type kumoBuild struct {
	dir      string
	bin      string
	database string // "" for SQLite in the first process's data dir
	driver   string
	env      []string // extra environment of every process (GOMAXPROCS=1, say)
	secret   string   // the first process's secret.key, which the others share
}

// buildKumo builds kumo from this checkout into a temporary directory.
func buildKumo(ctx context.Context, database, driver string) (*kumoBuild, error) {
	dir, err := os.MkdirTemp("", "kumo-bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "kumo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kumo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build kumo (run from the repository root): %w", err)
	}
	return &kumoBuild{dir: dir, bin: bin, database: database, driver: driver}, nil
}

// remove deletes the build's directory (after every process stopped).
func (kb *kumoBuild) remove() { os.RemoveAll(kb.dir) }

// launchKumo builds kumo from this checkout and starts it on a free
// loopback port with a temporary data dir (and database and virt driver,
// if given) and environment, with host capacity large enough for
// 100,000 servers; it returns the build to start more processes from.
func launchKumo(ctx context.Context, database, driver string, env []string) (*localKumo, *kumoBuild, error) {
	kb, err := buildKumo(ctx, database, driver)
	if err != nil {
		return nil, nil, err
	}
	kb.env = env
	k, err := kb.start(ctx, "main", "serve")
	if err != nil {
		kb.remove()
		return nil, nil, err
	}
	return k, kb, nil
}

// start starts one kumo process named name (its data dir and log are
// under the build's directory, named after it) with command, a kumo
// subcommand and its own flags ("serve", "serve --host h2"); the
// listen address, data dir, log level, database and, for serve, the
// driver and a host capacity large enough for 100,000 servers are
// added. Every process of a build shares one database: PostgreSQL's, or
// the SQLite file of the first process started.
func (kb *kumoBuild) start(ctx context.Context, name, command string) (*localKumo, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(kb.dir, name)
	args := strings.Fields(command)
	if len(args) == 0 {
		return nil, fmt.Errorf("no kumo command for process %s", name)
	}
	args = append(args, "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn")
	if args[0] == "serve" {
		args = append(args, "--host-vcpus", "1000000", "--host-memory-mb", "2000000000", "--host-disk-gb", "2000000000")
		if kb.driver != "" {
			args = append(args, "--driver", kb.driver)
		}
	}
	if kb.database == "" {
		// SQLite: the first process's file, shared by the others.
		kb.database = filepath.Join(dir, "data", "kumo.db")
	}
	database := kb.database
	if strings.HasPrefix(name, "host") && strings.HasPrefix(database, "postgres") {
		// The extra compute hosts answer no API request: a small pool
		// each, so that ten of them and two API processes stay within
		// PostgreSQL's default max_connections (100).
		sep := "?"
		if strings.Contains(database, "?") {
			sep = "&"
		}
		database += sep + "pool_max_conns=4"
	}
	args = append(args, "--database", database)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, err
	}
	// Processes on one database share the secret.key sealing server
	// passwords and credentials (README).
	if kb.secret == "" {
		kb.secret = filepath.Join(dir, "data", "secret.key")
	} else if raw, err := os.ReadFile(kb.secret); err != nil {
		return nil, fmt.Errorf("read the first process's secret.key: %w", err)
	} else if err := os.WriteFile(filepath.Join(dir, "data", "secret.key"), raw, 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "kumo.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(kb.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), kb.env...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	k := &localKumo{cmd: cmd, dir: dir, addr: addr, pid: cmd.Process.Pid, cloudsFile: filepath.Join(dir, "data", "clouds.yaml")}
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return k, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			k.stop()
			return nil, fmt.Errorf("kumo %s did not become healthy; see %s", name, log.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop terminates the kumo process (by its pid).
func (k *localKumo) stop() {
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = k.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = k.cmd.Process.Kill()
		<-done
	}
}
