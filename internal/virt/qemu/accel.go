package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// probeDeadline is how long KVM gets to run a boot sector to its serial
// output; a working KVM needs well under a second, the broken nested
// ones never make it.
const probeDeadline = 10 * time.Second

// probeMark is what the probe disk's boot sector prints on COM1.
const probeMark = "KUMO-PROBE-OK"

// probeDisk is a 1 MiB disk (SeaBIOS will not boot a lone sector) whose
// boot sector writes probeMark to COM1 (mov dx,0x3f8; mov al,c; out dx,al
// per character) and halts.
func probeDisk() []byte {
	b := make([]byte, 1<<20)
	code := []byte{0xBA, 0xF8, 0x03}
	for _, c := range []byte(probeMark + "\n") {
		code = append(code, 0xB0, c, 0xEE)
	}
	code = append(code, 0xF4, 0xEB, 0xFD) // hlt; jmp back to hlt
	copy(b, code)
	b[510], b[511] = 0x55, 0xAA
	return b
}

type accelCache struct {
	Host   string `json:"host"`
	Kernel string `json:"kernel"`
	Accel  string `json:"accel"`
}

// chooseAccel returns "kvm" or "tcg": explicit when asked, else from a
// real probe boot under KVM, remembered per host and kernel.
func chooseAccel(ctx context.Context, o Options) (string, error) {
	switch o.Accel {
	case "kvm", "tcg":
		return o.Accel, nil
	case "", "auto":
	default:
		return "", fmt.Errorf("unknown qemu accel %q (auto, kvm, tcg)", o.Accel)
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg", nil
	}
	f.Close()
	host, _ := os.Hostname()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	want := accelCache{Host: host, Kernel: strings.TrimSpace(string(kernel))}
	cachePath := filepath.Join(o.DataDir, "qemu-accel.json")
	var cached accelCache
	if b, err := os.ReadFile(cachePath); err == nil && json.Unmarshal(b, &cached) == nil &&
		cached.Host == want.Host && cached.Kernel == want.Kernel && cached.Accel != "" {
		return cached.Accel, nil
	}
	want.Accel = "tcg"
	if probeKVM(ctx, o.Binary) {
		want.Accel = "kvm"
	}
	if b, err := json.Marshal(want); err == nil {
		_ = os.MkdirAll(o.DataDir, 0o700)
		_ = os.WriteFile(cachePath, b, 0o600)
	}
	return want.Accel, nil
}

// probeKVM boots the probe sector under KVM and reports whether it
// printed its mark before the deadline.
func probeKVM(ctx context.Context, binary string) bool {
	return probeBoot(ctx, binary, "kvm")
}

// probeBoot boots the probe disk with accel and reports whether it
// printed its mark before the deadline.
func probeBoot(ctx context.Context, binary, accel string) bool {
	dir, err := os.MkdirTemp("", "kumo-kvm-probe-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	disk, serial := filepath.Join(dir, "boot.img"), filepath.Join(dir, "serial.log")
	if os.WriteFile(disk, probeDisk(), 0o600) != nil {
		return false
	}
	args := []string{"-M", "q35", "-accel", accel, "-m", "64",
		"-nographic", "-nodefaults", "-serial", "file:" + serial, "-drive", "file=" + disk + ",format=raw,if=ide"}
	if accel == "kvm" {
		args = append(args, "-cpu", "max,-arch-capabilities")
	}
	cmd := exec.Command(binary, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() != nil {
		return false
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(probeDeadline)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(serial); bytes.Contains(b, []byte(probeMark)) {
			return true
		}
		if sleep(ctx, 100*time.Millisecond) != nil {
			return false
		}
	}
	return false
}
