package volume_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestAttachmentsAPIFlow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		const server = "5e1f7b4a-0000-4000-8000-000000000001"
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: server})
		if err != nil {
			t.Fatal(err)
		}
		if a.AttachStatus != volume.AttachReserved || a.ConnectionInfo != nil || e.get(t, v.ID).Status != volume.StatusReserved {
			t.Fatalf("reserved: %+v", a)
		}
		// Not multiattach: a second server cannot reserve it.
		_, err = e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: "other"})
		wantErr(t, err, errs.KindInvalid, "Invalid volume: Volume "+v.ID+" status must be available or downloading to reserve, but the current status is reserved.")
		// Deleting a volume with an attachment is refused.
		wantErr(t, e.s.Delete(e.ctx, alice, v.ID, volume.DeleteOptions{}), errs.KindInvalid, "must not be migrating, attached")

		a, err = e.s.UpdateAttachment(e.ctx, alice, a.ID, map[string]any{"host": "kumo-1", "mountpoint": "/dev/vdb"})
		if err != nil {
			t.Fatal(err)
		}
		got := e.get(t, v.ID)
		if a.AttachStatus != volume.AttachAttaching || a.ConnectionInfo["device_path"] != v.Location ||
			a.ConnectionInfo["driver_volume_type"] != "local" || a.ConnectionInfo["attachment_id"] != a.ID ||
			*a.AttachedHost != "kumo-1" || *a.Mountpoint != "/dev/vdb" || a.AttachMode != "rw" ||
			got.Status != volume.StatusAttaching || len(got.AdminMetadata) != 0 {
			t.Fatalf("connected: %+v; volume %+v", a, got)
		}
		if err := e.s.CompleteAttachment(e.ctx, alice, a.ID); err != nil {
			t.Fatal(err)
		}
		got = e.get(t, v.ID)
		if got.Status != volume.StatusInUse || got.AttachStatus != volume.AttachAttached || len(got.Attachments) != 1 ||
			got.Attachments[0].AttachStatus != volume.AttachAttached {
			t.Fatalf("completed: %+v", got)
		}
		list, err := e.s.Attachments(e.ctx, alice, volume.AttachmentListOptions{Filters: map[string]string{"instance_id": server}})
		if err != nil || len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("attachments of the server: %v, %v", list, err)
		}
		if _, err := e.s.Attachment(e.ctx, bob, a.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("bob sees alice's attachment: %v", err)
		}
		// The same server may reserve it again (Nova's rebuild replaces
		// the attachment); with only that one left the volume is
		// reserved, as Cinder's _get_statuses_from_attachments has it.
		again, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: server})
		if err != nil {
			t.Fatal(err)
		}
		if got = e.get(t, v.ID); got.Status != volume.StatusInUse || len(got.Attachments) != 2 {
			t.Fatalf("reserved again: %+v", got)
		}
		left, err := e.s.DeleteAttachment(e.ctx, alice, a.ID)
		if err != nil || len(left) != 1 || left[0].ID != again.ID {
			t.Fatalf("delete the first: %v, %v", left, err)
		}
		if got = e.get(t, v.ID); got.Status != volume.StatusReserved || got.AttachStatus != volume.AttachReserved {
			t.Fatalf("left reserved: %+v", got)
		}
		a = again
		left, err = e.s.DeleteAttachment(e.ctx, alice, a.ID)
		if err != nil || len(left) != 0 {
			t.Fatalf("delete: %v, %v", left, err)
		}
		got = e.get(t, v.ID)
		if got.Status != volume.StatusAvailable || got.AttachStatus != volume.AttachDetached || got.AdminMetadata["attached_mode"] != "" {
			t.Fatalf("detached: %+v", got)
		}
	})
}

func TestOldAttachFlow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		steps := []struct {
			name   string
			do     func() error
			status string
			msg    string // expected error
		}{
			{"begin detaching unattached", func() error { return e.s.BeginDetaching(e.ctx, alice, v.ID) }, volume.StatusAvailable,
				"Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach."},
			{"reserve", func() error { return e.s.Reserve(e.ctx, alice, v.ID) }, volume.StatusAttaching, ""},
			{"reserve again", func() error { return e.s.Reserve(e.ctx, alice, v.ID) }, volume.StatusAttaching,
				"Volume status must be available to reserve, but the status is attaching."},
			{"unreserve", func() error { return e.s.Unreserve(e.ctx, alice, v.ID) }, volume.StatusAvailable, ""},
			{"reserve", func() error { return e.s.Reserve(e.ctx, alice, v.ID) }, volume.StatusAttaching, ""},
			{"attach", func() error {
				return e.s.Attach(e.ctx, alice, v.ID, volume.AttachRequest{InstanceUUID: "srv", Mountpoint: "/dev/vdb"})
			}, volume.StatusInUse, ""},
			{"begin detaching", func() error { return e.s.BeginDetaching(e.ctx, alice, v.ID) }, volume.StatusDetaching, ""},
			{"roll detaching", func() error { return e.s.RollDetaching(e.ctx, alice, v.ID) }, volume.StatusInUse, ""},
			{"begin detaching", func() error { return e.s.BeginDetaching(e.ctx, alice, v.ID) }, volume.StatusDetaching, ""},
			{"detach", func() error { return e.s.Detach(e.ctx, alice, v.ID, "") }, volume.StatusAvailable, ""},
			{"readonly", func() error { return e.s.SetReadonly(e.ctx, alice, v.ID, true) }, volume.StatusAvailable, ""},
			{"attach rw to readonly", func() error {
				return e.s.Attach(e.ctx, alice, v.ID, volume.AttachRequest{InstanceUUID: "srv", Mode: "rw"})
			}, volume.StatusAvailable, "Invalid attaching mode 'rw' for volume"},
		}
		for i, st := range steps {
			err := st.do()
			if st.msg != "" {
				wantErr(t, err, errs.KindInvalid, st.msg)
			} else if err != nil {
				t.Fatalf("step %d %s: %v", i, st.name, err)
			}
			if got := e.get(t, v.ID).Status; got != st.status {
				t.Fatalf("step %d %s: status %s, want %s", i, st.name, got, st.status)
			}
		}
		conn, err := e.s.InitializeConnection(e.ctx, alice, v.ID, map[string]any{"host": "h"})
		if err != nil {
			t.Fatal(err)
		}
		data := conn["data"].(map[string]any)
		if conn["driver_volume_type"] != "local" || data["device_path"] != v.Location || data["access_mode"] != "ro" {
			t.Fatalf("connection: %v", conn)
		}
	})
}
