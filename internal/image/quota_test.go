package image

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// fixedLimits is a LimitSource with the same limits for every project
// except those in perProject; resources it lacks are 0, as oslo.limit.
func fixedLimits(all map[string]int64, perProject map[string]map[string]int64) LimitSource {
	return func(_ context.Context, _ store.Querier, project string, resources []string) (map[string]int64, error) {
		out := map[string]int64{}
		for _, r := range resources {
			out[r] = all[r]
			if v, ok := perProject[project][r]; ok {
				out[r] = v
			}
		}
		return out, nil
	}
}

func unlimited() map[string]int64 {
	return map[string]int64{QuotaImageSizeTotal: -1, QuotaImageCountTotal: -1, QuotaImageStageTotal: -1, QuotaImageCountUploading: -1}
}

func with(m map[string]int64, k string, v int64) map[string]int64 {
	out := map[string]int64{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func wantMessage(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	wantKind(t, err, kind)
	if got := errs.Message(err); got != msg {
		t.Fatalf("message %q\nwant    %q", got, msg)
	}
}

const overLimitPrefix = "The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota threshold was breached.\n\nThe response body:\n"

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestImageCountQuota(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		s.Limits = fixedLimits(with(unlimited(), QuotaImageCountTotal, 2), nil)
		first := mustCreate(t, s, alice, CreateRequest{})
		mustCreate(t, s, alice, CreateRequest{})
		_, err := s.Create(ctx, alice, CreateRequest{})
		wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_count_total is over limit of 2 due to current usage 2 and delta 1]")
		// Compute's snapshot images count the same (Nova goes through Glance).
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := s.CreateQueued(ctx, tx, alice, CreateRequest{Name: ptr("snap")}, "")
			return err
		})
		wantKind(t, err, errs.KindTooLarge)
		// Another project has its own count; a deleted image frees a slot.
		mustCreate(t, s, bob, CreateRequest{})
		if err := s.Delete(ctx, alice, first.ID); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, alice, CreateRequest{})
		// An admin creating for another project uses its own project's
		// quota, as Glance charges the caller (context.owner).
		if _, err := s.Create(ctx, admin, CreateRequest{Owner: "pa"}); err != nil {
			t.Fatalf("admin creates for pa: %v", err)
		}
	})
}

func TestImageSizeQuota(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		s.Limits = fixedLimits(with(unlimited(), QuotaImageSizeTotal, 2), map[string]map[string]int64{"pb": unlimited()})
		data := func(n int64) *countingReader { return &countingReader{r: bytes.NewReader(make([]byte, n))} }

		// A declared size over the quota is refused before a byte is read.
		img := mustCreate(t, s, alice, CreateRequest{})
		r := data(3 * mib)
		_, err := s.Upload(ctx, alice, img.ID, r, 3*mib)
		wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_size_total is over limit of 2 due to current usage 0 and delta 3]")
		if r.n != 0 {
			t.Fatalf("%d bytes read before the refusal", r.n)
		}
		// Without a size the upload is cut off where it passes the quota:
		// the first byte of a third MiB (Glance counts whole MiB).
		r = data(10 * mib)
		_, err = s.Upload(ctx, alice, img.ID, r, -1)
		wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_size_total is over limit of 2 due to current usage 0 and delta 3]")
		if r.n > 3*mib+uploadBuffer {
			t.Fatalf("read %d bytes of a 10 MiB upload over a 2 MiB quota", r.n)
		}
		if got, _ := s.Get(ctx, alice, img.ID); got.Status != StatusQueued {
			t.Fatalf("status %s after the refusal", got.Status)
		}
		if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
			t.Fatalf("files left: %v", entries)
		}
		// 2.5 MiB is 2 MiB to Glance: it fits; then only less than 1 MiB
		// more fits (usage 2 + 0).
		if _, err := s.Upload(ctx, alice, img.ID, data(5*mib/2), -1); err != nil {
			t.Fatalf("upload within the quota: %v", err)
		}
		small := mustCreate(t, s, alice, CreateRequest{})
		if _, err := s.Upload(ctx, alice, small.ID, data(mib-1), mib-1); err != nil {
			t.Fatalf("upload of less than a MiB: %v", err)
		}
		third := mustCreate(t, s, alice, CreateRequest{})
		_, err = s.Upload(ctx, alice, third.ID, data(mib), mib)
		wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_size_total is over limit of 2 due to current usage 3 and delta 1]")
		// -1 is unlimited.
		big := mustCreate(t, s, bob, CreateRequest{})
		if _, err := s.Upload(ctx, bob, big.ID, data(5*mib), -1); err != nil {
			t.Fatalf("unlimited project: %v", err)
		}

		usage, err := s.Usage(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if u := usage[QuotaImageSizeTotal]; u.Limit != 2 || u.Usage != 3 {
			t.Fatalf("image_size_total usage %+v", u)
		}
		if u := usage[QuotaImageCountTotal]; u.Limit != -1 || u.Usage != 3 {
			t.Fatalf("image_count_total usage %+v", u)
		}
	})
}

// gateReader returns its data, then blocks at the end until released.
type gateReader struct {
	data    *bytes.Reader
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGateReader(n int64) *gateReader {
	return &gateReader{data: bytes.NewReader(make([]byte, n)), reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateReader) Read(p []byte) (int, error) {
	if g.data.Len() == 0 {
		g.once.Do(func() { close(g.reached) })
		<-g.release
	}
	return g.data.Read(p)
}

func TestUploadsRunningTogether(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		s.Limits = fixedLimits(with(with(unlimited(), QuotaImageCountUploading, 1), QuotaImageSizeTotal, 1), nil)
		a, b := mustCreate(t, s, alice, CreateRequest{}), mustCreate(t, s, alice, CreateRequest{})
		g := newGateReader(mib + mib/2)
		done := make(chan error, 1)
		go func() { _, err := s.Upload(ctx, alice, a.ID, g, -1); done <- err }()
		select {
		case <-g.reached:
		case <-time.After(10 * time.Second):
			t.Fatal("first upload did not start")
		}
		// image_count_uploading 1: a second upload waits its turn.
		_, err := s.Upload(ctx, alice, b.ID, bytes.NewReader([]byte("x")), -1)
		wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_count_uploading is over limit of 1 due to current usage 2 and delta 0]")
		close(g.release)
		if err := <-done; err != nil {
			t.Fatalf("first upload: %v", err)
		}

		// Two uploads that each fit alone but not together: the one that
		// finishes second is refused when it activates.
		s.Limits = fixedLimits(with(unlimited(), QuotaImageSizeTotal, 2), nil)
		c, d := mustCreate(t, s, alice, CreateRequest{}), mustCreate(t, s, alice, CreateRequest{})
		gc, gd := newGateReader(mib), newGateReader(mib)
		errc, errd := make(chan error, 1), make(chan error, 1)
		go func() { _, err := s.Upload(ctx, alice, c.ID, gc, -1); errc <- err }()
		go func() { _, err := s.Upload(ctx, alice, d.ID, gd, -1); errd <- err }()
		<-gc.reached
		<-gd.reached
		close(gc.release)
		if err := <-errc; err != nil {
			t.Fatalf("first of two: %v", err)
		}
		close(gd.release)
		wantKind(t, <-errd, errs.KindTooLarge)
		if got, _ := s.Get(ctx, alice, d.ID); got.Status != StatusQueued {
			t.Fatalf("refused upload left status %s", got.Status)
		}
		if _, err := os.Stat(s.dataPath(d.ID)); !os.IsNotExist(err) {
			t.Fatalf("refused upload left its file: %v", err)
		}
	})
}

func TestNoLimitsRegisteredAllowsNothing(t *testing.T) {
	t.Parallel()
	s, ctx := newService(t, storetest.SQLite(t)), context.Background()
	s.Limits = fixedLimits(map[string]int64{}, nil)
	_, err := s.Create(ctx, alice, CreateRequest{})
	wantMessage(t, err, errs.KindTooLarge, overLimitPrefix+"Project pa is over a limit for [Resource image_count_total is over limit of 0 due to current usage 0 and delta 1]")
	// The built-in image is the cloud's own and is seeded regardless.
	if err := s.SeedTiny(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
}

func TestDiskReserve(t *testing.T) {
	disk := storetest.SmallDisk(t, 16<<20)
	s, ctx := New(storetest.SQLite(t), filepath.Join(disk, "images")), context.Background()
	s.DiskReserve = 8 << 20
	img := mustCreate(t, s, alice, CreateRequest{})
	r := &countingReader{r: bytes.NewReader(make([]byte, 10<<20))}
	_, err := s.Upload(ctx, alice, img.ID, r, 10<<20)
	wantMessage(t, err, errs.KindTooLarge, storageFullMessage)
	if r.n != 0 {
		t.Fatalf("%d bytes read before the refusal", r.n)
	}
	r = &countingReader{r: bytes.NewReader(make([]byte, 10<<20))}
	_, err = s.Upload(ctx, alice, img.ID, r, -1)
	wantMessage(t, err, errs.KindTooLarge, storageFullMessage)
	if r.n > 9<<20 {
		t.Fatalf("read %d bytes: the upload ran into the reserve", r.n)
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
	if _, err := s.Upload(ctx, alice, img.ID, bytes.NewReader(make([]byte, 4<<20)), -1); err != nil {
		t.Fatalf("upload leaving the reserve: %v", err)
	}
	// With the disk already into its reserve nothing is written at all.
	storetest.FillDisk(t, disk, "fill")
	other := mustCreate(t, s, alice, CreateRequest{})
	_, err = s.Upload(ctx, alice, other.ID, bytes.NewReader([]byte("x")), -1)
	wantMessage(t, err, errs.KindTooLarge, storageFullMessage)
	if got, _ := s.Get(ctx, alice, other.ID); got.Status != StatusQueued {
		t.Fatalf("status %s", got.Status)
	}
}

// TestFullDiskUpload: a disk that fills up during an upload (no reserve
// kept) is Glance's 413, without the file's path, and the partial file
// goes.
func TestFullDiskUpload(t *testing.T) {
	disk := storetest.SmallDisk(t, 4<<20)
	dir := filepath.Join(disk, "images")
	s, ctx := New(storetest.SQLite(t), dir), context.Background()
	img := mustCreate(t, s, alice, CreateRequest{})
	_, err := s.Upload(ctx, alice, img.ID, bytes.NewReader(make([]byte, 8<<20)), -1)
	wantMessage(t, err, errs.KindTooLarge, storageFullMessage)
	if strings.Contains(errs.Message(err), disk) {
		t.Fatalf("message shows a path: %s", errs.Message(err))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
	if got, _ := s.Get(ctx, alice, img.ID); got.Status != StatusQueued {
		t.Fatalf("status %s", got.Status)
	}
}

// TestDeleteOnFullDisk: with the database and the images on one full
// disk, deleting an image frees its file before the database write
// that needs the space, and other writes work again afterwards.
func TestDeleteOnFullDisk(t *testing.T) {
	disk := storetest.SmallDisk(t, 16<<20)
	ctx := context.Background()
	dbPath := filepath.Join(disk, "kumo.db")
	open := func() *store.DB {
		db, err := store.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The schema goes into the database file now, not at the checkpoint
	// below: the room that one needs is then the test's own writes, however
	// many migrations there are.
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	s := New(db, filepath.Join(disk, "images"))
	// Room kept for the checkpoint at close: a checkpoint that cannot
	// grow the database file leaves commits in the WAL, and truncating
	// that below would lose them (a malformed database, not a full one).
	spare := filepath.Join(disk, "spare")
	if err := os.WriteFile(spare, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for {
		img := mustCreate(t, s, alice, CreateRequest{})
		if _, err := s.Upload(ctx, alice, img.ID, bytes.NewReader(make([]byte, 2<<20)), -1); err != nil {
			wantKind(t, err, errs.KindTooLarge)
			break
		}
		ids = append(ids, img.ID)
	}
	if len(ids) < 2 {
		t.Fatalf("only %d images fit", len(ids))
	}
	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close (checkpoint): %v", err)
	}
	// The log of the next transaction has no room left: an empty WAL on a
	// full disk.
	if err := os.Truncate(dbPath+"-wal", 0); err != nil {
		t.Fatal(err)
	}
	storetest.FillDisk(t, disk, "fill")
	db = open()
	defer db.Close()
	s = New(db, filepath.Join(disk, "images"))
	if _, err := s.Create(ctx, bob, CreateRequest{}); !store.IsDiskFull(err) {
		t.Fatalf("create on a full disk: %v, want a disk-full error", err)
	}
	// Reads work.
	if _, err := s.Get(ctx, alice, ids[0]); err != nil {
		t.Fatalf("read on a full disk: %v", err)
	}
	if err := s.Delete(ctx, alice, ids[0]); err != nil {
		t.Fatalf("delete on a full disk: %v", err)
	}
	_, err := s.Get(ctx, alice, ids[0])
	wantKind(t, err, errs.KindNotFound)
	if entries, _ := os.ReadDir(s.dir); len(entries) != len(ids)-1 {
		t.Fatalf("%d files after deleting one of %d", len(entries), len(ids))
	}
	if _, err := s.Create(ctx, bob, CreateRequest{}); err != nil {
		t.Fatalf("create after the delete freed space: %v", err)
	}
}

// TestRecoverSetAsideFile: a crash between setting a deleted image's
// file aside and recording the delete loses nothing; after the record,
// the file goes.
func TestRecoverSetAsideFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ctx := newService(t, db), context.Background()
		kept, gone := mustCreate(t, s, alice, CreateRequest{}), mustCreate(t, s, alice, CreateRequest{})
		for _, img := range []*Image{kept, gone} {
			if _, err := s.Upload(ctx, alice, img.ID, bytes.NewReader([]byte("data")), -1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.setAside(img.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.markDeleted(ctx, alice, gone.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := s.Open(ctx, alice, kept.ID)
		if err != nil || d == nil {
			t.Fatalf("image whose delete never committed: %v", err)
		}
		d.Close()
		if entries, _ := os.ReadDir(s.dir); len(entries) != 1 || entries[0].Name() != kept.ID {
			t.Fatalf("files after recovery: %v", entries)
		}
		// A refused delete leaves the file where it was.
		if _, err := s.update(ctx, alice, kept.ID, "modify_image", func(img *Image) error { img.Protected = true; return nil }); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.Delete(ctx, alice, kept.ID), errs.KindForbidden)
		if _, err := os.Stat(s.dataPath(kept.ID)); err != nil {
			t.Fatalf("protected image's file: %v", err)
		}
	})
}
