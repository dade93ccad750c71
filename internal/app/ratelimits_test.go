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

// TestRateLimitsFlag: --rate-limits off builds a limiter without rules,
// default the document's five rules, a file its own; a bad file stops
// the start saying why.
func TestRateLimitsFlag(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "rate.yaml")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte("rate_limits:\n- {verb: get, uri: '*', regex: '.*', value: 9, unit: hour}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("rate_limits:\n- {verb: GET, uri: '*', regex: '.*', value: 9, unit: WEEK}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag    string
		rules   int
		wantErr string
	}{
		{"", 0, ""},
		{"default", 5, ""},
		{file, 1, ""},
		{bad, 0, "unit \"WEEK\""},
		{filepath.Join(t.TempDir(), "missing.yaml"), 0, "no such file"},
	} {
		t.Run(filepath.Base(tc.flag), func(t *testing.T) {
			a, err := Open(context.Background(), Config{DataDir: t.TempDir(), RateLimits: tc.flag, PasswordHashCost: 4},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--rate-limits") {
					t.Fatalf("Open = %v, want an error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if got := len(a.RateLimits.Rules()); got != tc.rules {
				t.Errorf("%d rules, want %d", got, tc.rules)
			}
		})
	}
}
