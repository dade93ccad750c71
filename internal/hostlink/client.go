package hostlink

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Client calls other hosts' endpoints.
type Client struct {
	Signer *Signer
	// HTTP is the client calls go through (nil: http.DefaultClient).
	HTTP *http.Client
	// Timeout bounds one transfer (0: DefaultTimeout).
	Timeout time.Duration
}

// SendGuest streams the regular files under dir (a shut-down guest's,
// virt.Mover.ExportGuest) as guest id's to the host endpoint at endpoint
// (its base URL), which adopts them once all arrived. The files are read
// as they are sent: memory use does not grow with their size. Sending
// again replaces what an earlier attempt delivered.
func (c *Client) SendGuest(ctx context.Context, endpoint, id, dir string) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pr, pw := io.Pipe()
	sum := sha256.New()
	go func() { pw.CloseWithError(writeTar(ctx, io.MultiWriter(pw, sum), dir)) }()
	body := &signedBody{r: pr, sum: sum}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		strings.TrimRight(endpoint, "/")+Prefix+"instances/"+id+"/files", body)
	if err != nil {
		pr.Close()
		return fmt.Errorf("send guest %s: %w", id, err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-tar")
	req.Trailer = http.Header{bodyTrailer: nil}
	body.req, body.signer, body.mac = req, c.Signer, c.Signer.Sign(req, MaxTTL)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("send guest %s to %s: %w", id, endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("send guest %s to %s: %s: %s", id, endpoint, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// signedBody is a request body that, once it reaches its end, sets the
// request's body signature trailer from the digest of what it gave.
type signedBody struct {
	r      io.Reader
	sum    hash.Hash
	req    *http.Request
	signer *Signer
	mac    []byte
}

func (b *signedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		b.req.Trailer.Set(bodyTrailer, hex.EncodeToString(b.signer.bodyMAC(b.mac, b.sum.Sum(nil))))
	}
	return n, err
}

// writeTar writes dir's directories and regular files to w as a tar
// stream of relative paths; sockets and other special files stay.
func writeTar(ctx context.Context, w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if !info.IsDir() && !info.Mode().IsRegular() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = "", "", 0, 0
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("read guest files in %s: %w", dir, err)
	}
	return tw.Close()
}
