package consoleproxy_test

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"testing"
)

// TestRFBClient runs the page's RFB client under Node (skipped without
// it) against a scripted server: the handshake's answers (security
// None), SetPixelFormat and SetEncodings, a full then an incremental
// update request, Raw pixels turned from B,G,R,X into RGBA, CopyRect,
// and DesktopSize resizing the canvas and asking for all of it again.
func TestRFBClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	out, err := exec.Command(node, "testdata/rfb_check.js", "static/rfb.js").Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Protos   []string
		Sent     [][]int
		Puts     [][]any
		Draws    [][]int
		W, H     int
		Statuses []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := [][]int{
		[]int{'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n'},
		{1}, // security None
		{1}, // ClientInit, shared
		{0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0}, // SetPixelFormat
		{2, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 255, 255, 255, 33},               // SetEncodings CopyRect, Raw, DesktopSize
		{3, 0, 0, 0, 0, 0, 0, 4, 0, 2},                                        // full update request
		{3, 1, 0, 0, 0, 0, 0, 4, 0, 2},                                        // incremental, after the update
		{3, 0, 0, 0, 0, 0, 0, 8, 0, 6},                                        // full again, after the resize
	}
	if !reflect.DeepEqual(got.Protos, []string{"binary"}) || !reflect.DeepEqual(got.Sent, want) {
		t.Errorf("client sent %v with subprotocols %v, want %v", got.Sent, got.Protos, want)
	}
	if len(got.Puts) != 1 || !reflect.DeepEqual(got.Puts[0], []any{1.0, 1.0, 1.0, 1.0, []any{1.0, 2.0, 3.0, 255.0}}) {
		t.Errorf("raw rectangle drawn as %v", got.Puts)
	}
	if !reflect.DeepEqual(got.Draws, [][]int{{1, 1, 1, 1, 0, 0, 1, 1}}) || got.W != 8 || got.H != 6 {
		t.Errorf("copyrect %v, canvas %dx%d", got.Draws, got.W, got.H)
	}
}
