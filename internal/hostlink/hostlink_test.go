package hostlink

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// dirMover is a virt.Mover keeping adopted guests as directories.
type dirMover struct{ root string }

func (m dirMover) ExportGuest(ctx context.Context, id string) (string, error) {
	return filepath.Join(m.root, "instances", id), nil
}
func (m dirMover) StagingDir() string { return filepath.Join(m.root, "incoming") }
func (m dirMover) AdoptGuest(ctx context.Context, id, dir string) error {
	dst := filepath.Join(m.root, "instances", id)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	_ = os.RemoveAll(dst)
	return os.Rename(dir, dst)
}
func (m dirMover) FinishMigration(ctx context.Context, g *virt.Guest, powerOn bool) error { return nil }

const guestID = "0b7c6a1e-5f43-4c1b-9d55-0f6b1f1f2a11"

func TestAuth(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := NewSigner([]byte("key-one"), func() time.Time { return now })
	other := NewSigner([]byte("key-two"), func() time.Time { return now })
	path := Prefix + "instances/" + guestID + "/files"
	signed := func(signer *Signer, method, p string, ttl time.Duration) *http.Request {
		r := httptest.NewRequest(method, p, nil)
		signer.Sign(r, ttl)
		return r
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int // 0: accepted
	}{
		{"good", func() *http.Request { return signed(s, http.MethodPut, path, time.Minute) }, 0},
		{"missing", func() *http.Request { return httptest.NewRequest(http.MethodPut, path, nil) }, 401},
		{"other scheme", func() *http.Request {
			r := httptest.NewRequest(http.MethodPut, path, nil)
			r.Header.Set("Authorization", "Bearer x")
			return r
		}, 401},
		{"malformed", func() *http.Request {
			r := httptest.NewRequest(http.MethodPut, path, nil)
			r.Header.Set("Authorization", authScheme+" expires=1, signature=zz")
			return r
		}, 401},
		{"other key", func() *http.Request { return signed(other, http.MethodPut, path, time.Minute) }, 403},
		{"other method", func() *http.Request {
			r := signed(s, http.MethodPut, path, time.Minute)
			r.Method = http.MethodDelete
			return r
		}, 403},
		{"other path", func() *http.Request {
			r := signed(s, http.MethodPut, path, time.Minute)
			r.URL.Path = Prefix + "instances/other/files"
			return r
		}, 403},
		{"expired", func() *http.Request { return signed(s, http.MethodPut, path, -time.Second) }, 403},
		{"expiry moved", func() *http.Request {
			r := signed(s, http.MethodPut, path, time.Minute)
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(h, "expires=1800000060", "expires=1800000200", 1))
			return r
		}, 403},
		{"too far ahead", func() *http.Request {
			far := NewSigner([]byte("key-one"), func() time.Time { return now.Add(time.Hour) })
			return signed(far, http.MethodPut, path, time.Minute)
		}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Verify(tc.req())
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || Status(err) != tc.status {
				t.Fatalf("got %v (status %d), want status %d", err, Status(err), tc.status)
			}
		})
	}
}

// endpoint serves a host endpoint receiving into a temp dir.
func endpoint(t *testing.T, key string) (*httptest.Server, dirMover) {
	m := dirMover{root: t.TempDir()}
	srv := httptest.NewServer(Handler(NewSigner([]byte(key), nil), nil, m, nil, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv, m
}

func TestSendGuest(t *testing.T) {
	srv, m := endpoint(t, "shared")
	src := t.TempDir()
	big := bytes.Repeat([]byte("disk"), 1<<18) // 1 MiB
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"disk.qcow2": big, "console.log": []byte("login:"), "sub/x": nil} {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := &Client{Signer: NewSigner([]byte("shared"), nil), HTTP: srv.Client()}
	for range 2 { // sending again replaces the copy
		if err := c.SendGuest(context.Background(), srv.URL, guestID, src); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(m.root, "instances", guestID, "disk.qcow2"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("disk arrived as %d bytes (%v), want %d", len(got), err, len(big))
	}
	if _, err := os.Stat(filepath.Join(m.root, "instances", guestID, "sub", "x")); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(m.StagingDir()); len(left) != 0 {
		t.Fatalf("staging dir keeps %d entries", len(left))
	}

	bad := &Client{Signer: NewSigner([]byte("not the cloud's"), nil), HTTP: srv.Client()}
	if err := bad.SendGuest(context.Background(), srv.URL, "11111111-2222-3333-4444-555555555555", src); err == nil ||
		!strings.Contains(err.Error(), "403") {
		t.Fatalf("send with a wrong key: %v, want a 403", err)
	}
	if _, err := os.Stat(filepath.Join(m.root, "instances", "11111111-2222-3333-4444-555555555555")); !os.IsNotExist(err) {
		t.Fatalf("a refused send left files: %v", err)
	}
}

// TestForgedBody: a body that is not the one signed (a signed header
// replayed with other data, or no body signature) is refused and leaves
// nothing behind.
func TestForgedBody(t *testing.T) {
	srv, m := endpoint(t, "shared")
	s := NewSigner([]byte("shared"), nil)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "disk.qcow2", Mode: 0o600, Size: 4, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("evil"))
	_ = tw.Close()
	for _, trailer := range []string{"", strings.Repeat("00", 32)} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+Prefix+"instances/"+guestID+"/files", bytes.NewReader(buf.Bytes()))
		s.Sign(req, time.Minute)
		req.ContentLength = -1
		req.Trailer = http.Header{bodyTrailer: []string{trailer}}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("trailer %q: %d, want 403", trailer, resp.StatusCode)
		}
	}
	if _, err := os.Stat(filepath.Join(m.root, "instances", guestID)); !os.IsNotExist(err) {
		t.Fatalf("a forged body was adopted: %v", err)
	}
}

func TestPathTraversal(t *testing.T) {
	for _, name := range []string{"../escape", "/abs", "a/../../b"} {
		err := extract(t.TempDir(), &tar.Header{Name: name, Typeflag: tar.TypeReg}, strings.NewReader(""))
		if err == nil {
			t.Errorf("%q extracted", name)
		}
	}
	if err := extract(t.TempDir(), &tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, nil); err == nil {
		t.Error("symlink extracted")
	}
}

// echoReceiver takes migration streams of guestID's "memory" channel
// and answers each line with "got " and the line.
type echoReceiver struct{}

func (echoReceiver) ConnectIncoming(ctx context.Context, id, channel string) (io.ReadWriteCloser, error) {
	if id != guestID || channel != "memory" {
		return nil, virt.ErrNotFound
	}
	a, b := net.Pipe()
	go func() {
		defer b.Close()
		r := bufio.NewReader(b)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := io.WriteString(b, "got "+line); err != nil {
				return
			}
		}
	}()
	return a, nil
}

// TestMigrationStream: a signed call upgrades to a stream both ways to
// the receiver; a wrong key, an unknown guest or channel get none.
func TestMigrationStream(t *testing.T) {
	srv := httptest.NewServer(Handler(NewSigner([]byte("shared"), nil), nil, nil, echoReceiver{}, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c := &Client{Signer: NewSigner([]byte("shared"), nil)}
	s, err := c.DialMigration(ctx, srv.URL, guestID, "memory")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(s)
	for _, msg := range []string{"one\n", "two\n"} {
		if _, err := io.WriteString(s, msg); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != "got "+msg {
			t.Fatalf("stream answered %q, %v; want %q", got, err, "got "+msg)
		}
	}
	s.Close()

	if _, err := c.DialMigration(ctx, srv.URL, "11111111-2222-3333-4444-555555555555", "memory"); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("stream to a guest not waiting: %v, want ErrNotFound", err)
	}
	if _, err := c.DialMigration(ctx, srv.URL, guestID, "Bad/channel"); err == nil {
		t.Error("stream of a bad channel opened")
	}
	bad := &Client{Signer: NewSigner([]byte("not the cloud's"), nil)}
	if _, err := bad.DialMigration(ctx, srv.URL, guestID, "memory"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("stream with a wrong key: %v, want a 403", err)
	}
}
