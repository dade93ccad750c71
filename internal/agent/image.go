package agent

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/virt"
)

// imageGroup snapshots servers (createImage, createBackup) and shelves, offloads and unshelves them.
func (a *Agent) imageGroup() taskGroup {
	return taskGroup{
		tasks: map[string]taskHandler{
			compute.TaskSnapshot:      {run: a.snapshot, finish: a.compute.FinishSnapshot},
			compute.TaskShelve:        {run: a.shelve, finish: a.compute.FinishShelve},
			compute.TaskShelveOffload: {run: a.shelveOffload, finish: a.compute.FinishShelveOffload},
			compute.TaskUnshelve:      {run: a.unshelve, finish: a.compute.FinishUnshelve},
		},
		// Nova polls every shelved_poll_interval; the offload time itself
		// is read from the settings at each run.
		periodics: []periodic{{name: "offload shelved servers", interval: 10 * a.opts.Poll, run: func(ctx context.Context) error {
			_, err := a.compute.OffloadExpired(ctx, a.host)
			return err
		}}},
	}
}

// snapshot moves the server through Nova's snapshot task states
// (image_snapshot for createImage, then image_pending_upload while the
// driver extracts the disk and image_uploading while it streams into the
// image), then rotates a backup's older siblings out.
func (a *Agent) snapshot(ctx context.Context, t *compute.Task) error {
	st := compute.SnapshotTaskOf(t)
	steps := compute.RemainingSteps(t)
	if err := a.snapshotInto(ctx, t, st.ImageID, steps); err != nil {
		return err
	}
	if st.Backup {
		return a.compute.RotateBackups(ctx, t.InstanceID, st.BackupType, st.Rotation)
	}
	return nil
}

// snapshotInto advances t through steps, taking the driver snapshot
// before the last (the uploading state) and uploading it after, as
// Nova's libvirt driver extracts the disk locally before the upload. It
// stops (compute.ErrTaskSuperseded; the image is then deleted) as soon
// as the server leaves the task's state before the upload, as Nova's
// snapshot does when the server is deleted meanwhile.
func (a *Agent) snapshotInto(ctx context.Context, t *compute.Task, imageID string, steps []state.TaskState) error {
	uploaded, err := a.compute.SnapshotUploaded(ctx, imageID)
	if err != nil {
		return err
	}
	if uploaded { // before a crash interrupted the task
		for _, next := range steps {
			if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
				return err
			}
		}
		return nil
	}
	for len(steps) > 1 {
		if err := a.compute.AdvanceTaskOrStop(ctx, t, steps[0]); err != nil {
			return err
		}
		steps = steps[1:]
	}
	if err := a.compute.CheckTaskState(ctx, t); err != nil {
		return err
	}
	f, err := os.CreateTemp("", "kumo-snapshot-*")
	if err != nil {
		return fmt.Errorf("snapshot scratch file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	diskFormat, err := a.driver.Snapshot(ctx, t.InstanceID, f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("rewind snapshot: %w", err)
	}
	for _, next := range steps {
		if err := a.compute.AdvanceTaskOrStop(ctx, t, next); err != nil {
			return err
		}
	}
	return a.compute.UploadSnapshot(ctx, imageID, diskFormat, f)
}

// shelve powers the guest off, snapshots it into the shelved image
// (shelving_image_pending_upload, shelving_image_uploading) and, when
// the server is offloaded at once, destroys it (shelving_offloading).
func (a *Agent) shelve(ctx context.Context, t *compute.Task) error {
	st := compute.ShelveTaskOf(t)
	if err := a.powerOff(ctx, t.InstanceID); err != nil {
		return err
	}
	upload := st.Steps
	var after []state.TaskState
	for i, ts := range st.Steps {
		if ts == state.TaskShelvingOffloading {
			upload, after = st.Steps[:i], st.Steps[i:]
			break
		}
	}
	if len(upload) > 0 {
		if err := a.snapshotInto(ctx, t, st.ImageID, upload); err != nil {
			return err
		}
	}
	for _, next := range after {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
		}
	}
	if st.Offload {
		return a.driver.Destroy(ctx, t.InstanceID)
	}
	return nil
}

// shelveOffload removes a shelved guest from the host.
func (a *Agent) shelveOffload(ctx context.Context, t *compute.Task) error {
	if err := a.powerOff(ctx, t.InstanceID); err != nil {
		return err
	}
	return a.driver.Destroy(ctx, t.InstanceID)
}

// powerOff stops the guest unless it is already stopped.
func (a *Agent) powerOff(ctx context.Context, id string) error {
	ps, err := a.driver.PowerState(ctx, id)
	if errors.Is(err, virt.ErrNotFound) || (err == nil && ps == virt.PowerShutdown) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.driver.PowerOff(ctx, id)
}

// unshelve powers a shelved guest on (powering-on) or spawns an
// offloaded server again from its shelved image (spawning).
func (a *Agent) unshelve(ctx context.Context, t *compute.Task) error {
	ut := compute.UnshelveTaskOf(t)
	for _, next := range ut.Steps {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
		}
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	if !ut.Spawn {
		return a.driver.PowerOn(ctx, g)
	}
	// Volumes attached while it was offloaded are connected here.
	if err := a.compute.PrepareVolumes(ctx, t); err != nil {
		return err
	}
	if g, err = a.Guest(ctx, t); err != nil {
		return err
	}
	if ut.ImageID != "" {
		g.Image.ID = ut.ImageID
	}
	return a.driver.Spawn(ctx, g)
}
