package agent

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/faults"
)

// DriverFaults decides whether a task's driver operation gets an
// injected fault (faults.Service): it has counted and recorded the rule
// it returns.
type DriverFaults interface {
	MatchDriver(ctx context.Context, q faults.DriverRequest) (*faults.Rule, error)
}

// faultOperations name the one-call server actions as fault rules name
// their operation.
var faultOperations = map[state.Action]string{
	state.ActionStop: "stop", state.ActionStart: "start", state.ActionRebootSoft: "reboot",
	state.ActionRebootHard: "reboot", state.ActionPause: "pause", state.ActionUnpause: "unpause",
	state.ActionSuspend: "suspend", state.ActionResume: "resume",
}

// FaultOperation is the operation name fault rules match t by: build,
// delete, the power actions (stop, start, reboot, pause, unpause,
// suspend, resume), a call's name (console_output, attach_interface,
// attach_volume, ...), else the task's kind (rebuild, resize,
// confirm_resize, snapshot, shelve, unshelve, rescue, live_migration,
// evacuate, ...).
func FaultOperation(t *compute.Task) string {
	switch t.Kind {
	case compute.TaskAction:
		if op, ok := faultOperations[t.Plan().Action]; ok {
			return op
		}
	case compute.TaskCall:
		if p, ok := t.Params.(*compute.CallParams); ok && p.Call != "" {
			return p.Call
		}
	}
	return t.Kind
}

// injectFault carries out the driver fault a rule sets for t before its
// driver work: an error the task fails with as if the driver had
// returned it, or a delay. Rules that cannot be read never fail a task.
func (a *Agent) injectFault(ctx context.Context, t *compute.Task) error {
	if a.opts.Faults == nil {
		return nil
	}
	r, err := a.opts.Faults.MatchDriver(ctx, faults.DriverRequest{
		Operation: FaultOperation(t), ServerID: t.InstanceID, RequestID: t.RequestID,
		Project: func(ctx context.Context) string {
			srv, err := a.compute.GetAny(ctx, t.InstanceID)
			if err != nil {
				return ""
			}
			return srv.ProjectID
		},
	})
	if err != nil {
		a.log.Error("fault rules unavailable", "task", t.ID, "error", err)
		return nil
	}
	if r == nil {
		return nil
	}
	if r.Action.Type == faults.ActionDriverHang {
		timer := time.NewTimer(r.Action.Delay())
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	msg := r.Action.Message
	if strings.TrimSpace(msg) == "" {
		msg = "Injected fault " + r.Name + ": the driver failed to " + FaultOperation(t)
	}
	return errors.New(msg)
}
