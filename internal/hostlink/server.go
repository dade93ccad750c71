package hostlink

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/virt"
)

// DefaultTimeout bounds one transfer of a guest's files, both ways.
const DefaultTimeout = time.Hour

// Handler serves the host endpoint of one compute host, whose driver
// receives moving guests:
//
//	PUT /kumo/v1/host/instances/{id}/files
//
// takes a tar stream of guest id's files (what virt.Mover.ExportGuest's
// directory holds on the source), staged under the driver's staging dir
// and handed to AdoptGuest only once the whole body arrived and its
// signature matched (204); a partial or forged stream leaves nothing.
// timeout bounds a transfer (0: DefaultTimeout).
//
//	POST /kumo/v1/host/instances/{id}/migration/{channel}
//
// upgrades to one stream of a live migration into guest id, prepared
// here, relayed to incoming (see migration.go).
//
//	POST /kumo/v1/host/instances/{id}/console/{kind}
//
// upgrades to guest id's console of driver (see console.go).
//
//	GET /kumo/v1/host/uptime
//
// is the host's uptime line, when its driver measures one (uptime.go).
func Handler(s *Signer, driver virt.Driver, mover virt.Mover, incoming virt.MigrationReceiver, timeout time.Duration, log *slog.Logger) http.Handler {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	mux := http.NewServeMux()
	h := &receiver{signer: s, mover: mover, timeout: timeout, log: log}
	mux.HandleFunc("PUT "+Prefix+"instances/{id}/files", h.receive)
	mux.HandleFunc("POST "+Prefix+"instances/{id}/migration/{channel}", (&streamer{receiver: incoming}).serve)
	mux.HandleFunc("POST "+Prefix+"instances/{id}/console/{kind}", (&consoles{driver: driver}).serve)
	mux.HandleFunc("GET "+uptimePath, uptime(driver))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every call is authenticated before anything else is said.
		if _, err := s.Verify(r); err != nil {
			http.Error(w, err.Error(), Status(err))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type receiver struct {
	signer  *Signer
	mover   virt.Mover
	timeout time.Duration
	log     *slog.Logger
}

func (h *receiver) receive(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		http.Error(w, "bad instance id", http.StatusBadRequest)
		return
	}
	if h.mover == nil || h.mover.StagingDir() == "" {
		http.Error(w, "this host's driver cannot receive guests", http.StatusConflict)
		return
	}
	mac, err := h.signer.Verify(r)
	if err != nil {
		http.Error(w, err.Error(), Status(err))
		return
	}
	// A stalled sender does not hold the staging files forever.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.timeout))
	staged, err := h.stage(r, id, mac)
	if err != nil {
		status := Status(err)
		if status == http.StatusInternalServerError {
			status = http.StatusBadRequest // an unreadable stream
		}
		h.log.Warn("guest files refused", "server", id, "error", err)
		http.Error(w, err.Error(), status)
		return
	}
	if err := h.mover.AdoptGuest(r.Context(), id, staged); err != nil {
		_ = os.RemoveAll(staged)
		h.log.Error("adopt moved guest", "server", id, "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.log.Info("guest files received", "server", id)
	w.WriteHeader(http.StatusNoContent)
}

// stage extracts r's tar stream into a new directory under the staging
// dir and checks the body's signature; on any failure the directory is
// removed.
func (h *receiver) stage(r *http.Request, id string, mac []byte) (dir string, err error) {
	root := h.mover.StagingDir()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("staging dir: %w", err)
	}
	dir, err = os.MkdirTemp(root, id+"-")
	if err != nil {
		return "", fmt.Errorf("staging dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	sum := sha256.New()
	body := io.TeeReader(r.Body, sum)
	tr := tar.NewReader(body)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return dir, fmt.Errorf("read guest files: %w", err)
		}
		if err := extract(dir, hdr, tr); err != nil {
			return dir, err
		}
	}
	// The rest of the stream (tar's end blocks) counts in the digest, and
	// the trailer arrives only once the body is read to its end.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return dir, fmt.Errorf("read guest files: %w", err)
	}
	if err := h.signer.verifyBody(mac, sum.Sum(nil), r.Trailer.Get(bodyTrailer)); err != nil {
		return dir, err
	}
	return dir, nil
}

// extract writes one tar entry under dir: directories and regular files
// only, by relative paths that stay inside dir.
func extract(dir string, hdr *tar.Header, r io.Reader) error {
	name := filepath.Clean(filepath.FromSlash(hdr.Name))
	if filepath.IsAbs(name) || name == "." || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
		return fmt.Errorf("guest files: bad path %q", hdr.Name)
	}
	path := filepath.Join(dir, name)
	switch hdr.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(path, 0o700)
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("guest files: %w", err)
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return fmt.Errorf("guest files: %s: %w", hdr.Name, err)
		}
		return f.Close()
	}
	return fmt.Errorf("guest files: %q is neither a file nor a directory", hdr.Name)
}
