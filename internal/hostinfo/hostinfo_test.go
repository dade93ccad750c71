package hostinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadReportsThisMachine(t *testing.T) {
	c, err := Read(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.VCPUs < 1 || c.MemoryMB < 64 || c.DiskGB < 1 {
		t.Fatalf("implausible capacity %+v", c)
	}
}

func TestMemTotal(t *testing.T) {
	cases := []struct {
		name, content string
		want          int
		ok            bool
	}{
		{"normal", "MemTotal:       24576000 kB\nMemFree: 1 kB\n", 24000, true},
		{"missing", "MemFree: 1 kB\n", 0, false},
		{"garbage", "MemTotal: lots kB\n", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "meminfo")
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := memTotalMB(p)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("memTotalMB = %d, %v; want %d, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestFreeBytes(t *testing.T) {
	dir := t.TempDir()
	free, err := FreeBytes(dir)
	if err != nil || free <= 0 {
		t.Fatalf("FreeBytes = %d, %v", free, err)
	}
	if _, err := FreeBytes(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("FreeBytes of a missing path: no error")
	}
}
