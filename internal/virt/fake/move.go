package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// Moving a guest between hosts: a fake guest's files are its directory
// (fake-guest.json and whatever else lives there), so a guest that moved
// is the one its source ran, with its console log, and the files really
// leave the source and arrive at the destination. A driver kept in
// memory only (New) has no files and cannot move guests.

// ExportGuest implements virt.Mover.
func (d *Driver) ExportGuest(ctx context.Context, id string) (string, error) {
	if err := d.op(ctx, "export_guest", id, nil); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dir == "" {
		return "", fmt.Errorf("fake driver kept in memory: %w", virt.ErrNotSupported)
	}
	g, err := d.get(id)
	if err != nil {
		return "", err
	}
	if g.power != virt.PowerShutdown {
		return "", fmt.Errorf("fake driver: guest %s is not shut down", id)
	}
	if err := d.save(id, g); err != nil {
		return "", err
	}
	return filepath.Join(d.dir, id), nil
}

// StagingDir implements virt.Mover: <data-dir>/incoming, beside the
// instances directory Open reads guests from.
func (d *Driver) StagingDir() string {
	if d.dir == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(d.dir), "incoming")
}

// AdoptGuest implements virt.Mover.
func (d *Driver) AdoptGuest(ctx context.Context, id string, staged string) error {
	if err := d.op(ctx, "adopt_guest", id, nil); err != nil {
		return err
	}
	if d.dir == "" {
		return fmt.Errorf("fake driver kept in memory: %w", virt.ErrNotSupported)
	}
	raw, err := os.ReadFile(filepath.Join(staged, guestFileName))
	if err != nil {
		return fmt.Errorf("fake driver: adopt guest %s: %w", id, err)
	}
	var r guestRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("fake driver: adopt guest %s: %w", id, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dst := filepath.Join(d.dir, id)
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("fake driver: adopt guest %s: %w", id, err)
	}
	if err := os.Rename(staged, dst); err != nil {
		return fmt.Errorf("fake driver: adopt guest %s: %w", id, err)
	}
	g := r.guest()
	g.power = virt.PowerShutdown
	g.resizePending = false
	g.log("arrived from another host")
	d.guests[id] = g
	return d.save(id, g)
}

// FinishMigration implements virt.Mover.
func (d *Driver) FinishMigration(ctx context.Context, spec *virt.Guest, powerOn bool) error {
	return d.change(ctx, "finish_migration", spec.ID, spec, func(g *guest) {
		if powerOn {
			g.started = time.Now()
		}
		apply(g, spec, powerOn, fmt.Sprintf("finished moving here: %d vCPU, %d MB, %d GB", spec.VCPUs, spec.MemoryMB, spec.RootGB))
	})
}

var _ virt.Mover = (*Driver)(nil)
