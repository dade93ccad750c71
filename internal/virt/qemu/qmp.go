package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// qmpReply is one message from QEMU: a command's return or error, or an
// asynchronous event (skipped).
type qmpReply struct {
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string `json:"event"`
}

// qmpCall connects to the QMP socket, negotiates capabilities, runs one
// command and returns its result. One connection per call: QEMU serves a
// QMP socket to one client at a time, so none is held open.
func qmpCall(ctx context.Context, socket, command string, args any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("qmp connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	r := bufio.NewReader(conn)
	var greeting map[string]json.RawMessage
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("qmp greeting: %w", err)
	}
	if err := json.Unmarshal(line, &greeting); err != nil || greeting["QMP"] == nil {
		return fmt.Errorf("qmp greeting: unexpected %q", line)
	}
	if _, err := qmpExchange(conn, r, "qmp_capabilities", nil); err != nil {
		return err
	}
	ret, err := qmpExchange(conn, r, command, args)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(ret, out); err != nil {
			return fmt.Errorf("qmp %s: decode result: %w", command, err)
		}
	}
	return nil
}

func qmpExchange(conn net.Conn, r *bufio.Reader, command string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qmp %s: send: %w", command, err)
	}
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("qmp %s: read: %w", command, err)
		}
		var rep qmpReply
		if err := json.Unmarshal(line, &rep); err != nil {
			return nil, fmt.Errorf("qmp %s: decode %q: %w", command, line, err)
		}
		switch {
		case rep.Event != "":
			continue
		case rep.Error != nil:
			return nil, fmt.Errorf("qmp %s: %s: %s", command, rep.Error.Class, rep.Error.Desc)
		default:
			return rep.Return, nil
		}
	}
}
