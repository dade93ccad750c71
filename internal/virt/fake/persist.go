package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// A driver opened on a directory keeps each guest in
// <dir>/<id>/fake-guest.json (dir is <data-dir>/instances, the qemu
// driver's layout), rewritten whole after every change and read back by
// Open: a kumo restarted or killed finds its guests as it would find
// daemonized qemu processes. The qemu driver adopts only directories with
// a disk.qcow2, so it never mistakes a fake guest for its own.

// guestFileName is the file a persisted guest lives in.
const guestFileName = "fake-guest.json"

// guestRecord is a guest as written to disk.
type guestRecord struct {
	Name            string    `json:"name"`
	ImageID         string    `json:"image_id"`
	VCPUs           int       `json:"vcpus"`
	MemoryMB        int       `json:"memory_mb"`
	RootGB          int       `json:"root_gb"`
	Fail            string    `json:"fail,omitempty"`
	Power           int       `json:"power_state"`
	ResizePending   bool      `json:"resize_pending,omitempty"`
	RescueImage     string    `json:"rescue_image,omitempty"`
	PasswordChanges int       `json:"password_changes,omitempty"`
	Started         time.Time `json:"started"`
	NICs            []string  `json:"nics,omitempty"` // MACs
	Volumes         []string  `json:"volumes,omitempty"`
	Console         string    `json:"console"`
}

func recordOf(g *guest) guestRecord {
	return guestRecord{Name: g.shape.name, ImageID: g.shape.imageID, VCPUs: g.shape.vcpus, MemoryMB: g.shape.memoryMB,
		RootGB: g.shape.rootGB, Fail: g.shape.fail, Power: int(g.power), ResizePending: g.resizePending,
		RescueImage: g.rescueImage, PasswordChanges: g.passwordChanges, Started: g.started, NICs: g.nics, Volumes: g.volumes, Console: string(g.console)}
}

func (r guestRecord) guest() *guest {
	return &guest{shape: shape{name: r.Name, imageID: r.ImageID, vcpus: r.VCPUs, memoryMB: r.MemoryMB, rootGB: r.RootGB, fail: r.Fail},
		power: virt.PowerState(r.Power), resizePending: r.ResizePending, rescueImage: r.RescueImage,
		passwordChanges: r.PasswordChanges, started: r.Started, nics: r.NICs, volumes: r.Volumes, console: []byte(r.Console)}
}

// Open returns a fake driver whose guests persist under dir, loading the
// guests a previous process left there.
func Open(dir string, o Options) (*Driver, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("fake driver: %w", err)
	}
	d := New(o)
	d.dir = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fake driver: read %s: %w", dir, err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name(), guestFileName))
		if errors.Is(err, os.ErrNotExist) {
			continue // not a fake guest's directory (a qemu guest's, or a leftover)
		}
		if err != nil {
			return nil, fmt.Errorf("fake driver: %w", err)
		}
		var r guestRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("fake driver: guest %s: %w", e.Name(), err)
		}
		d.guests[e.Name()] = r.guest()
	}
	return d, nil
}

// save writes guest id's state, if the driver persists; d.mu is held so
// writes of one guest never overtake each other. The file is replaced by
// a rename, so a process killed mid-write leaves the old state whole. It
// is not synced: the guest has to outlive kumo, not the machine, as a
// real guest would not.
func (d *Driver) save(id string, g *guest) error {
	if d.dir == "" {
		return nil
	}
	raw, err := json.Marshal(recordOf(g))
	if err != nil {
		return fmt.Errorf("fake driver: encode guest %s: %w", id, err)
	}
	dir := filepath.Join(d.dir, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("fake driver: %w", err)
	}
	tmp := filepath.Join(dir, guestFileName+".tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("fake driver: save guest %s: %w", id, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, guestFileName)); err != nil {
		return fmt.Errorf("fake driver: save guest %s: %w", id, err)
	}
	return nil
}

// forget removes guest id's file and, when nothing else is left in it,
// its directory; d.mu is held.
func (d *Driver) forget(id string) error {
	if d.dir == "" {
		return nil
	}
	dir := filepath.Join(d.dir, id)
	if err := os.Remove(filepath.Join(dir, guestFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fake driver: remove guest %s: %w", id, err)
	}
	_ = os.Remove(filepath.Join(dir, guestFileName+".tmp"))
	_ = os.Remove(dir) // fails, harmlessly, if something else lives there
	return nil
}
