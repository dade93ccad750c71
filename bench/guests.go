package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// guestBench measures real guests (kumo's qemu driver, or any cloud
// booting an image that prints marker on its serial console): the time
// from POST /servers to ACTIVE and to the marker, one at a time and n at
// once, and, for a local cloud, the RSS of each guest's process.
type guestBench struct {
	*bench
	image, marker string
	n             int
}

// guestFigures records the guest figures.
func (g *guestBench) guestFigures(ctx context.Context) {
	var active, ready []float64
	var failure error
	for i := 0; i < g.n && failure == nil; i++ {
		a, r, err := g.bootOne(ctx, fmt.Sprintf("%s-guest%d", g.prefix, i))
		if err != nil {
			failure = err
			break
		}
		active, ready = append(active, a.Seconds()), append(ready, r.Seconds())
	}
	for _, f := range []Figure{
		summarize(fmt.Sprintf("guest POST until ACTIVE (median of %d)", g.n), "s", active),
		summarize(fmt.Sprintf("guest POST until its ready marker (median of %d)", g.n), "s", ready),
	} {
		if failure != nil {
			f.Error = failure.Error()
		}
		g.figures = append(g.figures, f)
		g.progress(f)
	}

	var rss []float64
	g.record(ctx, fmt.Sprintf("%d guests at once: POST until every ready marker", g.n), "s", func(ctx context.Context) (float64, error) {
		prefix := fmt.Sprintf("%s-guests%d", g.prefix, g.n)
		defer func() { _, _ = g.deleteMany(ctx, prefix, g.n) }()
		start := time.Now()
		ids := make([]string, g.n)
		err := parallel(ctx, g.n, g.n, func(ctx context.Context, i int) error {
			id, err := g.createGuest(ctx, fmt.Sprintf("%s-%d", prefix, i))
			if err != nil {
				return err
			}
			ids[i] = id
			if _, err := g.waitIdle(ctx, id, start); err != nil {
				return err
			}
			return g.waitMarker(ctx, id)
		})
		if err != nil {
			return 0, err
		}
		took := time.Since(start)
		for _, id := range ids {
			if mb, err := guestRSS(id); err == nil {
				rss = append(rss, mb)
			}
		}
		return took.Seconds(), nil
	})
	if len(rss) > 0 {
		f := summarize("RSS of one guest's qemu process (all guests of the runs above)", "MB", rss)
		g.figures = append(g.figures, f)
		g.progress(f)
	}
}

// bootOne creates one guest named prefix-vm, measures POST→ACTIVE and
// POST→marker, then deletes it (deleteMany matches names ^prefix-), so
// the next boot is measured alone.
func (g *guestBench) bootOne(ctx context.Context, prefix string) (active, ready time.Duration, err error) {
	start := time.Now()
	id, err := g.createGuest(ctx, prefix+"-vm")
	if err != nil {
		return 0, 0, err
	}
	defer func() { _, _ = g.deleteMany(ctx, prefix, 1) }()
	if active, err = g.waitIdle(ctx, id, start); err != nil {
		return 0, 0, err
	}
	if err := g.waitMarker(ctx, id); err != nil {
		return 0, 0, err
	}
	return active, time.Since(start), nil
}

// createGuest posts a server of the guest image with a config drive.
func (g *guestBench) createGuest(ctx context.Context, name string) (string, error) {
	body := g.createBody(name)
	s := body["server"].(map[string]any)
	s["imageRef"], s["config_drive"] = g.image, true
	var out struct {
		Server server `json:"server"`
	}
	if err := g.c.do(ctx, "POST", g.c.computeURL("servers"), body, &out, http.StatusAccepted); err != nil {
		return "", err
	}
	return out.Server.ID, nil
}

// markerPoll is how often waitMarker asks for the console: each ask is
// work for the cloud on the machine the guest boots on, so it is kept
// well below the harness's usual 20 ms.
const markerPoll = 100 * time.Millisecond

// waitMarker polls the server's console output until it shows the marker.
func (g *guestBench) waitMarker(ctx context.Context, id string) error {
	deadline := time.Now().Add(g.timeout)
	for {
		var out struct {
			Output string `json:"output"`
		}
		err := g.c.do(ctx, "POST", g.c.computeURL("servers/"+id+"/action"),
			map[string]any{"os-getConsoleOutput": map[string]any{"length": 50}}, &out, http.StatusOK)
		switch {
		case err != nil:
			return err
		case strings.Contains(out.Output, g.marker):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("server %s: no %q on its console after %s", id, g.marker, g.timeout)
		}
		time.Sleep(markerPoll)
	}
}

// guestRSS finds the local qemu process of server id (kumo names it
// guest=<id>) and returns its RSS in MB.
func guestRSS(id string) (float64, error) {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		raw, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(raw, []byte("guest="+id)) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(path, "/proc/%d/cmdline", &pid); err != nil {
			continue
		}
		return readRSS(pid)
	}
	return 0, fmt.Errorf("no local process of guest %s", id)
}

// importTestGuest registers the test guest scripts/build-test-guest built
// in dir (kernel, initramfs and a disk that boots them, as
// scripts/import-test-guest does) and returns the disk image's id.
func (c *Cloud) importTestGuest(ctx context.Context, dir, name string) (string, error) {
	if c.image == "" {
		return "", fmt.Errorf("the cloud has no image endpoint")
	}
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return "", err
	}
	kernel, err := c.uploadImage(ctx, filepath.Join(dir, "vmlinuz"), map[string]any{
		"name": name + "-kernel", "disk_format": "aki", "container_format": "aki"})
	if err != nil {
		return "", err
	}
	ramdisk, err := c.uploadImage(ctx, filepath.Join(dir, "initrd.img"), map[string]any{
		"name": name + "-ramdisk", "disk_format": "ari", "container_format": "ari"})
	if err != nil {
		return "", err
	}
	return c.uploadImage(ctx, filepath.Join(dir, "disk.qcow2"), map[string]any{
		"name": name, "disk_format": "qcow2", "container_format": "bare",
		"kernel_id": kernel, "ramdisk_id": ramdisk, "os_command_line": strings.TrimSpace(string(cmdline))})
}

// uploadImage creates an image with the given attributes and uploads file
// as its data.
func (c *Cloud) uploadImage(ctx context.Context, file string, attrs map[string]any) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var img struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, "POST", c.image+"images", attrs, &img, http.StatusCreated); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, "PUT", c.image+"images/"+img.ID+"/file", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Auth-Token", c.provider.Token())
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return "", fmt.Errorf("upload %s: status %d", file, resp.StatusCode)
	}
	return img.ID, nil
}
