package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFaultsFile: --faults FILE is stored at start, again on a restart
// in place of what it held; a bad file stops the start saying why.
func TestFaultsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "faults.yaml")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open := func() (*App, error) {
		return Open(context.Background(), Config{DataDir: dir, FaultsFile: file, PasswordHashCost: 4},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	names := func(a *App) string {
		rules, err := a.Faults.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rules {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	write("faults:\n  - name: a\n    action: {type: reset}\n  - name: b\n    operation: build\n    action: {type: driver_error}\n")
	a, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if got := names(a); got != "a,b" {
		t.Fatalf("rules after the first start: %s", got)
	}
	a.Close()
	write("faults:\n  - name: b\n    operation: build\n    action: {type: driver_hang, delay_ms: 10}\n")
	if a, err = open(); err != nil {
		t.Fatal(err)
	}
	if got := names(a); got != "b" {
		t.Fatalf("rules after a restart with another file: %s", got)
	}
	a.Close()
	write("faults:\n  - name: c\n    action: {type: status, status: 700}\n")
	if _, err := open(); err == nil || !strings.Contains(err.Error(), "400-599") || !strings.Contains(err.Error(), "faults.yaml") {
		t.Fatalf("a bad file: %v", err)
	}
}
