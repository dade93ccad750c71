package fake

// The fake guest's serial console: a tiny login-less shell answering on
// a "# " prompt, so a console client (the API's websocket, a test) has
// something real to talk to. It echoes what it reads, as a terminal's
// line discipline does.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/kumocloud/kumo/internal/virt"
)

// OpenConsole implements virt.Driver: the serial console is the shell,
// there is no screen (VNC is not supported).
func (d *Driver) OpenConsole(ctx context.Context, id string, kind virt.ConsoleKind) (io.ReadWriteCloser, error) {
	d.mu.Lock()
	g, err := d.get(id)
	var power virt.PowerState
	var name string
	if err == nil {
		power, name = g.power, g.shape.name
	}
	d.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case kind != virt.ConsoleSerial:
		return nil, fmt.Errorf("fake guest %s: %s console: %w", id, kind, virt.ErrNotSupported)
	case power != virt.PowerRunning:
		return nil, fmt.Errorf("fake guest %s: %w", id, virt.ErrNotRunning)
	}
	guestEnd, clientEnd := net.Pipe()
	go runShell(guestEnd, shellHostname(name))
	return clientEnd, nil
}

// shellHostname is the guest's host name as cloud-init would set it
// from the server's name: lower case, letters, digits and hyphens.
func shellHostname(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == ' ', r == '_', r == '.':
			b.WriteByte('-')
		}
	}
	if h := strings.Trim(b.String(), "-"); h != "" {
		return h
	}
	return "localhost"
}

// runShell serves the shell on conn until it closes.
func runShell(conn net.Conn, hostname string) {
	defer conn.Close()
	in := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, "\r\n# "); err != nil {
		return
	}
	var line []byte
	var lastCR bool
	for {
		c, err := in.ReadByte()
		if err != nil {
			return
		}
		var out string
		switch {
		case c == '\n' && lastCR: // CR LF is one end of line
		case c == '\r' || c == '\n':
			out = "\r\n" + shellAnswer(string(line), hostname) + "# "
			line = line[:0]
		case c == 0x7f || c == 0x08:
			if len(line) > 0 {
				line = line[:len(line)-1]
				out = "\b \b"
			}
		case c == 0x03: // ^C drops the line
			line = line[:0]
			out = "^C\r\n# "
		case c >= 0x20 && len(line) < 4096:
			line = append(line, c)
			out = string(c)
		}
		lastCR = c == '\r'
		if out == "" {
			continue
		}
		if _, err := io.WriteString(conn, out); err != nil {
			return
		}
	}
}

// shellAnswer is the output of one command line, each line ending CR LF.
func shellAnswer(line, hostname string) string {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return ""
	}
	var out string
	switch cmd := fields[0]; cmd {
	case "hostname":
		out = hostname
	case "echo":
		out = strings.Join(fields[1:], " ")
	case "uname":
		out = "Linux"
		if len(fields) > 1 && fields[1] == "-a" {
			out = "Linux " + hostname + " 6.1.0-kumo-fake #1 SMP x86_64 GNU/Linux"
		}
	case "whoami":
		out = "root"
	case "true", "exit":
		return ""
	default:
		out = "sh: " + cmd + ": not found"
	}
	return out + "\r\n"
}
