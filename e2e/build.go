package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// BuildKumo compiles cmd/kumo into dir and returns the binary's path.
// It runs from the e2e directory, so the module root is its parent.
func BuildKumo(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("locate the e2e package source")
	}
	root := filepath.Dir(filepath.Dir(self))
	bin := filepath.Join(dir, "kumo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kumo")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kumo: %w\n%s", err, out)
	}
	return bin, nil
}
