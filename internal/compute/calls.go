package compute

// Synchronous calls. Nova's API makes a few RPCs to the compute host as
// calls and waits for the answer (set_admin_password, get_console_output);
// everything else is a cast. Here a call is a task of kind TaskCall: the
// API queues it, wakes the agent and polls the task row until the agent
// has finished it, reading the answer the agent left in tasks.result. A
// call task nobody waits on is a cast of the same shape (detach_interface).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// TaskCall is the task kind of a synchronous call; params["call"] says
// which one.
const TaskCall = "call"

// The calls the agent answers.
const (
	CallSetAdminPassword = "set_admin_password"
	CallConsoleOutput    = "console_output"
	CallDiagnostics      = "diagnostics"
	CallAttachInterface  = "attach_interface" // hot-plug PortID's NIC
	CallDetachInterface  = "detach_interface" // unplug PortID's NIC (a cast: nobody waits)
)

// What the agent answers a call with, as an error class (errors.Is):
// the guest is not running while the call needs it to, the host's
// driver cannot do what is asked, or it has no such guest.
var (
	ErrGuestNotRunning = errors.New("guest is not running")
	ErrNotSupported    = errors.New("not supported by the host's driver")
	ErrGuestNotFound   = errors.New("the host has no such guest")
)

// CallFailure is an error worded as Nova's compute manager words it,
// with class (ErrNotSupported, ErrGuestNotRunning, ...) deciding
// how the API answers; the driver's own error stays out of it (it may
// show a password).
func CallFailure(class error, format string, args ...any) error {
	return &callFailure{msg: fmt.Sprintf(format, args...), class: class}
}

type callFailure struct {
	msg   string
	class error
}

func (f *callFailure) Error() string { return f.msg }
func (f *callFailure) Unwrap() error { return f.class }

// callTimeout is how long the API waits for the agent (Nova's
// rpc_response_timeout).
const callTimeout = 60 * time.Second

// Failure classes of a call's answer: how the compute side failed, which
// each API call words as Nova does.
const (
	callNotSupported = "not_supported" // NotImplementedError
	callNotFound     = "not_found"     // InstanceNotFound
	callNotRunning   = "not_running"   // the guest is not running
	callError        = "error"         // anything else
)

// callAnswer is a finished call's result as kept in tasks.result.
type callAnswer struct {
	Output  string `json:"output,omitempty"`
	Failure string `json:"failure,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// callFailureOf classifies a driver error.
func callFailureOf(err error) string {
	switch {
	case errors.Is(err, ErrNotSupported):
		return callNotSupported
	case errors.Is(err, ErrGuestNotFound):
		return callNotFound
	case errors.Is(err, ErrGuestNotRunning):
		return callNotRunning
	}
	return callError
}

// queueCall queues call for srv's host in tx and returns the task's id.
// b, when not nil, is the server action the call carries out: its plan
// and event go into the params as queueAction writes them, so FinishCall
// can commit it with finishPlanned.
func queueCall(ctx context.Context, tx *store.Tx, srv *Server, b *begunAction, call, event, requestID string,
	params *CallParams, now time.Time) (string, error) {
	if params == nil {
		params = &CallParams{}
	}
	params.Call = call
	t := &Task{InstanceID: srv.ID, Host: srv.Host, Kind: TaskCall, RequestID: requestID, Params: params}
	if b != nil {
		params.TaskPlan = planOf(b, event)
		params.Via = nil
		t.ActionID = b.ActionID
	}
	if err := insertTask(ctx, tx, t, now); err != nil {
		return "", err
	}
	return t.ID, nil
}

// SaveCallOutput keeps what a call answers while its task still runs;
// FinishCall then commits the task.
func (s *Service) SaveCallOutput(ctx context.Context, t *Task, output string) error {
	raw, err := json.Marshal(callAnswer{Output: output})
	if err != nil {
		return fmt.Errorf("encode call output: %w", err)
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE tasks SET result = ? WHERE id = ? AND state = ?`,
		string(raw), t.ID, taskRunning); err != nil {
		return fmt.Errorf("save call output: %w", err)
	}
	return nil
}

// FinishCall commits a call: a failure becomes the answer the API reads;
// a call that carries out a server action is committed as finishPlanned
// does (task_state cleared, event recorded), any other just finished.
func (s *Service) FinishCall(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if opErr != nil {
			raw, _ := json.Marshal(callAnswer{Failure: callFailureOf(opErr), Detail: opErr.Error()})
			if _, err := tx.ExecContext(ctx, `UPDATE tasks SET result = ? WHERE id = ?`, string(raw), t.ID); err != nil {
				return fmt.Errorf("save call failure: %w", err)
			}
		}
		switch CallOf(t) {
		case CallAttachInterface, CallDetachInterface:
			return s.finishInterfaceCall(ctx, tx, t, started, opErr)
		case CallAttachVolume, CallDetachVolume:
			return s.finishVolumeCall(ctx, tx, t, started, opErr)
		case CallExtendVolume:
			return s.finishExtendCall(ctx, tx, t, started, opErr)
		}
		if t.ActionID != "" {
			return s.finishPlanned(ctx, tx, t, started, opErr)
		}
		return finishTask(ctx, tx, t, opErr != nil, s.now())
	})
}

// CallAdminPass opens the password a call carries to the guest.
func (s *Service) CallAdminPass(t *Task) (string, error) {
	sealed := t.sealedAdminPass()
	if sealed == "" {
		return "", fmt.Errorf("call %s carries no admin password", CallOf(t))
	}
	return s.Secrets.Open(sealed)
}

// CallOf is the call a call task makes ("" for another kind).
func CallOf(t *Task) string {
	if p, ok := t.Params.(*CallParams); ok {
		return p.Call
	}
	return ""
}

// CallPort is the port an interface call plugs or unplugs.
func CallPort(t *Task) string {
	if p, ok := t.Params.(*CallParams); ok {
		return p.PortID
	}
	return ""
}

// awaitCall wakes host's agent, waits until it has finished the call
// task id and returns its answer; it gives up with an error after
// callTimeout or when ctx ends.
func (s *Service) awaitCall(ctx context.Context, host, id string) (callAnswer, error) {
	s.wake(host)
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	wait := 5 * time.Millisecond
	for {
		var st string
		var result sql.NullString
		err := s.DB.QueryRowContext(ctx, `SELECT state, result FROM tasks WHERE id = ?`, id).Scan(&st, &result)
		if err != nil && ctx.Err() == nil {
			return callAnswer{}, fmt.Errorf("read call task: %w", err)
		}
		if err == nil && (st == taskDone || st == taskFailed) {
			var a callAnswer
			if result.Valid && result.String != "" {
				if err := json.Unmarshal([]byte(result.String), &a); err != nil {
					return callAnswer{}, fmt.Errorf("decode call answer: %w", err)
				}
			}
			if st == taskFailed && a.Failure == "" {
				a.Failure = callError
			}
			return a, nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return callAnswer{}, fmt.Errorf("timed out waiting for the compute host to answer call task %s: %w", id, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
