// Package hostinfo reads the real capacity of the machine kumo runs on:
// CPUs, memory and the disk holding the data directory.
package hostinfo

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Capacity is what a host offers to guests.
type Capacity struct {
	VCPUs    int
	MemoryMB int
	DiskGB   int
}

// Read returns the machine's CPUs, memory (from /proc/meminfo) and the
// size of the filesystem holding dir.
func Read(dir string) (Capacity, error) {
	c := Capacity{VCPUs: runtime.NumCPU()}
	mem, err := memTotalMB("/proc/meminfo")
	if err != nil {
		return c, err
	}
	c.MemoryMB = mem
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return c, fmt.Errorf("statfs %s: %w", dir, err)
	}
	c.DiskGB = int(uint64(st.Bsize) * st.Blocks >> 30)
	return c, nil
}

func memTotalMB(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read memory size: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				return 0, fmt.Errorf("parse MemTotal: %w", err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in %s", path)
}

// FreeBytes is the space left to unprivileged writers on the filesystem
// holding path (statfs's available blocks: the blocks ext4 keeps for
// root do not count, so what it reports is there for kumo too).
func FreeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs: %w", err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
