package compute

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/compute/state"
)

// TestLegacyTaskParams: rows queued before the task contract (version 0,
// every value a string) are read into the typed params of their kind.
func TestLegacyTaskParams(t *testing.T) {
	cases := []struct {
		kind   string
		legacy map[string]string
		want   TaskParams
	}{
		{TaskBuild, map[string]string{"admin_pass": "sealed"}, &BuildParams{AdminPass: "sealed"}},
		{TaskBuild, map[string]string{}, &BuildParams{}},
		{TaskDelete, map[string]string{}, &DeleteParams{}},
		{TaskAction, map[string]string{"action": "os-stop", "event": "compute_stop_instance", "task_state": "powering-off",
			"vm_state": "stopped", "power_state": "4"},
			&ActionParams{TaskPlan{Action: state.ActionStop, Event: "compute_stop_instance", TaskState: state.TaskPoweringOff,
				VMState: state.VMStopped, Power: state.PowerShutdown}}},
		{TaskRebuild, map[string]string{"task_state": "rebuilding", "power_state": "1", "preserve_ephemeral": "true",
			"via": "rebuild_block_device_mapping,rebuild_spawning", "admin_pass": "sealed"},
			&RebuildParams{TaskPlan: TaskPlan{TaskState: state.TaskRebuilding, Power: state.PowerRunning,
				Via: []state.TaskState{state.TaskRebuildBlockDeviceMapping, state.TaskRebuildSpawning}},
				PreserveEphemeral: true, AdminPass: "sealed"}},
		{TaskSnapshot, map[string]string{"image_id": "img", "via": "", "backup": "true", "backup_type": "daily", "rotation": "2"},
			&SnapshotParams{ImageID: "img", Backup: true, BackupType: "daily", Rotation: 2}},
		{TaskResize, map[string]string{"migration_id": "42", "power_state": "4"},
			&ResizeParams{TaskPlan: TaskPlan{Power: state.PowerShutdown}, MoveStep: MoveStep{MigrationID: 42}}},
		{TaskRescue, map[string]string{"rescue_image": "i1", "rescue_image_name": "rescue", "rescue_image_format": "qcow2",
			"rescue_image_properties": `{"kernel_id":"k1"}`},
			&RescueParams{ImageID: "i1", ImageName: "rescue", ImageFormat: "qcow2", ImageProperties: map[string]string{"kernel_id": "k1"}}},
		{TaskCall, map[string]string{"call": "console_output"}, &CallParams{Call: "console_output"}},
		{TaskSoftDelete, map[string]string{"confirm_resize": "true"}, &SoftDeleteParams{ConfirmResize: true}},
		{TaskUnshelve, map[string]string{"image_id": "img", "spawn": "true"}, &UnshelveParams{ImageID: "img", Spawn: true}},
	}
	for _, tc := range cases {
		raw, _ := json.Marshal(tc.legacy)
		got, err := decodeParams(taskKinds, tc.kind, 0, string(raw))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s: got %+v, %v; want %+v", tc.kind, raw, got, err, tc.want)
		}
	}
}

// TestTaskParamsRoundTrip: every kind's params come back as they were
// stored, at this build's version.
func TestTaskParamsRoundTrip(t *testing.T) {
	for kind, k := range taskKinds {
		p := k.params()
		if p.TaskKind() != kind {
			t.Errorf("kind %s has params of kind %s", kind, p.TaskKind())
		}
		if pl, ok := p.(interface{ plan() *TaskPlan }); ok {
			*pl.plan() = TaskPlan{Action: "x", Event: "e", TaskState: "t", VMState: "v", Power: 3, Via: []state.TaskState{"a"}}
		}
		raw, version, err := encodeParams(taskKinds, kind, p)
		if err != nil || version != k.version {
			t.Fatalf("encode %s: version %d, %v", kind, version, err)
		}
		got, err := decodeParams(taskKinds, kind, version, raw)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("%s: %s read back as %+v, %v", kind, raw, got, err)
		}
	}
}

// TestTaskParamsRefused: a kind or version this build does not know, or
// params it cannot read, are ErrTaskRefused; a kind's params must match.
func TestTaskParamsRefused(t *testing.T) {
	cases := []struct {
		kind    string
		version int
		raw     string
	}{
		{"teleport", 1, `{}`},
		{TaskBuild, taskKinds[TaskBuild].version + 1, `{}`},
		{TaskBuild, 1, `not json`},
		{TaskRebuild, 0, `{"power_state":"on"}`},
	}
	for _, tc := range cases {
		if _, err := decodeParams(taskKinds, tc.kind, tc.version, tc.raw); !errors.Is(err, ErrTaskRefused) {
			t.Errorf("%s v%d %s: %v, want ErrTaskRefused", tc.kind, tc.version, tc.raw, err)
		}
	}
	if _, _, err := encodeParams(taskKinds, TaskBuild, &DeleteParams{}); err == nil {
		t.Error("a build task was queued with delete params")
	}
}
