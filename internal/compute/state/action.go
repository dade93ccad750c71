package state

import "strings"

// Action identifies a server operation whose preconditions Nova checks.
// Server actions use their request body key; reboot is split by type
// because the two types have different rules; operations on sub-resources
// (interfaces, metadata, tags, migrations) use the name Nova puts in its
// 409 messages.
type Action string

// Server operations.
const (
	ActionCreate              Action = "create"
	ActionDelete              Action = "delete"
	ActionForceDelete         Action = "forceDelete"
	ActionRestore             Action = "restore"
	ActionRebootSoft          Action = "reboot:SOFT"
	ActionRebootHard          Action = "reboot:HARD"
	ActionStart               Action = "os-start"
	ActionStop                Action = "os-stop"
	ActionPause               Action = "pause"
	ActionUnpause             Action = "unpause"
	ActionSuspend             Action = "suspend"
	ActionResume              Action = "resume"
	ActionLock                Action = "lock"
	ActionUnlock              Action = "unlock"
	ActionRescue              Action = "rescue"
	ActionUnrescue            Action = "unrescue"
	ActionShelve              Action = "shelve"
	ActionShelveOffload       Action = "shelveOffload"
	ActionUnshelve            Action = "unshelve"
	ActionRebuild             Action = "rebuild"
	ActionResize              Action = "resize"
	ActionConfirmResize       Action = "confirmResize"
	ActionRevertResize        Action = "revertResize"
	ActionCreateImage         Action = "createImage"
	ActionCreateBackup        Action = "createBackup"
	ActionChangePassword      Action = "changePassword"
	ActionTriggerCrashDump    Action = "trigger_crash_dump"
	ActionGetConsoleOutput    Action = "os-getConsoleOutput"
	ActionAddSecurityGroup    Action = "addSecurityGroup"
	ActionRemoveSecurityGroup Action = "removeSecurityGroup"
	ActionAddFloatingIP       Action = "addFloatingIp"
	ActionRemoveFloatingIP    Action = "removeFloatingIp"
	ActionResetState          Action = "os-resetState"
	ActionInjectNetworkInfo   Action = "injectNetworkInfo"
	ActionLiveMigrate         Action = "os-migrateLive"
	ActionMigrate             Action = "migrate"
	ActionEvacuate            Action = "evacuate"

	// POST and DELETE /servers/{id}/os-interface.
	ActionAttachInterface Action = "attach_interface"
	ActionDetachInterface Action = "detach_interface"
	// POST, DELETE and PUT (swap) /servers/{id}/os-volume_attachments.
	ActionAttachVolume Action = "attach_volume"
	ActionDetachVolume Action = "detach_volume"
	ActionSwapVolume   Action = "swap_volume"
	// Cinder's "volume-extended" external event (an in-use volume grew).
	ActionExtendVolume Action = "extend_volume"
	// POST, PUT /servers/{id}/metadata[/{key}] and DELETE of one key.
	ActionUpdateMetadata Action = "update metadata"
	ActionDeleteMetadata Action = "delete metadata"
	// PUT /tags/{tag}, PUT /tags, DELETE /tags/{tag}, DELETE /tags.
	ActionUpdateTag  Action = "update tag"
	ActionUpdateTags Action = "update tags"
	ActionDeleteTag  Action = "delete tag"
	ActionDeleteTags Action = "delete tags"
	// POST /servers/{id}/migrations/{id}/action force_complete and
	// DELETE /servers/{id}/migrations/{id}.
	ActionForceCompleteLiveMigration Action = "force_complete"
	ActionAbortLiveMigration         Action = "abort live migration"
)

// Reboot is the action for a reboot request's type: "SOFT" (any case) is a
// soft reboot, anything else hard, as Nova's compute API decides.
func Reboot(rebootType string) Action {
	if strings.ToUpper(rebootType) == "SOFT" {
		return ActionRebootSoft
	}
	return ActionRebootHard
}
