package compute

// os-getConsoleOutput (Nova's compute API get_console_output): a
// synchronous call to the server's host for the guest's console log.

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ConsoleOutput returns the last length lines of a server's console log
// (all of it when length is nil), as Nova's API shows it. A server without
// a host is Nova's 409 "not ready", one the host does not know a 404.
func (s *Service) ConsoleOutput(ctx context.Context, p *auth.Principal, id string, length *int64, requestID string) (string, error) {
	var host, taskID string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := state.Check(state.ActionGetConsoleOutput, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		host = srv.Host
		taskID, err = queueCall(ctx, tx, srv, nil, CallConsoleOutput, "", requestID, nil, s.now())
		return err
	})
	if err != nil {
		return "", err
	}
	answer, err := s.awaitCall(ctx, host, taskID)
	if err != nil {
		return "", err
	}
	switch answer.Failure {
	case "":
		return ConsoleText([]byte(answer.Output), length), nil
	case callNotSupported:
		return "", &errs.Error{Kind: errs.KindNotImplemented, Message: "The requested functionality is not supported."}
	case callNotFound:
		return "", notFound(id)
	}
	return "", errs.NotFound("Guest does not have a console available.")
}

// consoleControl are the characters Nova's API strips from the output.
var consoleControl = regexp.MustCompile("[\x00-\x08\x0B-\x1F]")

// ConsoleText is the console log as Nova's API returns it: the compute
// manager's _tail_log (the last length lines, none for 0; a negative
// length counts from the start, so -1 drops the first line, as Python's
// slice does), decoded as ASCII with U+FFFD for other bytes, then control
// characters other than tab and newline removed.
func ConsoleText(log []byte, length *int64) string {
	if length != nil {
		n := *length
		if n == 0 {
			log = nil
		} else {
			lines := bytes.Split(log, []byte("\n"))
			lines = lines[pySliceStart(len(lines), -n):]
			log = bytes.Join(lines, []byte("\n"))
		}
	}
	var b strings.Builder
	for _, c := range log {
		if c < utf8.RuneSelf {
			b.WriteByte(c)
		} else {
			b.WriteRune(utf8.RuneError)
		}
	}
	return consoleControl.ReplaceAllString(b.String(), "")
}

// pySliceStart is where Python's seq[start:] begins for a sequence of n.
func pySliceStart(n int, start int64) int {
	if start < 0 {
		start += int64(n)
		if start < 0 {
			return 0
		}
	}
	if start > int64(n) {
		return n
	}
	return int(start)
}
