package volume_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/volume"
	"github.com/kumocloud/kumo/internal/volume/volfile"
)

var (
	admin = &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}}
	alice = &auth.Principal{UserID: "alice", ProjectID: "pa", Roles: []string{"member", "reader"}}
	bob   = &auth.Principal{UserID: "bob", ProjectID: "pb", Roles: []string{"member", "reader"}}
)

func ptr[T any](v T) *T { return &v }

// env is a volume service with its worker over files in a temporary
// directory and a real image service.
type env struct {
	s      *volume.Service
	w      *volume.Worker
	b      volume.Backend // the worker's volume store
	images *image.Service
	dir    string
	ctx    context.Context
}

func newEnv(t *testing.T, db *store.DB, cfg volume.Config) *env {
	t.Helper()
	dir := t.TempDir()
	images := image.New(db, filepath.Join(dir, "images"))
	cfg.Images = images
	b, err := volfile.New(filepath.Join(dir, "volumes"), volfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Inventory = b
	s := volume.New(db, cfg)
	backups, err := volfile.New(filepath.Join(dir, "backups"), volfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, w: volume.NewWorker(s, b, volume.WorkerOptions{Backups: backups}), b: b, images: images, dir: dir, ctx: context.Background()}
}

func (e *env) create(t *testing.T, p *auth.Principal, req volume.CreateRequest) *volume.Volume {
	t.Helper()
	v, err := e.s.Create(e.ctx, p, req)
	if err != nil {
		t.Fatalf("create %+v: %v", req, err)
	}
	return v
}

// step runs the worker's pending jobs.
func (e *env) step(t *testing.T) {
	t.Helper()
	if _, err := e.w.Step(e.ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *env) get(t *testing.T, id string) *volume.Volume {
	t.Helper()
	v, err := e.s.Get(e.ctx, admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ready makes a volume and runs the worker until it is available.
func (e *env) ready(t *testing.T, p *auth.Principal, size int) *volume.Volume {
	t.Helper()
	v := e.create(t, p, volume.CreateRequest{Size: size})
	e.step(t)
	v = e.get(t, v.ID)
	if v.Status != volume.StatusAvailable {
		t.Fatalf("volume %s is %s", v.ID, v.Status)
	}
	return v
}

// image registers an active raw image holding data.
func (e *env) image(t *testing.T, p *auth.Principal, data []byte, minDisk int) *image.Image {
	t.Helper()
	img, err := e.images.CreateFromReader(e.ctx, p, image.CreateRequest{Name: ptr("cirros"), DiskFormat: ptr("raw"),
		ContainerFormat: ptr("bare"), MinDisk: minDisk, Properties: map[string]string{"hw_disk_bus": "virtio"}}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func wantErr(t *testing.T, err error, k errs.Kind, msg string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("error %v (kind %d), want kind %d", err, errs.KindOf(err), k)
	}
	if msg != "" && !strings.Contains(errs.Message(err), msg) {
		t.Fatalf("message %q, want it to contain %q", errs.Message(err), msg)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// head reads the first n bytes of the file at path.
func head(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return b
}
