package compute_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// rebuildCloud is a compute cloud whose user u1 has the key pair
// "u1-key" and whose rebuilds take long enough to watch their task
// states; it returns the key pair's public key too.
func rebuildCloud(t *testing.T, database string) (*computetest.Cloud, string) {
	t.Helper()
	c := computetest.New(t, database, computetest.Options{Fake: fake.Options{Delays: map[string]time.Duration{"rebuild": 150 * time.Millisecond}}})
	kp, _, err := c.App.Keypairs.Create(context.Background(), keypair.CreateInput{UserID: "u1", ProjectID: "p1", Name: "u1-key"})
	if err != nil {
		t.Fatalf("create key pair: %v", err)
	}
	return c, kp.PublicKey
}

// rebuildImage registers an image for the rebuild tests: active with data
// unless queued, public.
func rebuildImage(t *testing.T, c *computetest.Cloud, name string, queued bool, tweak func(*image.CreateRequest)) string {
	t.Helper()
	ctx := context.Background()
	admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
	raw, bare := "raw", "bare"
	req := image.CreateRequest{Name: &name, Visibility: image.Public, DiskFormat: &raw, ContainerFormat: &bare,
		Properties: map[string]string{"os_distro": name}}
	if tweak != nil {
		tweak(&req)
	}
	if queued {
		img, err := c.Images.Create(ctx, admin, req)
		if err != nil {
			t.Fatal(err)
		}
		return img.ID
	}
	img, err := c.Images.CreateFromReader(ctx, admin, req, strings.NewReader("disk"))
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// TestRebuild rebuilds servers in each allowed state and checks what the
// accept writes, the task states on the way, where the server lands and
// what the guest got.
func TestRebuild(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, publicKey := rebuildCloud(t, database)
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		newImage := rebuildImage(t, c, "second", false, func(r *image.CreateRequest) {
			r.Properties["auto_disk_config"] = "true"
		})
		name, v4, v6, host := "rebuilt", "10.1.2.3", "fe80::1", "rebuilt-host"
		v6Given := "FE80:0:0::0001" // stored canonical, as Nova does
		desc, key, userData := "fresh", "u1-key", "aGVsbG8="
		cases := []struct {
			name   string
			before func(id string)
			req    compute.RebuildRequest
			status string
			power  state.PowerState
			check  func(t *testing.T, srv *compute.Server)
		}{
			{
				name: "active with every attribute",
				req: compute.RebuildRequest{ImageRef: newImage, AdminPass: "s3cret", Name: &name,
					Metadata: map[string]string{"role": "web"}, AccessIPv4: &v4, AccessIPv6: &v6Given,
					Description: ptrTo(&desc), KeyName: ptrTo(&key), UserData: ptrTo(&userData), Hostname: &host},
				status: "ACTIVE", power: state.PowerRunning,
				check: func(t *testing.T, srv *compute.Server) {
					if srv.Name != name || srv.AccessIPv4 != v4 || srv.AccessIPv6 != v6 || srv.Hostname != host ||
						srv.Description == nil || *srv.Description != desc || srv.UserData != userData {
						t.Errorf("attributes not rebuilt: %+v", srv)
					}
					if len(srv.Metadata) != 1 || srv.Metadata["role"] != "web" {
						t.Errorf("metadata %v, want only role=web", srv.Metadata)
					}
					if srv.KeyName != key || srv.KeyData != publicKey {
						t.Errorf("key %q %q, want %s %q", srv.KeyName, srv.KeyData, key, publicKey)
					}
					if srv.DiskConfig != "AUTO" { // the image's auto_disk_config
						t.Errorf("disk config %s, want AUTO", srv.DiskConfig)
					}
				},
			},
			{
				name:   "stopped stays stopped, key and user data removed",
				before: func(id string) { rebuildAct(t, c, owner, id, state.ActionStop, "SHUTOFF") },
				req:    compute.RebuildRequest{ImageRef: newImage, KeyName: ptrTo[string](nil), UserData: ptrTo[string](nil)},
				status: "SHUTOFF", power: state.PowerShutdown,
				check: func(t *testing.T, srv *compute.Server) {
					if srv.KeyName != "" || srv.KeyData != "" || srv.UserData != "" {
						t.Errorf("key %q and user data %q not removed", srv.KeyName, srv.UserData)
					}
					if srv.Name != "victim" || len(srv.Metadata) != 1 {
						t.Errorf("unasked attributes changed: name %q metadata %v", srv.Name, srv.Metadata)
					}
				},
			},
			{
				name:   "empty metadata clears it, preserve_ephemeral reaches the driver",
				req:    compute.RebuildRequest{ImageRef: c.ImageID, Metadata: map[string]string{}, PreserveEphemeral: true},
				status: "ACTIVE", power: state.PowerRunning,
				check: func(t *testing.T, srv *compute.Server) {
					if len(srv.Metadata) != 0 || srv.DiskConfig != "MANUAL" {
						t.Errorf("metadata %v disk config %s, want none and MANUAL", srv.Metadata, srv.DiskConfig)
					}
					log, err := c.Driver.ConsoleOutput(ctx, srv.ID)
					if err != nil || !strings.Contains(string(log), "preserve_ephemeral=true") {
						t.Errorf("console %q, %v: the driver was not asked to keep the ephemeral disk", log, err)
					}
				},
			},
			{
				name: "error server is rebuilt active",
				before: func(id string) {
					if _, err := c.DB.ExecContext(ctx, `UPDATE instances SET vm_state = 'error' WHERE id = ?`, id); err != nil {
						t.Fatal(err)
					}
				},
				req:    compute.RebuildRequest{ImageRef: c.ImageID, DiskConfig: ptr("MANUAL")},
				status: "ACTIVE", power: state.PowerRunning,
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				srv := c.CreateServer(t, owner, "victim", func(r *compute.CreateRequest) {
					r.Metadata = map[string]string{"old": "yes"}
					r.KeyName, r.UserData = "", "b2xk"
				}).Servers[0]
				c.WaitFor(t, srv.ID, computetest.Active)
				if tc.before != nil {
					tc.before(srv.ID)
				}
				tc.req.RequestID = "req-rebuild-" + srv.ID
				res, err := c.Compute.Rebuild(ctx, owner, srv.ID, tc.req)
				if err != nil {
					t.Fatalf("rebuild: %v", err)
				}
				if res.Server.TaskState != state.TaskRebuilding || res.Server.Status() != "REBUILD" {
					t.Fatalf("accepted server is %s/%s, want REBUILD/rebuilding", res.Server.Status(), res.Server.TaskState)
				}
				if (tc.req.AdminPass != "" && res.AdminPass != tc.req.AdminPass) || (tc.req.AdminPass == "" && len(res.AdminPass) != 12) {
					t.Fatalf("admin password %q", res.AdminPass)
				}
				if res.Server.ImageRef != tc.req.ImageRef || res.Server.SystemMetadata["image_base_image_ref"] != tc.req.ImageRef {
					t.Fatalf("image %s sysmeta %v, want %s", res.Server.ImageRef, res.Server.SystemMetadata, tc.req.ImageRef)
				}
				if tc.req.ImageRef == newImage && (res.Server.SystemMetadata["image_os_distro"] != "second" ||
					res.Server.SystemMetadata["image_hw_architecture"] != "") {
					t.Fatalf("old image properties kept or new ones missing: %v", res.Server.SystemMetadata)
				}
				c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == state.TaskRebuildSpawning })
				done := c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
				if done.Status() != tc.status || done.PowerState != tc.power {
					t.Fatalf("rebuilt server %s power %v, want %s %v", done.Status(), done.PowerState, tc.status, tc.power)
				}
				if done.LaunchedAt == nil || !done.LaunchedAt.After(srv.CreatedAt) {
					t.Errorf("launched_at %v not renewed", done.LaunchedAt)
				}
				guest, err := c.Driver.Inspect(srv.ID)
				if err != nil {
					t.Fatal(err)
				}
				if guest.ImageID != tc.req.ImageRef || int(guest.Power) != int(tc.power) || guest.Name != done.Name {
					t.Fatalf("guest image %s power %v name %q, want %s %v %q", guest.ImageID, guest.Power,
						guest.Name, tc.req.ImageRef, tc.power, done.Name)
				}
				a, err := c.Compute.GetAction(ctx, owner, srv.ID, tc.req.RequestID, false)
				if err != nil {
					t.Fatal(err)
				}
				if a.Action != "rebuild" || len(a.Events) != 1 || a.Events[0].Event != "compute_rebuild_instance" ||
					a.Events[0].Result == nil || *a.Events[0].Result != "Success" {
					t.Fatalf("instance action %+v", a)
				}
				if tc.check != nil {
					tc.check(t, done)
				}
			})
		}
	})
}

// TestRebuildRefusals checks each of Nova's refusals and that a refused
// rebuild changes nothing.
func TestRebuildRefusals(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := rebuildCloud(t, database)
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		stranger := &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member"}}
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
		queued := rebuildImage(t, c, "queued", true, nil)
		bigRAM := rebuildImage(t, c, "big-ram", false, func(r *image.CreateRequest) { r.MinRAM = 4096 })
		bigDisk := rebuildImage(t, c, "big-disk", false, func(r *image.CreateRequest) { r.MinDisk = 20 })
		noAuto := rebuildImage(t, c, "no-auto", false, func(r *image.CreateRequest) { r.Properties["auto_disk_config"] = "Disabled" })
		overQuota := errs.OverQuota("Quota exceeded for metadata_items: Requested 2, but already used 0 of 1 metadata_items")
		srv := c.CreateServer(t, owner, "keeper", nil).Servers[0]
		c.WaitFor(t, srv.ID, computetest.Active)
		paused := c.CreateServer(t, owner, "paused", nil).Servers[0]
		c.WaitFor(t, paused.ID, computetest.Active)
		rebuildAct(t, c, owner, paused.ID, state.ActionPause, "PAUSED")
		locked := c.CreateServer(t, owner, "locked", nil).Servers[0]
		c.WaitFor(t, locked.ID, computetest.Active)
		if err := c.Compute.SetLock(ctx, admin, locked.ID, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Flavors.Create(ctx, flavor.CreateInput{ID: "zero", Name: "zero-disk", VCPUs: 1, RAM: 512, IsPublic: true}); err != nil {
			t.Fatal(err)
		}
		zero := c.CreateServer(t, owner, "zero", func(r *compute.CreateRequest) { r.FlavorRef = "zero" }).Servers[0]
		c.WaitFor(t, zero.ID, computetest.Active)
		missingKey := "nobody-key"
		cases := []struct {
			name string
			p    *auth.Principal
			id   string
			req  compute.RebuildRequest
			kind errs.Kind
			msg  string
		}{
			{"another project's server", stranger, srv.ID, compute.RebuildRequest{ImageRef: c.ImageID},
				errs.KindNotFound, "Instance " + srv.ID + " could not be found."},
			{"paused", owner, paused.ID, compute.RebuildRequest{ImageRef: c.ImageID},
				errs.KindConflict, "Cannot 'rebuild' instance " + paused.ID + " while it is in vm_state paused"},
			{"locked before anything else", owner, locked.ID, compute.RebuildRequest{ImageRef: "missing", KeyName: ptrTo(&missingKey)},
				errs.KindConflict, "Instance " + locked.ID + " is locked"},
			{"unknown key before the image", owner, srv.ID, compute.RebuildRequest{ImageRef: "missing", KeyName: ptrTo(&missingKey)},
				errs.KindInvalid, "Invalid key_name provided."},
			{"missing image", owner, srv.ID, compute.RebuildRequest{ImageRef: "0b6b0c3e-2ac6-4a55-9b0e-7d4d1c1f3e21"},
				errs.KindInvalid, "Cannot find image for rebuild"},
			{"disk config the image disables", owner, srv.ID, compute.RebuildRequest{ImageRef: noAuto, DiskConfig: ptr("AUTO")},
				errs.KindInvalid, "Requested image " + noAuto + " has automatic disk resize disabled."},
			{"quota before the image checks", owner, srv.ID, compute.RebuildRequest{ImageRef: queued,
				Limits: func(context.Context) error { return overQuota }}, errs.KindOverQuota, errs.Message(overQuota)},
			{"queued image", owner, srv.ID, compute.RebuildRequest{ImageRef: queued},
				errs.KindInvalid, "Image " + queued + " is not active."},
			{"image needs more memory", owner, srv.ID, compute.RebuildRequest{ImageRef: bigRAM},
				errs.KindInvalid, "Flavor's memory is too small for requested image."},
			{"image needs a bigger disk", owner, srv.ID, compute.RebuildRequest{ImageRef: bigDisk}, errs.KindInvalid,
				fmt.Sprintf("Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is %d bytes, minimum size is %d bytes.", 1<<30, 20<<30)},
			{"zero-disk flavor for a non-admin", owner, zero.ID, compute.RebuildRequest{ImageRef: c.ImageID},
				errs.KindForbidden, "Only volume-backed servers are allowed for flavors with zero disk."},
		}
		// An admin may rebuild on a zero-disk flavor (Nova's zero_disk_flavor policy).
		if _, err := c.Compute.Rebuild(ctx, admin, zero.ID, compute.RebuildRequest{ImageRef: c.ImageID}); err != nil {
			t.Fatalf("admin rebuild on a zero-disk flavor: %v", err)
		}
		c.WaitFor(t, zero.ID, computetest.Active)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, err := c.Compute.GetAny(ctx, tc.id)
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.Compute.Rebuild(ctx, tc.p, tc.id, tc.req)
				if !errs.Is(err, tc.kind) || errs.Message(err) != tc.msg {
					t.Fatalf("error %v, want kind %v %q", err, tc.kind, tc.msg)
				}
				after, err := c.Compute.GetAny(ctx, tc.id)
				if err != nil {
					t.Fatal(err)
				}
				if after.ImageRef != before.ImageRef || after.TaskState != before.TaskState || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Fatalf("refused rebuild changed the server: %+v", after)
				}
			})
		}
	})
}

// TestRebuildDriverFailure checks a failed rebuild leaves the server in
// ERROR with the failure as its fault and the event failed.
func TestRebuildDriverFailure(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := rebuildCloud(t, database)
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		broken := rebuildImage(t, c, "broken", false, func(r *image.CreateRequest) { r.Properties[fake.FailProperty] = "rebuild" })
		srv := c.CreateServer(t, owner, "doomed", nil).Servers[0]
		c.WaitFor(t, srv.ID, computetest.Active)
		if _, err := c.Compute.Rebuild(ctx, owner, srv.ID, compute.RebuildRequest{ImageRef: broken, RequestID: "req-doomed"}); err != nil {
			t.Fatal(err)
		}
		done := c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
		if done.Status() != "ERROR" || done.Fault == nil || done.Fault.Code != 500 || !strings.Contains(done.Fault.Message, "injected rebuild failure") {
			t.Fatalf("failed rebuild left %s with fault %+v", done.Status(), done.Fault)
		}
		a, err := c.Compute.GetAction(ctx, owner, srv.ID, "req-doomed", false)
		if err != nil {
			t.Fatal(err)
		}
		if a.Message == nil || *a.Message != "Error" || len(a.Events) != 1 || *a.Events[0].Result != "Error" {
			t.Fatalf("failed rebuild's action %+v", a)
		}
		// An ERROR server may be rebuilt again, and comes back.
		if _, err := c.Compute.Rebuild(ctx, owner, srv.ID, compute.RebuildRequest{ImageRef: c.ImageID}); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, srv.ID, computetest.Active)
	})
}

// TestRebuildSealsPassword checks the admin password travels to the
// driver sealed in the task, never in clear, and that the rebuild task
// leaves nothing behind once it is finished.
func TestRebuildSealsPassword(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		srv := c.CreateServer(t, owner, "sealed", nil).Servers[0]
		claim := func(kind string) *compute.Task {
			t.Helper()
			tasks, err := c.Compute.ClaimTasks(ctx, srv.Host, c.Agent.Lease(), 10)
			if err != nil || len(tasks) != 1 || tasks[0].Kind != kind {
				t.Fatalf("claimed %v, %v; want one %s task", tasks, err, kind)
			}
			return tasks[0]
		}
		if err := c.Compute.FinishBuild(ctx, claim(compute.TaskBuild), time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		res, err := c.Compute.Rebuild(ctx, owner, srv.ID, compute.RebuildRequest{ImageRef: c.ImageID, AdminPass: "clear-text-pass"})
		if err != nil {
			t.Fatal(err)
		}
		task := claim(compute.TaskRebuild)
		if raw, err := json.Marshal(task.Params); err != nil || strings.Contains(string(raw), "clear-text-pass") {
			t.Fatalf("task params %s (%v) hold the password in clear", raw, err)
		}
		g, err := c.Agent.Guest(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		if g.AdminPass != "clear-text-pass" || res.AdminPass != "clear-text-pass" {
			t.Fatalf("guest password %q, answered %q", g.AdminPass, res.AdminPass)
		}
		if err := c.Compute.FinishRebuild(ctx, task, time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		var params string
		if err := c.DB.QueryRowContext(ctx, `SELECT params FROM tasks WHERE id = ?`, task.ID).Scan(&params); err != nil {
			t.Fatal(err)
		}
		if params != "{}" {
			t.Fatalf("finished task keeps params %s", params)
		}
		done, err := c.Compute.GetAny(ctx, srv.ID)
		if err != nil || done.Status() != "ACTIVE" || done.TaskState != state.TaskNone {
			t.Fatalf("rebuilt server %+v, %v", done, err)
		}
	})
}

// TestRebuildTaskOf checks which task states a rebuild task still has to
// pass, including one resumed after a crash.
func TestRebuildTaskOf(t *testing.T) {
	t.Parallel()
	running, shutdown := state.PowerRunning, state.PowerShutdown
	bdm, spawning, poweringOff := state.TaskRebuildBlockDeviceMapping, state.TaskRebuildSpawning, state.TaskPoweringOff
	plan := func(current state.TaskState, power state.PowerState, via ...state.TaskState) compute.TaskPlan {
		return compute.TaskPlan{TaskState: current, Power: power, Via: via}
	}
	cases := []struct {
		name          string
		params        compute.RebuildParams
		before, after string
		powerOn, keep bool
	}{
		{"fresh", compute.RebuildParams{TaskPlan: plan(state.TaskRebuilding, running, bdm, spawning)},
			"rebuild_block_device_mapping,rebuild_spawning", "", true, false},
		{"fresh stopped", compute.RebuildParams{TaskPlan: plan(state.TaskRebuilding, shutdown, bdm, spawning, poweringOff), PreserveEphemeral: true},
			"rebuild_block_device_mapping,rebuild_spawning", "powering-off", false, true},
		{"resumed while spawning", compute.RebuildParams{TaskPlan: plan(spawning, shutdown, bdm, spawning, poweringOff)},
			"", "powering-off", false, false},
		{"resumed while powering off", compute.RebuildParams{TaskPlan: plan(poweringOff, shutdown, bdm, spawning, poweringOff)},
			"", "", false, false},
	}
	join := func(ts []state.TaskState) string {
		s := make([]string, len(ts))
		for i, x := range ts {
			s[i] = string(x)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range cases {
		rt := compute.RebuildTaskOf(&compute.Task{Kind: compute.TaskRebuild, Params: &tc.params})
		if join(rt.Before) != tc.before || join(rt.After) != tc.after || rt.PowerOn != tc.powerOn || rt.PreserveEphemeral != tc.keep {
			t.Errorf("%s: %+v", tc.name, rt)
		}
	}
}

// rebuildAct runs a power action and waits for status.
func rebuildAct(t *testing.T, c *computetest.Cloud, p *auth.Principal, id string, a state.Action, status string) {
	t.Helper()
	if err := c.Compute.Act(context.Background(), p, id, a, "req-"+string(a)+"-"+id); err != nil {
		t.Fatal(err)
	}
	c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone && s.Status() == status })
}

func ptrTo[T any](p *T) **T { return &p }
