package volume

import (
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
)

// Cinder's exceptions, worded as Cinder words them and named (errs.Named)
// after the exception so the API can show the name where Cinder does.

func volumeNotFound(id string) error {
	return errs.Named("VolumeNotFound", errs.NotFound("Volume %s could not be found.", id))
}

func snapshotNotFound(id string) error {
	return errs.Named("SnapshotNotFound", errs.NotFound("Snapshot %s could not be found.", id))
}

func attachmentNotFound(filter string) error {
	return errs.Named("VolumeAttachmentNotFound", errs.NotFound("Volume attachment could not be found with filter: %s.", filter))
}

func typeNotFound(id string) error {
	return errs.Named("VolumeTypeNotFound", errs.NotFound("Volume type %s could not be found.", id))
}

func typeNotFoundByName(name string) error {
	return errs.Named("VolumeTypeNotFoundByName", errs.NotFound("Volume type with name %s could not be found.", name))
}

func invalidVolume(format string, args ...any) error {
	return errs.Named("InvalidVolume", errs.Invalid("Invalid volume: %s", fmt.Sprintf(format, args...)))
}

func invalidSnapshot(format string, args ...any) error {
	return errs.Named("InvalidSnapshot", errs.Invalid("Invalid snapshot: %s", fmt.Sprintf(format, args...)))
}

func invalidInput(format string, args ...any) error {
	return errs.Named("InvalidInput", errs.Invalid("Invalid input received: %s", fmt.Sprintf(format, args...)))
}

// Quota errors are 413 overLimit in Cinder (QuotaError's code).

// VolumeLimitExceeded is Cinder's "Maximum number of volumes allowed".
func volumeLimitExceeded(allowed int64, name string) error {
	return errs.Named("VolumeLimitExceeded", errs.OverQuota("Maximum number of volumes allowed (%d) exceeded for quota '%s'.", allowed, name))
}

func snapshotLimitExceeded(allowed int64) error {
	return errs.Named("SnapshotLimitExceeded", errs.OverQuota("Maximum number of snapshots allowed (%d) exceeded", allowed))
}

func sizeExceedsQuota(name string, requested, quota, consumed int64) error {
	return errs.Named("VolumeSizeExceedsAvailableQuota", errs.OverQuota(
		"Requested volume or snapshot exceeds allowed %s quota. Requested %dG, quota is %dG and %dG has been consumed.",
		name, requested, quota, consumed))
}

func sizeExceedsLimit(size, limit int64) error {
	return errs.Named("VolumeSizeExceedsLimit", errs.OverQuota("Requested volume size %dG is larger than maximum allowed limit %dG.", size, limit))
}
