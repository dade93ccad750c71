package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// localKumo is a kumo process the benchmark started.
type localKumo struct {
	cmd        *exec.Cmd
	dir        string
	pid        int
	cloudsFile string
}

// launchKumo builds kumo from this checkout and starts it on a free
// loopback port with a temporary data dir (and database and virt driver,
// if given), with host capacity large enough for 10,000 servers.
func launchKumo(ctx context.Context, database, driver string) (*localKumo, error) {
	dir, err := os.MkdirTemp("", "kumo-bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "kumo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kumo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build kumo (run from the repository root): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"serve", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn",
		"--host-vcpus", "1000000", "--host-memory-mb", "1000000000", "--host-disk-gb", "100000000"}
	if database != "" {
		args = append(args, "--database", database)
	}
	if driver != "" {
		args = append(args, "--driver", driver)
	}
	log, err := os.Create(filepath.Join(dir, "kumo.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	k := &localKumo{cmd: cmd, dir: dir, pid: cmd.Process.Pid, cloudsFile: filepath.Join(dir, "data", "clouds.yaml")}
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return k, nil
			}
		}
		if time.Now().After(deadline) {
			k.stop()
			return nil, fmt.Errorf("kumo did not become healthy; see %s", log.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop terminates the kumo process (by its pid) and removes its files.
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
	os.RemoveAll(k.dir)
}
