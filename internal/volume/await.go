package volume

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
)

// Await waits (bounded by ctx) until volume id has left the transient
// statuses of its create (creating, downloading) and returns it; a
// volume that ended in "error" is returned, not an error.
func (s *Service) Await(ctx context.Context, id string) (*Volume, error) {
	for {
		changed := s.changes()
		v, err := getVolume(ctx, s.db, id, "", true)
		if err != nil {
			return nil, err
		}
		if v.Status != StatusCreating && v.Status != StatusDownloading {
			return v, nil
		}
		// The worker signals each finished job; the poll covers a worker
		// in another process.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		case <-time.After(time.Second):
		}
	}
}

// AwaitSnapshot waits until snapshot id has left "creating".
func (s *Service) AwaitSnapshot(ctx context.Context, id string) (*Snapshot, error) {
	for {
		changed := s.changes()
		sn, err := getSnapshot(ctx, s.db, id, "", true)
		if err != nil {
			return nil, err
		}
		if sn.Status != SnapshotCreating {
			return sn, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		case <-time.After(time.Second):
		}
	}
}

// systemPrincipal is the volume service acting for a volume's project
// (reading its image, registering its upload).
func systemPrincipal(projectID, userID string) *auth.Principal {
	return &auth.Principal{UserID: userID, ProjectID: projectID, Roles: []string{"admin", "member", "reader"}}
}
