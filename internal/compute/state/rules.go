package state

// Guard orders, named after the decorator stacks in nova/compute/api.py.
var (
	lockState     = []Guard{GuardLock, GuardState}
	lockHostState = []Guard{GuardLock, GuardHost, GuardState}
	lockStateHost = []Guard{GuardLock, GuardState, GuardHost}
	stateOnly     = []Guard{GuardState}
	idle          = []TaskState{TaskNone}
	// volumeStates are where a volume may be attached or detached.
	volumeStates = []VMState{VMActive, VMPaused, VMStopped, VMResized, VMSoftDeleted, VMShelved, VMShelvedOffloaded}
)

// outcomes shared by several rules.
var (
	unchanged = Outcome{KeepPower: true}
	running   = Outcome{VMState: VMActive, Power: PowerRunning}
)

// ruleTable is every action's rule. Read-only: RuleFor and Rules hand out
// copies. Sources: see the package comment.
var ruleTable = []Rule{
	{Action: ActionCreate, Name: "create", Sets: TaskScheduling,
		Outcome: Outcome{Via: []TaskState{TaskNetworking, TaskBlockDeviceMapping, TaskSpawning},
			VMState: VMActive, Power: PowerRunning}},
	// delete and force_delete run in any vm/task state; delete may become
	// soft_delete (must_have_launched), which falls back to delete.
	{Action: ActionDelete, Name: "delete", Guards: lockState, Sets: TaskDeleting,
		Outcome: Outcome{VMState: VMDeleted, Power: PowerNoState, Special: SpecialDelete}},
	{Action: ActionForceDelete, Name: "forceDelete", Guards: lockState, Sets: TaskDeleting,
		Outcome: Outcome{VMState: VMDeleted, Power: PowerNoState}},
	{Action: ActionRestore, Name: "restore", Guards: lockState,
		VMStates: []VMState{VMSoftDeleted}, TaskStates: idle, MustHaveLaunched: true,
		LockWording: LockedAsInvalidState, Sets: TaskRestoring, Outcome: running},
	{Action: ActionRebootSoft, Name: "reboot", Guards: lockState,
		VMStates: []VMState{VMActive}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskRebooting, Outcome: Outcome{Via: []TaskState{TaskRebootPending, TaskRebootStarted},
			VMState: VMActive, Power: PowerRunning}},
	{Action: ActionRebootHard, Name: "reboot", Guards: lockState,
		VMStates:         []VMState{VMActive, VMStopped, VMPaused, VMSuspended, VMError},
		TaskStates:       []TaskState{TaskNone, TaskRebooting, TaskRebootPending, TaskRebootStarted, TaskResuming, TaskRebootingHard, TaskUnpausing, TaskPausing, TaskSuspending},
		MustHaveLaunched: true, Sets: TaskRebootingHard,
		Outcome: Outcome{Via: []TaskState{TaskRebootPendingHard, TaskRebootStartedHard},
			VMState: VMActive, Power: PowerRunning}},
	{Action: ActionStart, Name: "start", Guards: lockHostState,
		VMStates: []VMState{VMStopped}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskPoweringOn, Outcome: running},
	{Action: ActionStop, Name: "stop", Guards: lockHostState,
		VMStates: []VMState{VMActive, VMError}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskPoweringOff, Outcome: Outcome{VMState: VMStopped, Power: PowerShutdown}},
	{Action: ActionPause, Name: "pause", Guards: lockState,
		VMStates: []VMState{VMActive}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskPausing, Outcome: Outcome{VMState: VMPaused, Power: PowerPaused}},
	{Action: ActionUnpause, Name: "unpause", Guards: lockState,
		VMStates: []VMState{VMPaused}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskUnpausing, Outcome: running},
	{Action: ActionSuspend, Name: "suspend", Guards: lockState,
		VMStates: []VMState{VMActive}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskSuspending, Outcome: Outcome{VMState: VMSuspended, Power: PowerSuspended}},
	{Action: ActionResume, Name: "resume", Guards: lockState,
		VMStates: []VMState{VMSuspended}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskResuming, Outcome: Outcome{VMState: VMActive, Power: PowerRunning, Special: SpecialOldVMState}},
	// lock and unlock change only the locked flag; unlocking a lock an
	// admin set needs the unlock_override policy (see UnlockNeedsOverride).
	{Action: ActionLock, Name: "lock", Outcome: unchanged},
	{Action: ActionUnlock, Name: "unlock", Outcome: unchanged},
	{Action: ActionRescue, Name: "rescue", Guards: lockState,
		VMStates: []VMState{VMActive, VMStopped, VMError}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskRescuing, Outcome: Outcome{VMState: VMRescued, Power: PowerRunning}},
	{Action: ActionUnrescue, Name: "unrescue", Guards: lockState,
		VMStates: []VMState{VMRescued}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskUnrescuing, Outcome: running},
	{Action: ActionShelve, Name: "shelve", Guards: lockState,
		VMStates: []VMState{VMActive, VMStopped, VMPaused, VMSuspended}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskShelving, Outcome: Outcome{Via: []TaskState{TaskShelvingImagePendingUpload, TaskShelvingImageUploading},
			VMState: VMShelved, Power: PowerShutdown, Special: SpecialShelve}},
	{Action: ActionShelveOffload, Name: "shelveOffload", Guards: lockState,
		VMStates: []VMState{VMShelved}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskShelvingOffloading, Outcome: Outcome{VMState: VMShelvedOffloaded, Power: PowerShutdown}},
	{Action: ActionUnshelve, Name: "unshelve", Guards: lockState,
		VMStates: []VMState{VMShelved, VMShelvedOffloaded}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskUnshelving, Outcome: Outcome{Via: []TaskState{TaskSpawning}, VMState: VMActive, Power: PowerRunning}},
	{Action: ActionRebuild, Name: "rebuild", Guards: lockState,
		VMStates: []VMState{VMActive, VMStopped, VMError}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskRebuilding, Outcome: Outcome{Via: []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning},
			VMState: VMActive, Power: PowerRunning, Special: SpecialRebuild}},
	{Action: ActionResize, Name: "resize", Guards: lockStateHost,
		VMStates: []VMState{VMActive, VMStopped}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskResizePrep, Outcome: Outcome{Via: []TaskState{TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish},
			VMState: VMResized, Power: PowerRunning, Special: SpecialResize}},
	// migrate is compute_api.resize without a flavor: same rule, own name.
	{Action: ActionMigrate, Name: "migrate", Guards: lockStateHost,
		VMStates: []VMState{VMActive, VMStopped}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskResizePrep, Outcome: Outcome{Via: []TaskState{TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish},
			VMState: VMResized, Power: PowerRunning, Special: SpecialResize}},
	// confirm sets no task state; the migration record goes to confirming.
	{Action: ActionConfirmResize, Name: "confirmResize", Guards: lockState,
		VMStates: []VMState{VMResized}, TaskStates: idle, MustHaveLaunched: true,
		Outcome: Outcome{VMState: VMActive, KeepPower: true, Special: SpecialConfirmResize}},
	{Action: ActionRevertResize, Name: "revertResize", Guards: lockState,
		VMStates: []VMState{VMResized}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskResizeReverting, Outcome: Outcome{VMState: VMActive, Power: PowerRunning, Special: SpecialOldVMState}},
	// Snapshots and backups are not lock-checked: Nova says the lock guards
	// against accidental change or deletion only.
	{Action: ActionCreateImage, Name: "createImage", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMStopped, VMPaused, VMSuspended}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskImageSnapshotPending, Outcome: Outcome{Via: []TaskState{TaskImageSnapshot, TaskImagePendingUpload, TaskImageUploading},
			KeepPower: true, Special: SpecialSnapshot}},
	{Action: ActionCreateBackup, Name: "createBackup", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMStopped, VMPaused, VMSuspended}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskImageBackup, Outcome: Outcome{Via: []TaskState{TaskImagePendingUpload, TaskImageUploading}, KeepPower: true}},
	{Action: ActionChangePassword, Name: "changePassword", Guards: lockState,
		VMStates: []VMState{VMActive}, TaskStates: idle, MustHaveLaunched: true,
		LockWording: LockedAsInvalidState, Sets: TaskUpdatingPassword, Outcome: unchanged},
	{Action: ActionTriggerCrashDump, Name: "trigger_crash_dump", Guards: lockHostState,
		VMStates: []VMState{VMActive, VMPaused, VMRescued, VMResized, VMError}, TaskStates: idle, MustHaveLaunched: true,
		Outcome: unchanged},
	{Action: ActionGetConsoleOutput, Name: "get_console_output", Guards: []Guard{GuardHost}, Outcome: unchanged},
	// Security groups and floating IPs are handed to the network service
	// without any state or lock check (the api-ref's "ACTIVE or STOPPED"
	// precondition for addFloatingIp is not enforced by Nova).
	{Action: ActionAddSecurityGroup, Name: "addSecurityGroup", Outcome: unchanged},
	{Action: ActionRemoveSecurityGroup, Name: "removeSecurityGroup", Outcome: unchanged},
	{Action: ActionAddFloatingIP, Name: "addFloatingIp", Outcome: unchanged},
	{Action: ActionRemoveFloatingIP, Name: "removeFloatingIp", Outcome: unchanged},
	{Action: ActionResetState, Name: "os-resetState",
		Outcome: Outcome{KeepPower: true, Special: SpecialResetState}},
	{Action: ActionInjectNetworkInfo, Name: "injectNetworkInfo", Guards: []Guard{GuardLock}, Outcome: unchanged},
	{Action: ActionLiveMigrate, Name: "os-migrateLive", Guards: lockState,
		VMStates: []VMState{VMActive, VMPaused}, TaskStates: idle, MustHaveLaunched: true,
		Sets: TaskMigrating, Outcome: unchanged},
	// evacuate: no lock check, any task state.
	{Action: ActionEvacuate, Name: "evacuate", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMStopped, VMError}, MustHaveLaunched: true,
		Sets: TaskRebuilding, Outcome: Outcome{Via: []TaskState{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning},
			VMState: VMActive, Power: PowerRunning, Special: SpecialRebuild}},
	{Action: ActionAttachInterface, Name: "attach_interface", Guards: lockState,
		VMStates: []VMState{VMActive, VMPaused, VMStopped}, TaskStates: idle, MustHaveLaunched: true,
		Outcome: unchanged},
	{Action: ActionDetachInterface, Name: "detach_interface", Guards: lockState,
		VMStates: []VMState{VMActive, VMPaused, VMStopped}, TaskStates: idle, MustHaveLaunched: true,
		Outcome: unchanged},
	// Volumes (compute/api.py attach_volume, detach_volume, swap_volume).
	{Action: ActionAttachVolume, Name: "attach_volume", Guards: lockState,
		VMStates: volumeStates, TaskStates: idle, MustHaveLaunched: true, Outcome: unchanged},
	{Action: ActionDetachVolume, Name: "detach_volume", Guards: lockState,
		VMStates: volumeStates, TaskStates: idle, MustHaveLaunched: true, Outcome: unchanged},
	// An external event: Nova records it whatever the server's state or
	// lock (compute/api.py external_instance_event).
	{Action: ActionExtendVolume, Name: "extend_volume", Outcome: unchanged},
	{Action: ActionSwapVolume, Name: "swap_volume", Guards: lockState,
		VMStates: []VMState{VMActive, VMPaused, VMResized}, TaskStates: idle, MustHaveLaunched: true, Outcome: unchanged},
	// Metadata changes accept any task state.
	{Action: ActionUpdateMetadata, Name: "update metadata", Guards: lockState,
		VMStates: []VMState{VMActive, VMPaused, VMSuspended, VMStopped}, MustHaveLaunched: true,
		Outcome: unchanged},
	{Action: ActionDeleteMetadata, Name: "delete metadata", Guards: lockState,
		VMStates: []VMState{VMActive, VMPaused, VMSuspended, VMStopped}, MustHaveLaunched: true,
		Outcome: unchanged},
	// Tags: the controller checks vm_state only (no lock, task or launched_at).
	{Action: ActionUpdateTag, Name: "update tag", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMPaused, VMSuspended, VMStopped}, Outcome: unchanged},
	{Action: ActionUpdateTags, Name: "update tags", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMPaused, VMSuspended, VMStopped}, Outcome: unchanged},
	{Action: ActionDeleteTag, Name: "delete tag", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMPaused, VMSuspended, VMStopped}, Outcome: unchanged},
	{Action: ActionDeleteTags, Name: "delete tags", Guards: stateOnly,
		VMStates: []VMState{VMActive, VMPaused, VMSuspended, VMStopped}, Outcome: unchanged},
	{Action: ActionForceCompleteLiveMigration, Name: "force_complete", Guards: lockState,
		VMStates: []VMState{VMActive}, TaskStates: []TaskState{TaskMigrating}, MustHaveLaunched: true,
		Outcome: unchanged},
	{Action: ActionAbortLiveMigration, Name: "abort live migration", Guards: lockState,
		TaskStates: []TaskState{TaskMigrating}, MustHaveLaunched: true,
		LockWording: LockedAsInvalidState, Outcome: unchanged},
}
