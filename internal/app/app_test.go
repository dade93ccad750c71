package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/identity"
	"golang.org/x/crypto/bcrypt"
)

func openTestApp(t *testing.T, dataDir string) *App {
	t.Helper()
	a, err := Open(context.Background(), Config{DataDir: dataDir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestFirstStartWritesPrivateCloudsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := openTestApp(t, dir)
	st, err := os.Stat(a.Config.CloudsFile())
	if err != nil {
		t.Fatalf("clouds.yaml not written: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("clouds.yaml mode %v, want 0600", st.Mode().Perm())
	}
	creds, err := ReadClouds(a.Config.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	if creds.Username != "admin" || creds.ProjectName != "admin" || len(creds.Password) < 20 {
		t.Fatalf("unexpected credentials %+v", creds)
	}
	if !strings.HasSuffix(creds.AuthURL, "/identity/v3") {
		t.Fatalf("auth_url %q does not point at the identity API", creds.AuthURL)
	}
	// The admin's password is hashed at Keystone's default bcrypt cost.
	var hash string
	if err := a.DB.QueryRowContext(context.Background(), `SELECT password_hash FROM users WHERE name = 'admin'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != 12 {
		t.Errorf("admin password hash cost %d (%v), want Keystone's 12", cost, err)
	}
	rc := OpenRC(creds)
	for _, want := range []string{"export OS_AUTH_URL=", "export OS_PASSWORD='" + creds.Password + "'", "export OS_PROJECT_NAME='admin'"} {
		if !strings.Contains(rc, want) {
			t.Errorf("openrc lacks %q:\n%s", want, rc)
		}
	}
}

func TestRestartKeepsAdminPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := openTestApp(t, dir)
	first, err := os.ReadFile(a.Config.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := openTestApp(t, dir)
	second, err := os.ReadFile(b.Config.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Fatal("second start rewrote clouds.yaml")
	}
	if _, err := os.Stat(filepath.Join(dir, "kumo.db")); err != nil {
		t.Fatalf("database not in the data dir: %v", err)
	}
}

// TestImageLimitsRegisteredOnceKeptOnRestart: the first start registers
// the image service's default limits from the configuration; a restart
// with other defaults keeps what an admin set.
func TestImageLimitsRegisteredOnceKeptOnRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := openTestApp(t, dir)
	ctx := context.Background()
	image := identity.ServiceID("image")
	regs, err := a.Identity.ListRegisteredLimits(ctx, identity.LimitFilter{ServiceID: &image})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range regs {
		got[r.ResourceName] = r.DefaultLimit
		if r.ResourceName == "image_size_total" {
			v := int64(5)
			if _, err := a.Identity.UpdateRegisteredLimit(ctx, r.ID, identity.RegisteredLimitPatch{DefaultLimit: &v}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := DefaultImageLimits()
	if len(got) != len(want) {
		t.Fatalf("registered %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("registered %v, want %v", got, want)
		}
	}
	a.Close()
	b, err := Open(ctx, Config{DataDir: dir, ImageLimits: map[string]int64{"image_size_total": 7, "image_count_total": 7}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	lim, err := identity.EffectiveLimits(ctx, b.DB, image, "any", []string{"image_size_total", "image_count_total"})
	if err != nil {
		t.Fatal(err)
	}
	if lim["image_size_total"] != 5 || lim["image_count_total"] != 100 {
		t.Fatalf("after restart: %v", lim)
	}
}
