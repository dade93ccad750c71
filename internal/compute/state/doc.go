// Package state is Nova's server state model as data: vm_state, task_state
// and power_state values, the API status derived from them, the
// preconditions each server action checks, the task state it sets when
// accepted and where it leaves the server when it succeeds. It is pure
// logic (no database, no HTTP) so the API layer and the compute engine
// share one set of rules.
//
// Where each table comes from (openstack/nova master at 00a030403f67, 2026-08):
//
//   - VMState, TaskState: nova/compute/vm_states.py, nova/compute/task_states.py
//     and the enums in nova/objects/fields.py (InstanceState, InstanceTaskState).
//   - PowerState and its names: nova/compute/power_state.py and
//     fields.InstancePowerState (the index is the stored integer).
//   - Status and StatesForStatus: _STATE_MAP, status_from_state and
//     task_and_vm_state_from_status in nova/api/openstack/common.py; the list
//     filter's use of them (400 "Invalid status value" from 2.38, the dropped
//     task filter for "default") in nova/api/openstack/compute/servers.py.
//     Status meanings: api-guide/server_concepts.rst.
//   - Rules (allowed vm/task states, lock, launched_at, host checks and their
//     order): the check_instance_lock, check_instance_host and
//     check_instance_state decorators on nova/compute/api.py API methods
//     (state defaults: task_state must be None, launched_at must be set),
//     ALLOW_SOFT_REBOOT/ALLOW_HARD_REBOOT/ALLOW_TRIGGER_CRASH_DUMP in
//     vm_states.py and ALLOW_REBOOT in task_states.py; the server tags
//     controller's own vm_state check (compute/server_tags.py).
//   - The action names and wording of 409s: raise_http_conflict_for_instance_invalid_state
//     in nova/api/openstack/common.py, the name each controller passes to it
//     (e.g. 'start' for os-start), InstanceIsLocked and InstanceNotReady in
//     nova/exception.py, and which controllers catch InstanceIsLocked.
//   - Task states set on acceptance: the instance.task_state assignments in
//     nova/compute/api.py. Intermediate task states and final vm/power
//     states: nova/compute/manager.py (reboot_instance, stop_instance,
//     _shelve_offload_instance, confirm/revert/finish_resize, _do_rebuild_instance,
//     resume_instance ...). Preconditions in prose: api-ref servers-actions.inc,
//     servers-admin-action.inc, servers-action-*.inc.
package state
