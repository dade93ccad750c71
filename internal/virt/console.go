package virt

import "errors"

// ConsoleKind names an interactive console of a guest.
type ConsoleKind string

// The consoles a driver may open: the guest's first serial port (its
// bytes both ways) and its screen as an RFB (VNC) server speaks it.
const (
	ConsoleSerial ConsoleKind = "serial"
	ConsoleVNC    ConsoleKind = "vnc"
)

// Valid reports whether k is a console kind drivers know.
func (k ConsoleKind) Valid() bool { return k == ConsoleSerial || k == ConsoleVNC }

// ErrNotRunning is returned for a console of a guest that exists but
// does not run (shut down, suspended): it has nothing to connect to.
var ErrNotRunning = errors.New("guest is not running")
