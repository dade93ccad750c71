package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/virt"
)

// rescueGroup rescues and unrescues servers, changes passwords, dumps crashes, reads consoles, plugs interfaces and re-injects network info.
func (a *Agent) rescueGroup() taskGroup {
	return taskGroup{tasks: map[string]taskHandler{
		compute.TaskRescue: {run: func(ctx context.Context, t *compute.Task) error {
			g, err := a.Guest(ctx, t)
			if err != nil {
				return err
			}
			return a.driver.Rescue(ctx, g, rescueImage(t))
		}, finish: a.compute.FinishRescue},
		compute.TaskUnrescue: {run: func(ctx context.Context, t *compute.Task) error {
			g, err := a.Guest(ctx, t)
			if err != nil {
				return err
			}
			return a.driver.Unrescue(ctx, g)
		}, finish: a.compute.FinishRescue},
		compute.TaskCall:              {run: a.call, finish: a.compute.FinishCall},
		compute.TaskCrashDump:         {run: a.crashDump, finish: a.compute.FinishEvent},
		compute.TaskInjectNetworkInfo: {run: a.injectNetworkInfo, finish: a.compute.FinishEvent},
	}}
}

// call answers a synchronous call from the API; the driver's failures
// are classified as compute words them (callError).
func (a *Agent) call(ctx context.Context, t *compute.Task) error {
	return callError(a.callDriver(ctx, t))
}

// callDriver makes the driver call t asks for.
func (a *Agent) callDriver(ctx context.Context, t *compute.Task) error {
	switch compute.CallOf(t) {
	case compute.CallSetAdminPassword:
		return a.setAdminPassword(ctx, t)
	case compute.CallConsoleOutput:
		out, err := a.driver.ConsoleOutput(ctx, t.InstanceID)
		if err != nil {
			return err
		}
		return a.compute.SaveCallOutput(ctx, t, string(out))
	case compute.CallDiagnostics:
		return a.diagnostics(ctx, t)
	case compute.CallAttachInterface, compute.CallDetachInterface:
		return a.plugInterface(ctx, t)
	case compute.CallAttachVolume:
		return a.attachVolume(ctx, t)
	case compute.CallDetachVolume:
		return a.driver.DetachVolume(ctx, t.InstanceID, compute.CallVolume(t))
	case compute.CallExtendVolume:
		return a.extendVolume(ctx, t)
	case compute.CallLiveMigrationForceComplete, compute.CallLiveMigrationAbort:
		return a.liveMigrationCall(ctx, t)
	}
	return fmt.Errorf("unknown call %q", compute.CallOf(t))
}

// plugInterface hot-plugs or unplugs the guest's NIC of the call's port.
// A port with no fixed address is no NIC of the guest's spec (kumo plugs
// only addressed ports, also at boot), so there is nothing to plug; a port
// the server does not have is for the call's finish to report.
func (a *Agent) plugInterface(ctx context.Context, t *compute.Task) error {
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	port := compute.CallPort(t)
	i := slices.IndexFunc(g.NICs, func(n virt.NIC) bool { return n.Port == port })
	if i < 0 {
		a.log.Info("interface call: the port is no NIC of the guest; nothing to plug", "server", t.InstanceID, "port", port, "call", compute.CallOf(t))
		return nil
	}
	if compute.CallOf(t) == compute.CallAttachInterface {
		return a.driver.AttachInterface(ctx, g, g.NICs[i])
	}
	return a.driver.DetachInterface(ctx, g.ID, g.NICs[i].MAC)
}

// attachVolume connects the call's volume to this host and hot-plugs it
// into the guest, whose spec then lists it.
func (a *Agent) attachVolume(ctx context.Context, t *compute.Task) error {
	if err := a.compute.ConnectVolume(ctx, t); err != nil {
		return err
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	id := compute.CallVolume(t)
	i := slices.IndexFunc(g.Volumes, func(v virt.Volume) bool { return v.ID == id })
	if i < 0 {
		return fmt.Errorf("volume %s is not connected to server %s", id, t.InstanceID)
	}
	return a.driver.AttachVolume(ctx, g, g.Volumes[i])
}

// extendVolume lets the guest see its volume's new size, as Nova's
// libvirt driver does on "volume-extended" (block_resize); a driver that
// cannot grow a running guest's disk leaves it to the guest's next boot.
func (a *Agent) extendVolume(ctx context.Context, t *compute.Task) error {
	x, ok := a.driver.(virt.VolumeExtender)
	if !ok {
		a.log.Info("extend volume: the driver cannot grow a running guest's disk", "server", t.InstanceID, "volume", compute.CallVolume(t))
		return nil
	}
	return x.ExtendVolume(ctx, t.InstanceID, compute.CallVolume(t), int64(compute.CallVolumeSize(t))<<30)
}

// diagnostics answers with what the driver reports of the guest.
func (a *Agent) diagnostics(ctx context.Context, t *compute.Task) error {
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	d, err := a.driver.Diagnostics(ctx, g)
	if err != nil {
		return err
	}
	out, err := json.Marshal(novaDiagnostics(d))
	if err != nil {
		return err
	}
	return a.compute.SaveCallOutput(ctx, t, string(out))
}

// setAdminPassword changes the guest's password, failing with the texts
// of Nova's compute manager: a guest that is not running is refused
// before the driver is asked, and the driver's own error is only logged,
// as it might show the password.
func (a *Agent) setAdminPassword(ctx context.Context, t *compute.Task) error {
	id := t.InstanceID
	if err := a.requireRunning(ctx, id); errors.Is(err, compute.ErrGuestNotRunning) {
		return compute.CallFailure(err, "Failed to set admin password on %s because instance %s is not running", id, id)
	} else if err != nil {
		return err
	}
	password, err := a.compute.CallAdminPass(t)
	if err != nil {
		return err
	}
	err = a.driver.SetAdminPassword(ctx, id, password)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, virt.ErrNotSupported):
		return compute.CallFailure(compute.ErrNotSupported, "set_admin_password is not implemented by this driver or guest instance.")
	}
	a.log.Warn("set_admin_password failed", "server", id, "error", err)
	return compute.CallFailure(nil, "Failed to set admin password on %s because error setting admin password", id)
}

// crashDump injects an NMI; like libvirt, a guest that is not running
// cannot take one (InstanceNotRunning).
func (a *Agent) crashDump(ctx context.Context, t *compute.Task) error {
	if err := a.requireRunning(ctx, t.InstanceID); errors.Is(err, compute.ErrGuestNotRunning) {
		return fmt.Errorf("Instance %s is not running.", t.InstanceID) //nolint:staticcheck // Nova's InstanceNotRunning text
	} else if err != nil {
		return err
	}
	return a.driver.InjectNMI(ctx, t.InstanceID)
}

// injectNetworkInfo re-injects the guest's network configuration. Nova's
// drivers do nothing here unless the guest is configured by file
// injection, which kumo's drivers never do: the agent checks that the
// guest exists and logs what would be injected.
func (a *Agent) injectNetworkInfo(ctx context.Context, t *compute.Task) error {
	if _, err := a.driver.PowerState(ctx, t.InstanceID); err != nil {
		return fmt.Errorf("inject network info: %w", err)
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	a.log.Debug("inject network info", "server", t.InstanceID, "nics", len(g.NICs))
	return nil
}

// requireRunning fails with compute.ErrGuestNotRunning unless the guest
// runs.
func (a *Agent) requireRunning(ctx context.Context, id string) error {
	power, err := a.driver.PowerState(ctx, id)
	if err != nil {
		return err
	}
	if power != virt.PowerRunning {
		return compute.ErrGuestNotRunning
	}
	return nil
}
