package image

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// service is a service user of alice's project (a service role, as
// Nova's and Cinder's users have).
var service = &auth.Principal{UserID: "nova", ProjectID: "pa", Roles: []string{"service"}}

func TestLocations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		queued := mustCreate(t, s, alice, CreateRequest{})
		active := mustCreate(t, s, alice, CreateRequest{})
		if _, err := s.Upload(ctx, alice, active.ID, bytes.NewReader([]byte("data")), 4); err != nil {
			t.Fatalf("upload: %v", err)
		}
		deactivated := mustCreate(t, s, alice, CreateRequest{})
		if _, err := s.Upload(ctx, alice, deactivated.ID, bytes.NewReader([]byte("data")), 4); err != nil {
			t.Fatalf("upload: %v", err)
		}
		if err := s.Deactivate(ctx, alice, deactivated.ID); err != nil {
			t.Fatalf("deactivate: %v", err)
		}
		for _, c := range []struct {
			name string
			p    *auth.Principal
			id   string
			want []string // urls; nil: not found
		}{
			{"queued", service, queued.ID, []string{}},
			{"active", service, active.ID, []string{"file://" + s.dataPath(active.ID)}},
			{"deactivated", admin, deactivated.ID, []string{"file://" + s.dataPath(deactivated.ID)}},
			{"another project's private image", bob, active.ID, nil},
			{"missing", admin, "6d1c4f3e-0000-4000-8000-000000000000", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				locs, err := s.Locations(ctx, c.p, c.id)
				if c.want == nil {
					wantMessage(t, err, errs.KindNotFound, "No image found with ID "+c.id)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(locs) != len(c.want) {
					t.Fatalf("locations %v, want %v", locs, c.want)
				}
				for i, l := range locs {
					if l.URL != c.want[i] || l.Metadata == nil || len(l.Metadata) != 0 {
						t.Errorf("location %d: %+v, want %s with {}", i, l, c.want[i])
					}
				}
			})
		}
	})
}

func TestAddLocationChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		queued := mustCreate(t, s, alice, CreateRequest{})
		public := mustCreate(t, s, admin, CreateRequest{Visibility: Public})
		active := mustCreate(t, s, alice, CreateRequest{})
		if _, err := s.Upload(ctx, alice, active.ID, bytes.NewReader([]byte("data")), 4); err != nil {
			t.Fatalf("upload: %v", err)
		}
		publicActive := mustCreate(t, s, admin, CreateRequest{Visibility: Public})
		if _, err := s.Upload(ctx, admin, publicActive.ID, bytes.NewReader([]byte("data")), 4); err != nil {
			t.Fatalf("upload: %v", err)
		}
		denied := func(*Image) error { return notAuthorized("add_image_location") }
		sha256 := strings.Repeat("ab", 32)
		for _, c := range []struct {
			name      string
			p         *auth.Principal
			id        string
			authorize func(*Image) error
			val       map[string]any
			kind      errs.Kind
			msg       string
		}{
			{"invisible image", bob, queued.ID, nil, nil, errs.KindNotFound, "No image found with ID " + queued.ID},
			{"not queued, before the policy", bob, publicActive.ID, denied, nil, errs.KindConflict, "It's not allowed to add locations if image status is active."},
			{"active", alice, active.ID, denied, nil, errs.KindConflict, "It's not allowed to add locations if image status is active."},
			{"policy", bob, public.ID, denied, nil, errs.KindForbidden, "You are not authorized to complete add_image_location action."},
			{"member without a service role", alice, queued.ID, nil, nil, errs.KindForbidden, "http store must be enabled to use location API by normal user."},
			{"admin without a service role", admin, queued.ID, nil, nil, errs.KindForbidden, "http store must be enabled to use location API by normal user."},
			{"hash not hexadecimal", service, queued.ID, nil, map[string]any{"os_hash_algo": "sha256", "os_hash_value": "xyz"},
				errs.KindInvalid, "os_hash_value (xyz) is not a valid hexadecimal value"},
			{"hash of the wrong size", service, queued.ID, nil, map[string]any{"os_hash_algo": "sha512", "os_hash_value": sha256},
				errs.KindInvalid, "os_hash_value: (" + sha256 + ") is not the correct size for (sha512) (should be (64) bytes)"},
			{"odd digit", service, queued.ID, nil, map[string]any{"os_hash_algo": "md5", "os_hash_value": "abc"},
				errs.KindInvalid, "os_hash_value (abc) is not a valid hexadecimal value"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.AddLocation(ctx, c.p, c.id, LocationRequest{URL: "http://example.com/x", ValidationData: c.val, Authorize: c.authorize})
				wantMessage(t, err, c.kind, c.msg)
			})
		}
		// Valid hashes, whitespace between pairs as Python's fromhex
		// allows: the task is recorded.
		for _, val := range []map[string]any{nil, {"os_hash_algo": "sha256", "os_hash_value": sha256},
			{"os_hash_algo": "md5", "os_hash_value": " 00112233 44556677\t8899aabb ccddeeff "}} {
			img := mustCreate(t, s, alice, CreateRequest{})
			if _, err := s.AddLocation(ctx, service, img.ID, LocationRequest{URL: "http://example.com/x", ValidationData: val}); err != nil {
				t.Errorf("validation data %v: %v", val, err)
			}
		}
	})
}

func TestAddLocationTask(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		val := map[string]any{"os_hash_algo": "md5", "os_hash_value": strings.Repeat("0f", 16)}
		tk, err := s.AddLocation(ctx, service, img.ID, LocationRequest{URL: "file:///etc/passwd", ValidationData: val, RequestID: "req-1"})
		if err != nil {
			t.Fatalf("add location: %v", err)
		}
		if tk.Type != TaskTypeLocationImport || tk.Status != TaskPending || tk.Owner != "pa" || tk.ImageID != img.ID ||
			tk.UserID != "nova" || tk.RequestID != "req-1" {
			t.Fatalf("task %+v", tk)
		}
		// The pending task holds the import lock.
		_, err = s.AddLocation(ctx, service, img.ID, LocationRequest{URL: "http://example.com/x"})
		wantMessage(t, err, errs.KindConflict, "Image has active task")
		_, err = s.Import(ctx, alice, img.ID, webDownload("http://example.com/x"))
		wantMessage(t, err, errs.KindConflict, "Image has active task")

		runImports(t, s)
		done := waitTask(t, s, tk.ID)
		if done.Status != TaskFailure || done.Message != locationImportFailure || done.Result != nil || done.ExpiresAt == nil {
			t.Fatalf("task after its run: %+v", done)
		}
		in := done.Input
		if in["image_id"] != img.ID || in["loc_url"] != "file:///etc/passwd" || in["validation_data"].(map[string]any)["os_hash_algo"] != "md5" {
			t.Errorf("task input %v", in)
		}
		got, err := s.Get(ctx, alice, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusQueued || got.Properties[propImportTask] != "" || got.OSHashValue != nil {
			t.Fatalf("image after the failed task: status %s, properties %v", got.Status, got.Properties)
		}
		if locs, _ := s.Locations(ctx, service, img.ID); len(locs) != 0 {
			t.Errorf("locations %v", locs)
		}
		// The lock is free again; an absent validation_data is {}.
		tk2, err := s.AddLocation(ctx, service, img.ID, LocationRequest{URL: "http://example.com/x"})
		if err != nil {
			t.Fatalf("second add: %v", err)
		}
		if v, ok := tk2.Input["validation_data"].(map[string]any); !ok || len(v) != 0 {
			t.Errorf("validation_data %v", tk2.Input["validation_data"])
		}
		if done := waitTask(t, s, tk2.ID); done.Status != TaskFailure {
			t.Errorf("second task %+v", done)
		}
	})
}
