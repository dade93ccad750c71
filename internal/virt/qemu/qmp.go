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
// asynchronous event.
type qmpReply struct {
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// qmpEvent is an asynchronous event QEMU sent.
type qmpEvent struct {
	Name string
	Data json.RawMessage
}

// qmpCall connects to the QMP socket, negotiates capabilities, runs one
// command and returns its result. One connection per call: QEMU serves a
// QMP socket to one client at a time, so none is held open.
func qmpCall(ctx context.Context, socket, command string, args any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := qmpOpen(ctx, socket)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.call(command, args, out)
}

// onRunningGuest runs fn with a QMP session of guest id's QEMU (for at
// most 30 s) when the guest has a process; a guest without one has
// nothing to ask. The caller holds the guest's lock.
func (d *Driver) onRunningGuest(ctx context.Context, id string, fn func(q *qmpSession) error) error {
	if _, ok := d.pid(id); !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	q, err := qmpOpen(ctx, d.qmpSocket(id))
	if err != nil {
		return err
	}
	defer q.Close()
	return fn(q)
}

// qmpSession is one QMP connection for a sequence of commands and the
// events they cause (a hot-unplug's DEVICE_DELETED), held only while the
// caller holds the guest's lock.
type qmpSession struct {
	conn   net.Conn
	r      *bufio.Reader
	events []qmpEvent // seen while waiting for a command's return
	stop   func() bool
}

// qmpOpen connects and negotiates capabilities; the session ends its
// reads when ctx ends.
func qmpOpen(ctx context.Context, socket string) (*qmpSession, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("qmp connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c := &qmpSession{conn: conn, r: bufio.NewReader(conn)}
	c.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("qmp greeting: %w", err)
	}
	var greeting map[string]json.RawMessage
	if err := json.Unmarshal(line, &greeting); err != nil || greeting["QMP"] == nil {
		c.Close()
		return nil, fmt.Errorf("qmp greeting: unexpected %q", line)
	}
	if err := c.call("qmp_capabilities", nil, nil); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *qmpSession) Close() {
	c.stop()
	c.conn.Close()
}

// call runs one command and decodes its result into out (when not nil).
func (c *qmpSession) call(command string, args any, out any) error {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("qmp %s: send: %w", command, err)
	}
	for {
		rep, err := c.read(command)
		if err != nil {
			return err
		}
		switch {
		case rep.Event != "":
			c.events = append(c.events, qmpEvent{Name: rep.Event, Data: rep.Data})
		case rep.Error != nil:
			return fmt.Errorf("qmp %s: %s: %s", command, rep.Error.Class, rep.Error.Desc)
		default:
			if out != nil {
				if err := json.Unmarshal(rep.Return, out); err != nil {
					return fmt.Errorf("qmp %s: decode result: %w", command, err)
				}
			}
			return nil
		}
	}
}

func (c *qmpSession) read(what string) (qmpReply, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return qmpReply{}, fmt.Errorf("qmp %s: read: %w", what, err)
	}
	var rep qmpReply
	if err := json.Unmarshal(line, &rep); err != nil {
		return qmpReply{}, fmt.Errorf("qmp %s: decode %q: %w", what, line, err)
	}
	return rep, nil
}

// waitEvent returns once an event for which match holds has come, seen
// earlier in the session or read now; the session's context bounds it.
func (c *qmpSession) waitEvent(what string, match func(qmpEvent) bool) error {
	for i, e := range c.events {
		if match(e) {
			c.events = c.events[i+1:]
			return nil
		}
	}
	c.events = nil
	for {
		rep, err := c.read(what)
		if err != nil {
			return err
		}
		if rep.Event != "" && match(qmpEvent{Name: rep.Event, Data: rep.Data}) {
			return nil
		}
	}
}

// unplug asks the guest to let device id go (device_del) and waits for
// QEMU's DEVICE_DELETED of its QOM path, which comes once the guest OS
// has released it; the session's context bounds the wait.
func (c *qmpSession) unplug(id, path string) error {
	if err := c.call("device_del", map[string]string{"id": id}, nil); err != nil {
		return err
	}
	err := c.waitEvent("DEVICE_DELETED", func(e qmpEvent) bool {
		var data struct {
			Path string `json:"path"`
		}
		return e.Name == "DEVICE_DELETED" && json.Unmarshal(e.Data, &data) == nil && data.Path == path
	})
	if err != nil {
		return fmt.Errorf("the guest did not release it in time (does its OS take PCI hot-unplug?): %w", err)
	}
	return nil
}
