package state

// TaskState is Nova's task_state: what is happening to a server right now
// (OS-EXT-STS:task_state). TaskNone ("") is Nova's None, stored as NULL and
// shown as JSON null.
type TaskState string

// TaskNone means no task is running.
const TaskNone TaskState = ""

// Nova's task states (nova/compute/task_states.py).
const (
	TaskScheduling         TaskState = "scheduling"
	TaskBlockDeviceMapping TaskState = "block_device_mapping"
	TaskNetworking         TaskState = "networking"
	TaskSpawning           TaskState = "spawning"

	TaskImageSnapshot        TaskState = "image_snapshot"
	TaskImageSnapshotPending TaskState = "image_snapshot_pending"
	TaskImagePendingUpload   TaskState = "image_pending_upload"
	TaskImageUploading       TaskState = "image_uploading"
	TaskImageBackup          TaskState = "image_backup"

	TaskUpdatingPassword TaskState = "updating_password"

	TaskResizePrep       TaskState = "resize_prep"
	TaskResizeMigrating  TaskState = "resize_migrating"
	TaskResizeMigrated   TaskState = "resize_migrated"
	TaskResizeFinish     TaskState = "resize_finish"
	TaskResizeReverting  TaskState = "resize_reverting"
	TaskResizeConfirming TaskState = "resize_confirming"

	TaskRebooting         TaskState = "rebooting"
	TaskRebootPending     TaskState = "reboot_pending"
	TaskRebootStarted     TaskState = "reboot_started"
	TaskRebootingHard     TaskState = "rebooting_hard"
	TaskRebootPendingHard TaskState = "reboot_pending_hard"
	TaskRebootStartedHard TaskState = "reboot_started_hard"

	TaskPausing     TaskState = "pausing"
	TaskUnpausing   TaskState = "unpausing"
	TaskSuspending  TaskState = "suspending"
	TaskResuming    TaskState = "resuming"
	TaskPoweringOff TaskState = "powering-off"
	TaskPoweringOn  TaskState = "powering-on"
	TaskRescuing    TaskState = "rescuing"
	TaskUnrescuing  TaskState = "unrescuing"

	TaskRebuilding                TaskState = "rebuilding"
	TaskRebuildBlockDeviceMapping TaskState = "rebuild_block_device_mapping"
	TaskRebuildSpawning           TaskState = "rebuild_spawning"

	TaskMigrating    TaskState = "migrating"
	TaskDeleting     TaskState = "deleting"
	TaskSoftDeleting TaskState = "soft-deleting"
	TaskRestoring    TaskState = "restoring"

	TaskShelving                   TaskState = "shelving"
	TaskShelvingImagePendingUpload TaskState = "shelving_image_pending_upload"
	TaskShelvingImageUploading     TaskState = "shelving_image_uploading"
	TaskShelvingOffloading         TaskState = "shelving_offloading"
	TaskUnshelving                 TaskState = "unshelving"
)

// TaskStates lists every task state in Nova's order
// (InstanceTaskState.ALL); TaskNone is not included.
func TaskStates() []TaskState {
	return []TaskState{
		TaskScheduling, TaskBlockDeviceMapping, TaskNetworking, TaskSpawning,
		TaskImageSnapshot, TaskImageSnapshotPending, TaskImagePendingUpload,
		TaskImageUploading, TaskImageBackup, TaskUpdatingPassword, TaskResizePrep,
		TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish, TaskResizeReverting,
		TaskResizeConfirming, TaskRebooting, TaskRebootPending, TaskRebootStarted,
		TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard, TaskPausing,
		TaskUnpausing, TaskSuspending, TaskResuming, TaskPoweringOff, TaskPoweringOn,
		TaskRescuing, TaskUnrescuing, TaskRebuilding, TaskRebuildBlockDeviceMapping,
		TaskRebuildSpawning, TaskMigrating, TaskDeleting, TaskSoftDeleting, TaskRestoring,
		TaskShelving, TaskShelvingImagePendingUpload, TaskShelvingImageUploading,
		TaskShelvingOffloading, TaskUnshelving,
	}
}

// Valid reports whether t is TaskNone or one of Nova's task states.
func (t TaskState) Valid() bool {
	if t == TaskNone {
		return true
	}
	for _, v := range TaskStates() {
		if v == t {
			return true
		}
	}
	return false
}

// pyString renders t as Nova's messages do: Python's str(None) for none.
func (t TaskState) pyString() string {
	if t == TaskNone {
		return "None"
	}
	return string(t)
}
