package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var (
	admin = &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}}
	alice = &auth.Principal{UserID: "alice", ProjectID: "pa", Roles: []string{"member", "reader"}}
	bob   = &auth.Principal{UserID: "bob", ProjectID: "pb", Roles: []string{"member", "reader"}}
	carol = &auth.Principal{UserID: "carol", ProjectID: "pc", Roles: []string{"member", "reader"}}
)

func ptr[T any](v T) *T { return &v }

func newService(t *testing.T, db *store.DB) *Service {
	t.Helper()
	return New(db, filepath.Join(t.TempDir(), "images"))
}

func mustCreate(t *testing.T, s *Service, p *auth.Principal, req CreateRequest) *Image {
	t.Helper()
	if req.DiskFormat == nil {
		req.DiskFormat, req.ContainerFormat = ptr("raw"), ptr("bare")
	}
	img, err := s.Create(context.Background(), p, req)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return img
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("error %v (kind %d), want kind %d", err, errs.KindOf(err), k)
	}
}

func TestCreateDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{Name: ptr("a"), Tags: []string{"b", "a", "b"}, Properties: map[string]string{"k": "v"}})
		if img.Status != StatusQueued || img.Visibility != Shared || img.Owner != "pa" {
			t.Fatalf("defaults: %+v", img)
		}
		got, err := s.Get(ctx, alice, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Tags) != 2 || got.Tags[0] != "a" || got.Properties["k"] != "v" || *got.Name != "a" {
			t.Fatalf("stored image: %+v", got)
		}
		cases := []struct {
			name string
			p    *auth.Principal
			req  CreateRequest
			kind errs.Kind
		}{
			{"public by non-admin", alice, CreateRequest{Visibility: Public}, errs.KindForbidden},
			{"other owner", alice, CreateRequest{Owner: "pb"}, errs.KindForbidden},
			{"bad visibility", alice, CreateRequest{Visibility: "everyone"}, errs.KindInvalid},
			{"bad disk format", alice, CreateRequest{DiskFormat: ptr("floppy")}, errs.KindInvalid},
			{"bad id", alice, CreateRequest{ID: "not-a-uuid"}, errs.KindInvalid},
			{"duplicate id", alice, CreateRequest{ID: img.ID}, errs.KindConflict},
			{"read-only property", alice, CreateRequest{Properties: map[string]string{"os_glance_x": "1"}}, errs.KindForbidden},
			{"negative min_ram", alice, CreateRequest{MinRAM: -1}, errs.KindInvalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.Create(ctx, c.p, c.req)
				wantKind(t, err, c.kind)
			})
		}
		if _, err := s.Create(ctx, admin, CreateRequest{Visibility: Public, Owner: "pb"}); err != nil {
			t.Fatalf("admin creates public image for another project: %v", err)
		}
	})
}

func TestUploadAndDownload(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		data := bytes.Repeat([]byte("kumo"), 10000)
		got, err := s.Upload(ctx, alice, img.ID, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		md := md5.Sum(data)
		sh := sha512.Sum512(data)
		if got.Status != StatusActive || *got.Size != int64(len(data)) || *got.Checksum != hex.EncodeToString(md[:]) ||
			*got.OSHashAlgo != "sha512" || *got.OSHashValue != hex.EncodeToString(sh[:]) || *got.VirtualSize != int64(len(data)) {
			t.Fatalf("after upload: %+v", got)
		}
		_, err = s.Upload(ctx, alice, img.ID, bytes.NewReader(data), -1)
		wantKind(t, err, errs.KindConflict)
		d, err := s.Open(ctx, bob, img.ID)
		wantKind(t, err, errs.KindNotFound) // shared, bob is no member
		if d != nil {
			t.Fatal("data leaked")
		}
		d, err = s.Open(ctx, alice, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(d)
		d.Close()
		if !bytes.Equal(back, data) || d.Checksum != *got.Checksum {
			t.Fatal("downloaded data differs")
		}
		empty := mustCreate(t, s, alice, CreateRequest{})
		if d, err := s.Open(ctx, alice, empty.ID); err != nil || d != nil {
			t.Fatalf("queued image data: %v %v", d, err)
		}
		noFormat, _ := s.Create(ctx, alice, CreateRequest{})
		_, err = s.Upload(ctx, alice, noFormat.ID, bytes.NewReader(data), -1)
		wantKind(t, err, errs.KindInvalid)
		_, err = s.Upload(ctx, bob, empty.ID, bytes.NewReader(data), -1)
		wantKind(t, err, errs.KindNotFound)
	})
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestInterruptedUploadReturnsToQueued(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		_, err := s.Upload(ctx, alice, img.ID, &failingReader{n: 100000}, -1)
		wantKind(t, err, errs.KindInvalid)
		got, _ := s.Get(ctx, alice, img.ID)
		if got.Status != StatusQueued || got.Size != nil {
			t.Fatalf("after failed upload: %+v", got)
		}
		entries, _ := os.ReadDir(s.dir)
		if len(entries) != 0 {
			t.Fatalf("files left behind: %v", entries)
		}
		_, err = s.Upload(ctx, alice, img.ID, bytes.NewReader([]byte("x")), 2)
		wantKind(t, err, errs.KindInvalid) // size mismatch
		if _, err := s.Upload(ctx, alice, img.ID, bytes.NewReader([]byte("ok")), 2); err != nil {
			t.Fatalf("retry after failures: %v", err)
		}
		s.MaxSize = 4
		big := mustCreate(t, s, alice, CreateRequest{})
		_, err = s.Upload(ctx, alice, big.ID, bytes.NewReader([]byte("too big")), -1)
		wantKind(t, err, errs.KindTooLarge)
	})
}

func TestRecover(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		// Simulate a crash mid-upload: saving status and a temp file.
		if _, err := s.startUpload(ctx, alice, img.ID, -1, true); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(s.dir, 0o700)
		os.WriteFile(filepath.Join(s.dir, tempPrefix+img.ID+"-1"), []byte("partial"), 0o600)
		os.WriteFile(filepath.Join(s.dir, "orphan"), []byte("x"), 0o600)
		if err := s.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, alice, img.ID)
		if got.Status != StatusQueued {
			t.Fatalf("status %s after recovery", got.Status)
		}
		if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
			t.Fatalf("files left: %v", entries)
		}
	})
}

func TestVisibilityMatrix(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		imgs := map[string]*Image{
			Public:    mustCreate(t, s, admin, CreateRequest{Name: ptr("pub"), Visibility: Public, Owner: "pa"}),
			Community: mustCreate(t, s, alice, CreateRequest{Name: ptr("com"), Visibility: Community}),
			Private:   mustCreate(t, s, alice, CreateRequest{Name: ptr("priv"), Visibility: Private}),
			Shared:    mustCreate(t, s, alice, CreateRequest{Name: ptr("shr"), Visibility: Shared}),
		}
		if _, err := s.AddMember(ctx, alice, imgs[Shared].ID, "pb"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			viewer     *auth.Principal
			visibility string
			canGet     bool
		}{
			{alice, Public, true}, {alice, Community, true}, {alice, Private, true}, {alice, Shared, true},
			{bob, Public, true}, {bob, Community, true}, {bob, Private, false}, {bob, Shared, true},
			{carol, Public, true}, {carol, Community, true}, {carol, Private, false}, {carol, Shared, false},
			{admin, Private, true}, {admin, Shared, true},
		}
		for _, c := range cases {
			_, err := s.Get(ctx, c.viewer, imgs[c.visibility].ID)
			if (err == nil) != c.canGet {
				t.Errorf("%s get %s: err %v, want visible=%v", c.viewer.ProjectID, c.visibility, err, c.canGet)
			}
		}
		names := func(p *auth.Principal, o ListOptions) map[string]bool {
			t.Helper()
			page, err := s.List(ctx, p, o)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, img := range page.Images {
				out[*img.Name] = true
			}
			return out
		}
		lists := []struct {
			viewer *auth.Principal
			o      ListOptions
			want   []string
		}{
			{alice, ListOptions{}, []string{"pub", "com", "priv", "shr"}},
			{bob, ListOptions{}, []string{"pub"}}, // pending membership is not listed
			{bob, ListOptions{MemberStatus: "pending"}, []string{"pub", "shr"}},
			{bob, ListOptions{Visibility: Community}, []string{"com"}},
			{carol, ListOptions{Visibility: "all"}, []string{"pub", "com"}},
			{admin, ListOptions{}, []string{"pub", "priv", "shr"}},
		}
		for _, l := range lists {
			got := names(l.viewer, l.o)
			if len(got) != len(l.want) {
				t.Errorf("%s list %+v: %v, want %v", l.viewer.ProjectID, l.o, got, l.want)
			}
			for _, n := range l.want {
				if !got[n] {
					t.Errorf("%s list %+v: %v, want %v", l.viewer.ProjectID, l.o, got, l.want)
				}
			}
		}
		if _, err := s.SetMemberStatus(ctx, bob, imgs[Shared].ID, "pb", MemberAccepted); err != nil {
			t.Fatal(err)
		}
		if got := names(bob, ListOptions{}); !got["shr"] {
			t.Errorf("accepted shared image not listed: %v", got)
		}
		// Non-owners may see but not change.
		_, err := s.Patch(ctx, bob, imgs[Public].ID, []PatchOp{{Op: "replace", Attr: "name", Value: "x"}})
		wantKind(t, err, errs.KindForbidden)
		_, err = s.Patch(ctx, bob, imgs[Private].ID, []PatchOp{{Op: "replace", Attr: "name", Value: "x"}})
		wantKind(t, err, errs.KindNotFound)
		wantKind(t, s.Delete(ctx, bob, imgs[Shared].ID), errs.KindForbidden)
	})
}

func TestMembers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		priv := mustCreate(t, s, alice, CreateRequest{Visibility: Private})
		_, err := s.AddMember(ctx, alice, priv.ID, "pb")
		wantKind(t, err, errs.KindForbidden)
		if _, err := s.AddMember(ctx, alice, img.ID, "pb"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddMember(ctx, alice, img.ID, "pc"); err != nil {
			t.Fatal(err)
		}
		_, err = s.AddMember(ctx, alice, img.ID, "pb")
		wantKind(t, err, errs.KindConflict)
		_, err = s.AddMember(ctx, bob, img.ID, "pd")
		wantKind(t, err, errs.KindForbidden)
		all, _ := s.Members(ctx, alice, img.ID)
		mine, _ := s.Members(ctx, bob, img.ID)
		if len(all) != 2 || len(mine) != 1 || mine[0].MemberID != "pb" {
			t.Fatalf("members: owner %v, member %v", all, mine)
		}
		_, err = s.SetMemberStatus(ctx, alice, img.ID, "pb", MemberAccepted)
		wantKind(t, err, errs.KindForbidden) // only the member decides
		_, err = s.SetMemberStatus(ctx, bob, img.ID, "pb", "maybe")
		wantKind(t, err, errs.KindInvalid)
		m, err := s.SetMemberStatus(ctx, bob, img.ID, "pb", MemberRejected)
		if err != nil || m.Status != MemberRejected {
			t.Fatalf("reject: %v %v", m, err)
		}
		_, err = s.GetMember(ctx, bob, img.ID, "pc")
		wantKind(t, err, errs.KindNotFound)
		wantKind(t, s.RemoveMember(ctx, bob, img.ID, "pb"), errs.KindForbidden)
		if err := s.RemoveMember(ctx, alice, img.ID, "pb"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Get(ctx, bob, img.ID)
		wantKind(t, err, errs.KindNotFound)
	})
}

func TestPatchSemantics(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{Properties: map[string]string{"a": "1"}})
		cases := []struct {
			name string
			ops  []PatchOp
			kind errs.Kind // KindInternal means success
		}{
			{"rename", []PatchOp{{Op: "replace", Attr: "name", Value: "new"}}, errs.KindInternal},
			{"add property", []PatchOp{{Op: "add", Attr: "b", Value: "2"}}, errs.KindInternal},
			{"replace property", []PatchOp{{Op: "replace", Attr: "a", Value: "3"}}, errs.KindInternal},
			{"tags", []PatchOp{{Op: "replace", Attr: "tags", Value: []any{"x", "y"}}}, errs.KindInternal},
			{"min_disk", []PatchOp{{Op: "replace", Attr: "min_disk", Value: 5}}, errs.KindInternal},
			{"private", []PatchOp{{Op: "replace", Attr: "visibility", Value: "private"}}, errs.KindInternal},
			{"replace missing property", []PatchOp{{Op: "replace", Attr: "zzz", Value: "1"}}, errs.KindConflict},
			{"remove missing property", []PatchOp{{Op: "remove", Attr: "zzz"}}, errs.KindConflict},
			{"remove base", []PatchOp{{Op: "remove", Attr: "name"}}, errs.KindForbidden},
			{"read-only id", []PatchOp{{Op: "replace", Attr: "id", Value: "x"}}, errs.KindForbidden},
			{"read-only status", []PatchOp{{Op: "replace", Attr: "status", Value: "active"}}, errs.KindForbidden},
			{"read-only checksum", []PatchOp{{Op: "replace", Attr: "checksum", Value: "x"}}, errs.KindForbidden},
			{"public", []PatchOp{{Op: "replace", Attr: "visibility", Value: "public"}}, errs.KindForbidden},
			{"owner", []PatchOp{{Op: "replace", Attr: "owner", Value: "pb"}}, errs.KindForbidden},
			{"non-string property", []PatchOp{{Op: "add", Attr: "c", Value: 1.0}}, errs.KindInvalid},
			{"bad min_ram", []PatchOp{{Op: "replace", Attr: "min_ram", Value: "big"}}, errs.KindInvalid},
			{"bad op", []PatchOp{{Op: "move", Attr: "name"}}, errs.KindInvalid},
			{"strict add existing", []PatchOp{{Op: "add", Attr: "a", Value: "x", Strict: true}}, errs.KindConflict},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.Patch(ctx, alice, img.ID, c.ops)
				if c.kind == errs.KindInternal {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantKind(t, err, c.kind)
			})
		}
		got, _ := s.Get(ctx, alice, img.ID)
		if *got.Name != "new" || got.Properties["a"] != "3" || got.Properties["b"] != "2" || len(got.Tags) != 2 ||
			got.MinDisk != 5 || got.Visibility != Private {
			t.Fatalf("after patches: %+v", got)
		}
		// A failing op leaves the earlier ones of the same patch unapplied.
		_, err := s.Patch(ctx, alice, img.ID, []PatchOp{{Op: "replace", Attr: "name", Value: "lost"}, {Op: "remove", Attr: "zzz"}})
		wantKind(t, err, errs.KindConflict)
		if got, _ := s.Get(ctx, alice, img.ID); *got.Name != "new" {
			t.Fatal("failed patch was partly applied")
		}
		if _, err := s.Patch(ctx, admin, img.ID, []PatchOp{{Op: "replace", Attr: "visibility", Value: "public"}}); err != nil {
			t.Fatalf("admin publicizes: %v", err)
		}
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{Protected: true})
		if _, err := s.Upload(ctx, alice, img.ID, bytes.NewReader([]byte("data")), -1); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.Delete(ctx, alice, img.ID), errs.KindForbidden)
		if _, err := s.Patch(ctx, alice, img.ID, []PatchOp{{Op: "replace", Attr: "protected", Value: false}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, alice, img.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(ctx, alice, img.ID)
		wantKind(t, err, errs.KindNotFound)
		if _, err := os.Stat(s.dataPath(img.ID)); !os.IsNotExist(err) {
			t.Fatalf("file still there: %v", err)
		}
		wantKind(t, s.Delete(ctx, alice, img.ID), errs.KindNotFound)
		_, err = s.Create(ctx, alice, CreateRequest{ID: img.ID})
		wantKind(t, err, errs.KindConflict) // ids are never reused
	})
}

func TestListFiltersSortAndPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		for _, n := range []string{"c", "a", "e", "b", "d"} {
			img := mustCreate(t, s, alice, CreateRequest{Name: ptr(n), Tags: []string{"all", "t-" + n}, Properties: map[string]string{"letter": n}})
			if n == "a" || n == "b" {
				s.Upload(ctx, alice, img.ID, bytes.NewReader([]byte(n+n+n)), -1)
			}
		}
		list := func(o ListOptions) []string {
			t.Helper()
			page, err := s.List(ctx, alice, o)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, img := range page.Images {
				out = append(out, *img.Name)
			}
			return out
		}
		eq := func(got []string, want ...string) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("got %v, want %v", got, want)
				}
			}
		}
		eq(list(ListOptions{Sort: []Sort{{"name", "asc"}}}), "a", "b", "c", "d", "e")
		eq(list(ListOptions{Sort: []Sort{{"name", "desc"}}, Limit: 2}), "e", "d")
		page, _ := s.List(ctx, alice, ListOptions{Sort: []Sort{{"name", "asc"}}, Limit: 2})
		if !page.More {
			t.Fatal("full page without More")
		}
		eq(list(ListOptions{Sort: []Sort{{"name", "asc"}}, Limit: 2, Marker: page.Images[1].ID}), "c", "d")
		eq(list(ListOptions{Names: []string{"b", "d"}, Sort: []Sort{{"name", "asc"}}}), "b", "d")
		eq(list(ListOptions{Statuses: []string{"active"}, Sort: []Sort{{"name", "asc"}}}), "a", "b")
		eq(list(ListOptions{Tags: []string{"all", "t-c"}}), "c")
		eq(list(ListOptions{Properties: map[string]string{"letter": "e"}}), "e")
		eq(list(ListOptions{SizeMin: ptr(int64(1)), Sort: []Sort{{"size", "asc"}, {"name", "desc"}}}), "b", "a")
		eq(list(ListOptions{Sort: []Sort{{"size", "desc"}, {"name", "asc"}}, Limit: 3}), "a", "b", "c")
		_, err := s.List(ctx, alice, ListOptions{Sort: []Sort{{"owner", "asc"}}})
		wantKind(t, err, errs.KindInvalid)
		_, err = s.List(ctx, alice, ListOptions{Marker: "00000000-0000-0000-0000-000000000000"})
		wantKind(t, err, errs.KindInvalid)
		_, err = s.List(ctx, alice, ListOptions{Visibility: "nope"})
		wantKind(t, err, errs.KindInvalid)
	})
}

func TestSeedTinyIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		for i := 0; i < 2; i++ {
			if err := s.SeedTiny(ctx, "admin"); err != nil {
				t.Fatal(err)
			}
		}
		page, err := s.List(ctx, bob, ListOptions{Names: []string{TinyName}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Images) != 1 {
			t.Fatalf("%d kumo-tiny images", len(page.Images))
		}
		img := page.Images[0]
		if img.Status != StatusActive || img.Visibility != Public || img.Owner != "admin" || *img.Size != tinyDiskSize || *img.DiskFormat != "raw" {
			t.Fatalf("kumo-tiny: %+v", img)
		}
		d, err := s.Open(ctx, bob, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		b, _ := io.ReadAll(d)
		if len(b) != tinyDiskSize || b[510] != 0x55 || b[511] != 0xAA {
			t.Fatal("kumo-tiny is not a disk with an MBR")
		}
	})
}

func TestDeactivate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		wantKind(t, s.Deactivate(ctx, alice, img.ID), errs.KindForbidden) // queued
		s.Upload(ctx, alice, img.ID, bytes.NewReader([]byte("x")), -1)
		s.AddMember(ctx, alice, img.ID, "pb")
		wantKind(t, s.Deactivate(ctx, bob, img.ID), errs.KindForbidden)
		if err := s.Deactivate(ctx, alice, img.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.Open(ctx, alice, img.ID)
		wantKind(t, err, errs.KindForbidden)
		if err := s.Reactivate(ctx, alice, img.ID); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Open(ctx, alice, img.ID); err != nil || d == nil {
			t.Fatalf("reactivated download: %v", err)
		} else {
			d.Close()
		}
	})
}

func TestTagsAndProperties(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{Properties: map[string]string{"old": "1"}})
		if err := s.AddTag(ctx, alice, img.ID, "x"); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTag(ctx, alice, img.ID, "x"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.DeleteTag(ctx, alice, img.ID, "nope"), errs.KindNotFound)
		got, err := s.SetProperties(ctx, alice, img.ID, map[string]string{"new": "2"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Tags) != 1 || got.Properties["new"] != "2" || got.Properties["old"] != "" {
			t.Fatalf("after tag and properties: %+v", got)
		}
		if err := s.DeleteTag(ctx, alice, img.ID, "x"); err != nil {
			t.Fatal(err)
		}
		props := map[string]string{}
		for i := 0; i <= MaxProperties; i++ {
			props[fmt.Sprintf("p%d", i)] = "v"
		}
		_, err = s.SetProperties(ctx, alice, img.ID, props)
		wantKind(t, err, errs.KindTooLarge)
	})
}

// deletingReader deletes the image being uploaded halfway through.
type deletingReader struct {
	s    *Service
	id   string
	data *bytes.Reader
	done bool
}

func (r *deletingReader) Read(p []byte) (int, error) {
	if !r.done && r.data.Len() < 50 {
		r.done = true
		if err := r.s.Delete(context.Background(), alice, r.id); err != nil {
			return 0, err
		}
	}
	return r.data.Read(p)
}

func TestDeleteDuringUploadIsGone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img := mustCreate(t, s, alice, CreateRequest{})
		r := &deletingReader{s: s, id: img.ID, data: bytes.NewReader(make([]byte, 100))}
		_, err := s.Upload(ctx, alice, img.ID, iotest.OneByteReader(r), -1)
		wantKind(t, err, errs.KindGone)
		if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
			t.Fatalf("files left: %v", entries)
		}
	})
}

func TestVirtualSize(t *testing.T) {
	t.Parallel()
	qcow := make([]byte, 64)
	copy(qcow, "QFI\xfb")
	binary.BigEndian.PutUint64(qcow[24:32], 1<<30)
	cases := []struct {
		format string
		head   []byte
		want   *int64
	}{
		{"raw", []byte("abc"), ptr(int64(3))},
		{"iso", []byte("abc"), ptr(int64(3))},
		{"qcow2", qcow, ptr(int64(1 << 30))},
		{"qcow2", []byte("not a qcow2 header at all, too short or wrong"), nil},
		{"vmdk", []byte("abc"), nil},
	}
	for _, c := range cases {
		got := virtualSize(c.format, c.head, 3)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%s: %v, want %v", c.format, got, c.want)
		}
	}
}

func TestCreateFromReader(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		img, err := s.CreateFromReader(ctx, alice, CreateRequest{Name: ptr("snap"), DiskFormat: ptr("qcow2"), ContainerFormat: ptr("bare"),
			Properties: map[string]string{"instance_uuid": "x", "image_type": "snapshot"}}, bytes.NewReader([]byte("data")))
		if err != nil || img.Status != StatusActive || img.Properties["image_type"] != "snapshot" {
			t.Fatalf("snapshot: %+v %v", img, err)
		}
		_, err = s.CreateFromReader(ctx, alice, CreateRequest{Name: ptr("broken"), DiskFormat: ptr("raw"), ContainerFormat: ptr("bare")}, &failingReader{n: 10})
		wantKind(t, err, errs.KindInvalid)
		page, _ := s.List(ctx, alice, ListOptions{Names: []string{"broken"}})
		if len(page.Images) != 0 {
			t.Fatal("failed snapshot left an image behind")
		}
	})
}
