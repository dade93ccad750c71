package compute

// The task contract. The tasks table is the only protocol between the API
// and a compute host, and during a rolling upgrade processes of different
// versions share it: every kind's params are one Go struct, registered in
// taskKinds with the newest version this build writes, and stored as JSON
// with that version in the row (tasks.params_version). A host reads every
// version of a kind up to its own (version 0 is the untyped map rows
// written before the contract, converted by legacyParams); a row of a kind
// or version it does not know is refused: it stays pending, marked with
// the reason in tasks.refused, until a host that knows it claims it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/compute/state"
)

// TaskParams are the parameters of one task kind.
type TaskParams interface {
	// TaskKind is the kind these params belong to.
	TaskKind() string
}

// TaskPlan is what a task that carries out a server action commits (see
// finishPlanned): the action, the compute event it records, the task
// state the server shows while it runs, the planned vm and power states,
// and the intermediate task states it passes through.
type TaskPlan struct {
	Action    state.Action      `json:"action,omitempty"`
	Event     string            `json:"event,omitempty"`
	TaskState state.TaskState   `json:"task_state,omitempty"`
	VMState   state.VMState     `json:"vm_state,omitempty"`
	Power     state.PowerState  `json:"power_state,omitempty"`
	Via       []state.TaskState `json:"via,omitempty"`
}

func (p *TaskPlan) plan() *TaskPlan { return p }

// MoveStep is the part of a resize-family task that follows its
// migration: the migration's id and when the task's last step began.
type MoveStep struct {
	MigrationID int64 `json:"migration_id"`
	// StepStarted (Unix microseconds) is when finish_resize or
	// finish_revert_resize began; 0 until then.
	StepStarted int64 `json:"step_started,omitempty"`
}

func (m *MoveStep) move() *MoveStep { return m }

// BuildParams: spawn a new server. AdminPass is sealed (secret.Box).
type BuildParams struct {
	AdminPass string `json:"admin_pass,omitempty"`
}

// DeleteParams: destroy a server's guest.
type DeleteParams struct{}

// ActionParams: a power action that is one driver call.
type ActionParams struct{ TaskPlan }

// CallParams: a call the API waits on (console output, diagnostics, a
// password change); the plan is set when it carries out a server action.
type CallParams struct {
	TaskPlan
	Call      string `json:"call"`
	AdminPass string `json:"admin_pass,omitempty"` // sealed
	PortID    string `json:"port_id,omitempty"`    // of an interface call
	// BlockDevice is the mapping a volume call attaches or detaches.
	BlockDevice string `json:"bdm_id,omitempty"`
	VolumeID    string `json:"volume_id,omitempty"`
	// VolumeSizeGB is the new size of an extend_volume call's volume.
	VolumeSizeGB int `json:"volume_size_gb,omitempty"`
}

// RebuildParams: rebuild a server from its (new) image.
type RebuildParams struct {
	TaskPlan
	PreserveEphemeral bool   `json:"preserve_ephemeral,omitempty"`
	AdminPass         string `json:"admin_pass,omitempty"` // sealed
	// ReimageImage is the image a 2.93 rebuild writes into a
	// volume-backed server's root volume ("" when none is written).
	ReimageImage string `json:"reimage_image,omitempty"`
	// Reimaging: the root volume's attachment was replaced and its
	// re-image asked; what is left is waiting for it.
	Reimaging bool `json:"reimaging,omitempty"`
}

// SnapshotParams: snapshot or back up a server into ImageID.
type SnapshotParams struct {
	TaskPlan
	ImageID    string `json:"image_id"`
	Backup     bool   `json:"backup,omitempty"`
	BackupType string `json:"backup_type,omitempty"`
	Rotation   int    `json:"rotation,omitempty"`
}

// SoftDeleteParams: power a soft-deleted server off; ConfirmResize drops
// the disk an unconfirmed resize kept aside first.
type SoftDeleteParams struct {
	TaskPlan
	ConfirmResize bool `json:"confirm_resize,omitempty"`
}

// RestoreParams: power a restored server on.
type RestoreParams struct{ TaskPlan }

// ShelveParams: snapshot a server into ImageID and power it off (and
// offload it at once when Offload).
type ShelveParams struct {
	TaskPlan
	ImageID string `json:"image_id"`
	Offload bool   `json:"offload,omitempty"`
}

// ShelveOffloadParams: free a shelved server's host.
type ShelveOffloadParams struct{ TaskPlan }

// UnshelveParams: power a shelved server on, or spawn an offloaded one
// from ImageID (Spawn).
type UnshelveParams struct {
	TaskPlan
	ImageID string `json:"image_id"`
	Spawn   bool   `json:"spawn,omitempty"`
}

// ResizeParams: resize a server along its migration.
type ResizeParams struct {
	TaskPlan
	MoveStep
}

// ConfirmResizeParams: drop the disk a resize kept aside. Cleanup: the
// server was deleted during or after a move to another host, and this
// host only drops the copy it holds (no server change, no event).
type ConfirmResizeParams struct {
	TaskPlan
	MoveStep
	Cleanup bool `json:"cleanup,omitempty"`
}

// RevertResizeParams: restore the disk and flavor a resize replaced.
type RevertResizeParams struct {
	TaskPlan
	MoveStep
}

// FinishResizeParams: on the destination of a move to another host,
// boot the guest from the files the source sent, with the new flavor
// (Nova's finish_resize); queued by the source's resize task.
type FinishResizeParams struct {
	TaskPlan
	MoveStep
}

// FinishRevertResizeParams: on the source of a reverted move to another
// host, give the server its old flavor back and boot the guest it kept
// (Nova's finish_revert_resize); queued by the destination's
// revert_resize task.
type FinishRevertResizeParams struct {
	TaskPlan
	MoveStep
}

// CrashDumpParams: send the guest an NMI.
type CrashDumpParams struct{ TaskPlan }

// InjectNetworkInfoParams: hand the guest its network again.
type InjectNetworkInfoParams struct{}

// RescueParams: boot a server from the rescue image (its id, name, disk
// format and properties); AdminPass is sealed.
type RescueParams struct {
	TaskPlan
	ImageID         string            `json:"rescue_image,omitempty"`
	ImageName       string            `json:"rescue_image_name,omitempty"`
	ImageFormat     string            `json:"rescue_image_format,omitempty"`
	ImageProperties map[string]string `json:"rescue_image_properties,omitempty"`
	AdminPass       string            `json:"admin_pass,omitempty"`
}

// UnrescueParams: boot a rescued server from its own disk again.
type UnrescueParams struct{ TaskPlan }

// LiveMigrationParams: one phase of a live migration (livemigrate.go)
// from Source to Dest; a rollback ends the migration in EndStatus.
type LiveMigrationParams struct {
	TaskPlan
	MigrationID    int64  `json:"migration_id"`
	Phase          string `json:"phase"`
	Source         string `json:"source"`
	Dest           string `json:"dest"`
	BlockMigration bool   `json:"block_migration,omitempty"`
	EndStatus      string `json:"end_status,omitempty"`
}

// EvacuateParams: rebuild an evacuated server on its new host along its
// migration; AdminPass is sealed.
type EvacuateParams struct {
	TaskPlan
	MigrationID int64  `json:"migration_id"`
	AdminPass   string `json:"admin_pass,omitempty"`
	// OnSharedStorage: the request (before 2.14) said the server's
	// files are on storage the new host shares.
	OnSharedStorage bool `json:"on_shared_storage,omitempty"`
}

func (*BuildParams) TaskKind() string              { return TaskBuild }
func (*DeleteParams) TaskKind() string             { return TaskDelete }
func (*ActionParams) TaskKind() string             { return TaskAction }
func (*CallParams) TaskKind() string               { return TaskCall }
func (*RebuildParams) TaskKind() string            { return TaskRebuild }
func (*SnapshotParams) TaskKind() string           { return TaskSnapshot }
func (*SoftDeleteParams) TaskKind() string         { return TaskSoftDelete }
func (*RestoreParams) TaskKind() string            { return TaskRestore }
func (*ShelveParams) TaskKind() string             { return TaskShelve }
func (*ShelveOffloadParams) TaskKind() string      { return TaskShelveOffload }
func (*UnshelveParams) TaskKind() string           { return TaskUnshelve }
func (*ResizeParams) TaskKind() string             { return TaskResize }
func (*ConfirmResizeParams) TaskKind() string      { return TaskConfirmResize }
func (*RevertResizeParams) TaskKind() string       { return TaskRevertResize }
func (*FinishResizeParams) TaskKind() string       { return TaskFinishResize }
func (*FinishRevertResizeParams) TaskKind() string { return TaskFinishRevertResize }
func (*CrashDumpParams) TaskKind() string          { return TaskCrashDump }
func (*InjectNetworkInfoParams) TaskKind() string  { return TaskInjectNetworkInfo }
func (*RescueParams) TaskKind() string             { return TaskRescue }
func (*UnrescueParams) TaskKind() string           { return TaskUnrescue }
func (*LiveMigrationParams) TaskKind() string      { return TaskLiveMigration }
func (*EvacuateParams) TaskKind() string           { return TaskEvacuate }

// taskKind is one row of the contract: the newest params version of a
// kind and a new, empty value of its params type.
type taskKind struct {
	version int
	params  func() TaskParams
}

// kindOf is the taskKind of params type P at version.
func kindOf[P any, PP interface {
	*P
	TaskParams
}](version int) taskKind {
	return taskKind{version: version, params: func() TaskParams { return PP(new(P)) }}
}

// taskKinds is the task contract of this build. Change a kind's params
// compatibly (a new optional field) without a new version; change them
// any other way by raising the version and teaching decodeParams to read
// the older one, so rows queued by older API processes still run.
var taskKinds = map[string]taskKind{
	TaskBuild:              kindOf[BuildParams](1),
	TaskDelete:             kindOf[DeleteParams](1),
	TaskAction:             kindOf[ActionParams](1),
	TaskCall:               kindOf[CallParams](1),
	TaskRebuild:            kindOf[RebuildParams](1),
	TaskSnapshot:           kindOf[SnapshotParams](1),
	TaskSoftDelete:         kindOf[SoftDeleteParams](1),
	TaskRestore:            kindOf[RestoreParams](1),
	TaskShelve:             kindOf[ShelveParams](1),
	TaskShelveOffload:      kindOf[ShelveOffloadParams](1),
	TaskUnshelve:           kindOf[UnshelveParams](1),
	TaskResize:             kindOf[ResizeParams](1),
	TaskConfirmResize:      kindOf[ConfirmResizeParams](1),
	TaskRevertResize:       kindOf[RevertResizeParams](1),
	TaskFinishResize:       kindOf[FinishResizeParams](1),
	TaskFinishRevertResize: kindOf[FinishRevertResizeParams](1),
	TaskCrashDump:          kindOf[CrashDumpParams](1),
	TaskInjectNetworkInfo:  kindOf[InjectNetworkInfoParams](1),
	TaskRescue:             kindOf[RescueParams](1),
	TaskUnrescue:           kindOf[UnrescueParams](1),
	TaskLiveMigration:      kindOf[LiveMigrationParams](1),
	TaskEvacuate:           kindOf[EvacuateParams](1),
}

// TaskKinds are the task kinds this build knows, with the newest params
// version of each (the agent has a handler for every one).
func TaskKinds() map[string]int {
	out := make(map[string]int, len(taskKinds))
	for name, k := range taskKinds {
		out[name] = k.version
	}
	return out
}

// ErrTaskRefused is why a host leaves a task alone: its kind or params
// version is newer than the host's build (or its params cannot be read).
var ErrTaskRefused = errors.New("task refused")

// encodeParams is the JSON and version a task of kind is stored with.
func encodeParams(kinds map[string]taskKind, kind string, p TaskParams) (string, int, error) {
	k, ok := kinds[kind]
	if !ok {
		return "", 0, fmt.Errorf("queue task: unknown kind %q", kind)
	}
	if p == nil {
		p = k.params()
	}
	if p.TaskKind() != kind {
		return "", 0, fmt.Errorf("queue %s task: params of a %s task", kind, p.TaskKind())
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", 0, fmt.Errorf("encode %s params: %w", kind, err)
	}
	return string(raw), k.version, nil
}

// decodeParams reads the params of a task row of kind written at version;
// an unknown kind or version is ErrTaskRefused.
func decodeParams(kinds map[string]taskKind, kind string, version int, raw string) (TaskParams, error) {
	k, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("%w: this host does not know task kind %q", ErrTaskRefused, kind)
	}
	if version > k.version {
		return nil, fmt.Errorf("%w: task is %s version %d, this host knows up to version %d", ErrTaskRefused, kind, version, k.version)
	}
	p := k.params()
	if version == 0 {
		var legacy map[string]string
		if err := json.Unmarshal([]byte(raw), &legacy); err != nil {
			return nil, fmt.Errorf("%w: unreadable %s params: %v", ErrTaskRefused, kind, err)
		}
		if err := legacyParams(legacy, reflect.ValueOf(p).Elem()); err != nil {
			return nil, fmt.Errorf("%w: unreadable %s params: %v", ErrTaskRefused, kind, err)
		}
		return p, nil
	}
	if err := json.Unmarshal([]byte(raw), p); err != nil {
		return nil, fmt.Errorf("%w: unreadable %s params (version %d): %v", ErrTaskRefused, kind, version, err)
	}
	return p, nil
}

// legacyParams fills the params struct v from a row of the untyped
// format (version 0: every value a string, keyed by the JSON names the
// typed fields kept): booleans were "true", numbers decimal, task-state
// lists comma-joined, anything else JSON.
func legacyParams(m map[string]string, v reflect.Value) error {
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		if sf.Anonymous {
			if err := legacyParams(m, f); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		s, ok := m[name]
		if !ok || s == "" {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(s)
		case reflect.Bool:
			f.SetBool(s == "true")
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			f.SetInt(n)
		case reflect.Slice:
			if f.Type().Elem().Kind() != reflect.String {
				return fmt.Errorf("%s: no legacy form for %s", name, f.Type())
			}
			parts := strings.Split(s, ",")
			out := reflect.MakeSlice(f.Type(), 0, len(parts))
			for _, p := range parts {
				if p != "" {
					out = reflect.Append(out, reflect.ValueOf(p).Convert(f.Type().Elem()))
				}
			}
			f.Set(out)
		default:
			if err := json.Unmarshal([]byte(s), f.Addr().Interface()); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// cloneParams is a deep copy of p, params of kind.
func cloneParams(kind string, p TaskParams) (TaskParams, error) {
	k, ok := taskKinds[kind]
	if !ok {
		return nil, fmt.Errorf("copy params: unknown task kind %q", kind)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("copy %s params: %w", kind, err)
	}
	c := k.params()
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("copy %s params: %w", kind, err)
	}
	return c, nil
}

// Plan is the action plan t carries out; a kind without one (build,
// delete) has an empty plan.
func (t *Task) Plan() *TaskPlan {
	if p, ok := t.Params.(interface{ plan() *TaskPlan }); ok {
		return p.plan()
	}
	return &TaskPlan{}
}

// moveStep is the migration step of a resize-family task, nil for others.
func (t *Task) moveStep() *MoveStep {
	if p, ok := t.Params.(interface{ move() *MoveStep }); ok {
		return p.move()
	}
	return nil
}

// sealedAdminPass is the sealed password t carries to the guest, if any.
func (t *Task) sealedAdminPass() string {
	switch p := t.Params.(type) {
	case *BuildParams:
		return p.AdminPass
	case *RebuildParams:
		return p.AdminPass
	case *RescueParams:
		return p.AdminPass
	case *CallParams:
		return p.AdminPass
	case *EvacuateParams:
		return p.AdminPass
	}
	return ""
}
