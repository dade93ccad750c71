package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestConfirmResizeFailureCLI: a confirmResize the driver fails (image
// property kumo_fake_fail=confirm_resize) leaves the server in ERROR with
// the failure as its fault, as Nova does, not in VERIFY_RESIZE where
// confirm and revert both answer "Instance has not been resized."; an
// admin's `openstack server set --state active` brings it back with its
// new flavor, and it works again.
func TestConfirmResizeFailureCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	ctx := context.Background()
	// Set-up with gophercloud: the CLI's subjects are resize and set --state.
	imageID := gcUploadImage(t, c, images.CreateOpts{Name: "confirm-fails", Properties: map[string]string{"kumo_fake_fail": "confirm_resize"}}, imageData)
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "stuck", ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatalf("create server: %v", err)
	}
	id := srv.ID
	gcWaitStatus(t, c.Compute, id, "ACTIVE")
	cli.Run(t, "server", "resize", "--flavor", "m1.small", "--wait", id)
	gcWaitIdle(t, c, id, "VERIFY_RESIZE")
	cli.Run(t, "server", "resize", "confirm", id)
	if status := gcWaitIdle(t, c, id, "ERROR"); status != "ERROR" {
		t.Fatalf("server after a failed confirm is %s, want ERROR", status)
	}
	failed, err := servers.Get(ctx, c.Compute, id).Extract()
	if err != nil {
		t.Fatalf("get the failed server: %v", err)
	}
	if !strings.Contains(failed.Fault.Message, "injected confirm_resize failure") {
		t.Errorf("fault after the failed confirm: %+v, want the driver's failure", failed.Fault)
	}
	if failed.TaskState != "" {
		t.Errorf("task_state after the failed confirm: %v, want none", failed.TaskState)
	}
	if msg := cli.Fail(t, "server", "resize", "confirm", id); !strings.Contains(msg, "while it is in vm_state error") {
		t.Errorf("confirm of the ERROR server printed %q, want Nova's 409", msg)
	}
	cli.Run(t, "server", "set", "--state", "active", id)
	gcWaitIdle(t, c, id, "ACTIVE")
	var shown obj
	cli.JSON(t, &shown, "server", "show", id)
	if f, _ := shown["flavor"].(string); !strings.Contains(f, "m1.small") {
		t.Errorf("flavor after the reset %v, want m1.small", shown["flavor"])
	}
	if err := servers.Stop(ctx, c.Compute, id).ExtractErr(); err != nil {
		t.Fatalf("stop after the reset: %v", err)
	}
	gcWaitIdle(t, c, id, "SHUTOFF")
}

// TestCreateImageThenDelete: a server deleted right after createImage
// takes its unfinished snapshot with it, as Nova deletes the image of an
// instance that disappears during its snapshot: no image is left queued.
func TestCreateImageThenDelete(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	eachEngine(t, func(t *testing.T, engineArgs []string) {
		s := Start(t, kumoBin, Options{Args: append([]string{"--fake-delay", "300ms"}, engineArgs...)})
		c := NewClients(t, s.CloudsFile(), "kumo")
		c.Compute.Microversion = computeVersion
		ctx := context.Background()
		imageID := imageIDByName(t, c, "kumo-tiny")
		var ids []string
		for _, name := range []string{"snap-then-delete", "snap-wait-delete"} {
			srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			ids = append(ids, srv.ID)
		}
		var snaps []string
		for i, id := range ids {
			gcWaitStatus(t, c.Compute, id, "ACTIVE")
			snap, err := servers.CreateImage(ctx, c.Compute, id, servers.CreateImageOpts{Name: fmt.Sprintf("snap-%d", i)}).ExtractImageID()
			if err != nil {
				t.Fatalf("createImage: %v", err)
			}
			snaps = append(snaps, snap)
			if i == 1 { // the second is deleted while the agent takes its snapshot
				waitTaskState(t, c, id, "image_pending_upload")
			}
			if err := servers.Delete(ctx, c.Compute, id).ExtractErr(); err != nil {
				t.Fatalf("delete right after createImage: %v", err)
			}
		}
		for _, id := range ids {
			gcWaitGone(t, c.Compute, id)
		}
		for _, snap := range snaps {
			img, err := images.Get(ctx, c.Image, snap).Extract()
			if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("snapshot %s of a deleted server: %v (status %v), want 404", snap, err, imageStatus(img))
			}
		}
		assertNoUnfinishedImages(t, c)
	})
}

// waitTaskState polls a server until it shows task_state want.
func waitTaskState(t *testing.T, c *Clients, id, want string) {
	t.Helper()
	var last *servers.Server
	ctx, cancel := context.WithTimeout(context.Background(), serverWait)
	defer cancel()
	for ctx.Err() == nil {
		srv, err := servers.Get(ctx, c.Compute, id).Extract()
		if err != nil {
			t.Fatalf("get server %s: %v", id, err)
		}
		if last = srv; srv.TaskState == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server %s never showed task_state %s (last %s)", id, want, statusOf(last))
}

func imageStatus(img *images.Image) string {
	if img == nil {
		return "none"
	}
	return string(img.Status)
}

// assertNoUnfinishedImages fails the test for any image the admin can
// see that is queued or saving.
func assertNoUnfinishedImages(t *testing.T, c *Clients) {
	t.Helper()
	pages, err := images.List(c.Image, images.ListOpts{Visibility: images.ImageVisibility("all")}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list images: %v", err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range list {
		if img.Status == images.ImageStatusQueued || img.Status == images.ImageStatusSaving {
			t.Errorf("image %s (%s) is left %s", img.Name, img.ID, img.Status)
		}
	}
}

// TestFakeGuestsSurviveRestart: the fake driver keeps its guests in the
// data dir, so after a restart the servers' guests are still there:
// reboot, stop, createImage and a resize's confirm work as on qemu
// instead of failing with "guest not found".
func TestFakeGuestsSurviveRestart(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	s := Start(t, kumoBin, Options{})
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	ids := gcCreateActive(t, c, "rebooted", "stopped", "snapped", "resized")
	if err := servers.Resize(ctx, c.Compute, ids["resized"], servers.ResizeOpts{FlavorRef: "2"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, ids["resized"], "VERIFY_RESIZE")
	s.Stop(t)
	if err := s.ExitErr(); err != nil {
		t.Fatalf("kumo's exit after SIGTERM: %v", err)
	}

	s2 := Start(t, kumoBin, Options{DataDir: s.DataDir, Listen: s.Listen})
	c2 := NewClients(t, s2.CloudsFile(), "kumo")
	c2.Compute.Microversion = computeVersion
	if err := servers.Reboot(ctx, c2.Compute, ids["rebooted"], servers.RebootOpts{Type: servers.HardReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.Stop(ctx, c2.Compute, ids["stopped"]).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	snap, err := servers.CreateImage(ctx, c2.Compute, ids["snapped"], servers.CreateImageOpts{Name: "after-restart"}).ExtractImageID()
	if err != nil {
		t.Fatal(err)
	}
	if err := servers.ConfirmResize(ctx, c2.Compute, ids["resized"]).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c2.Compute, ids["stopped"], "SHUTOFF", "ERROR")
	waitImageActive(t, c2, snap)
	if srv := gcWaitStatus(t, c2.Compute, ids["resized"], "ACTIVE", "ERROR"); srv.Status != "ACTIVE" {
		t.Errorf("confirm after the restart: %s, want ACTIVE", statusOf(srv))
	}
	for name, id := range ids {
		gcWaitTaskDone(t, c2, id)
		for _, a := range gcActionDetails(t, c2, id) {
			for _, e := range a.events {
				if e.result != "Success" {
					t.Errorf("%s: %s event %s ended %s after the restart", name, a.action, e.event, e.result)
				}
			}
		}
	}
	if srv, err := servers.Get(ctx, c2.Compute, ids["stopped"]).Extract(); err != nil || srv.Status != "SHUTOFF" {
		t.Errorf("stopped after the restart: %v %v, want SHUTOFF", statusOf(srv), err)
	}
}

// actionDetail is an instance action with its events' names and results.
type actionDetail struct {
	action string
	events []struct{ event, result string }
}

// gcActionDetails lists a server's instance actions with their events.
func gcActionDetails(t *testing.T, c *Clients, id string) []actionDetail {
	t.Helper()
	var out []actionDetail
	for _, a := range gcActions(t, c.Compute, id) {
		var got struct {
			Action struct {
				Action string `json:"action"`
				Events []struct {
					Event  string `json:"event"`
					Result string `json:"result"`
				} `json:"events"`
			} `json:"instanceAction"`
		}
		resp, err := c.Compute.Get(context.Background(), c.Compute.ServiceURL("servers", id, "os-instance-actions", a.RequestID), &got, nil)
		if err != nil {
			t.Fatalf("get action %s of %s: %v", a.RequestID, id, err)
		}
		resp.Body.Close()
		d := actionDetail{action: got.Action.Action}
		for _, e := range got.Action.Events {
			d.events = append(d.events, struct{ event, result string }{e.Event, e.Result})
		}
		out = append(out, d)
	}
	return out
}

// TestSecondServeOnDataDir: a second `kumo serve` on a data dir in use
// exits at once with an error naming the process that holds it, instead
// of recovering (and running again) the first one's tasks.
func TestSecondServeOnDataDir(t *testing.T) {
	t.Parallel()
	s := Start(t, kumoBin, Options{})
	out := RunKumoFail(t, kumoBin, "serve", "--data-dir", s.DataDir, "--listen", freeAddr(t))
	want := fmt.Sprintf("is in use by kumo serve, pid %d", s.PID())
	if !strings.Contains(out, want) {
		t.Errorf("second kumo serve on the data dir printed:\n%s\nwant it to name the holder (%q)", out, want)
	}
	if out := RunKumoFail(t, kumoBin, "migrate", "--data-dir", s.DataDir); !strings.Contains(out, want) {
		t.Errorf("kumo migrate on the data dir in use printed:\n%s\nwant %q", out, want)
	}
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the first kumo after the refusals: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSecondAgentOnLiveHost: two kumo processes with their own data dirs
// on one database, both claiming the compute host "shared-host": the
// second is refused while the first heartbeats, naming it, on SQLite (one
// database file) and PostgreSQL, and starts once the first has stopped.
func TestSecondAgentOnLiveHost(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engineArgs []string) {
		if len(engineArgs) == 0 {
			engineArgs = []string{"--database", filepath.Join(t.TempDir(), "shared.db")}
		}
		// One cloud: one secret key, made by the first process.
		key := filepath.Join(t.TempDir(), "secret.key")
		args := append([]string{"--host", "shared-host", "--secret-key-file", key}, engineArgs...)
		first := Start(t, kumoBin, Options{Args: args})
		second := t.TempDir()
		out := RunKumoFail(t, kumoBin, append([]string{"serve", "--data-dir", second, "--listen", freeAddr(t)}, args...)...)
		for _, want := range []string{`compute host "shared-host" is held by kumo serve, pid ` + fmt.Sprint(first.PID()), "data dir " + first.DataDir} {
			if !strings.Contains(out, want) {
				t.Errorf("second agent on the live host printed:\n%s\nwant %q", out, want)
			}
		}
		// The first still owns the host: it builds servers.
		c := NewClients(t, first.CloudsFile(), "kumo")
		c.Compute.Microversion = computeVersion
		srv, err := servers.Create(context.Background(), c.Compute, servers.CreateOpts{Name: "still-mine",
			ImageRef: imageIDByName(t, c, "kumo-tiny"), FlavorRef: "1", Networks: "none"}, nil).Extract()
		if err != nil {
			t.Fatal(err)
		}
		gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
		// Stopped, the first gives the host up: the second starts at once.
		first.Stop(t)
		Start(t, kumoBin, Options{DataDir: second, Args: args})
	})
}
