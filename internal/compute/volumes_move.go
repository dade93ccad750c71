package compute

// Volumes of a server moving to another host. As Nova's compute manager
// does, the host a server leaves lets go of its volume connections
// (_terminate_volume_connections: each attachment is replaced by one
// reserved for the server without a connector, so the volume stays the
// server's) and the host it arrives on connects them with its own
// connector and completes the attachments (_update_volume_attachments,
// _complete_volume_attachments: PrepareVolumes). A cold move and its
// revert do it around the guest's files; a live migration when the
// guest runs on the destination (see ARCHITECTURE.md).

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// DisconnectVolumes replaces each connected volume attachment of t's
// server by one reserved for it with no connector, committed volume by
// volume; a volume already disconnected is left as it is, so a retried
// step goes on where it stopped.
func (s *Service) DisconnectVolumes(ctx context.Context, t *Task) error {
	srv, bs, err := s.taskVolumes(ctx, t)
	if err != nil {
		return err
	}
	for i := range bs {
		b := &bs[i]
		if b.VolumeID == "" || b.AttachmentID == "" || b.Connection == nil {
			continue
		}
		if err := s.DB.InTx(ctx, func(tx *store.Tx) error { return s.replaceAttachment(ctx, tx, srv, b) }); err != nil {
			return err
		}
	}
	return nil
}

// replaceAttachment replaces mapping b's attachment by a new one
// reserved for srv with no connector, in tx: the volume stays the
// server's while no host is connected to it.
func (s *Service) replaceAttachment(ctx context.Context, tx *store.Tx, srv *Server, b *BlockDevice) error {
	id, err := s.Volumes.ReserveVolume(ctx, tx, srv.ProjectID, b.VolumeID, srv.ID, "")
	if err != nil {
		return fmt.Errorf("reserve volume %s again: %w", b.VolumeID, err)
	}
	if b.AttachmentID != "" {
		if err := ignoreGone(s.Volumes.DeleteAttachment(ctx, tx, b.AttachmentID)); err != nil {
			return fmt.Errorf("delete attachment %s of volume %s: %w", b.AttachmentID, b.VolumeID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET attachment_id = ?, connection_info = '' WHERE id = ?`,
		id, b.ID); err != nil {
		return fmt.Errorf("replace attachment of volume %s: %w", b.VolumeID, err)
	}
	return nil
}

// MoveVolumes moves t's server's volume connections to t's host: the
// other host's are let go, then this host connects them.
func (s *Service) MoveVolumes(ctx context.Context, t *Task) error {
	if err := s.DisconnectVolumes(ctx, t); err != nil {
		return err
	}
	return s.PrepareVolumes(ctx, t)
}

// taskVolumes is t's server (deleted or not) and its block device
// mappings, for the host steps that connect or let go its volumes; a
// server without mappings (most: booted from an image) is not read.
func (s *Service) taskVolumes(ctx context.Context, t *Task) (*Server, []BlockDevice, error) {
	bs, err := blockDevicesOf(ctx, s.DB, t.InstanceID)
	if err != nil || len(bs) == 0 {
		return nil, nil, err
	}
	srv, err := s.GetAny(ctx, t.InstanceID)
	if err != nil {
		return nil, nil, err
	}
	return srv, bs, nil
}
