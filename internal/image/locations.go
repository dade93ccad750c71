package image

// Glance's location API (Image API 2.17; glance/api/v2/images.py
// add_location and get_locations) with Glance's defaults: locations are
// not shown in image bodies (show_multiple_locations and
// show_image_direct_url off) and there is no http store. kumo's one store
// is a file store: an image with data has one location, its file. Adding
// a location records a location_import task that fails, as Glance's does
// when no store knows the URL's scheme (the file store adopts no
// locations: Glance refuses file:// URLs as external locations).

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Location is one place an image's data is kept, as GET .../locations
// lists it.
type Location struct {
	URL      string
	Metadata map[string]any
}

// locationImportFailure is the message Glance's task executor records
// for a location_import flow that fails: _UpdateLocationTask's "Invalid
// location" (glance_store knows no store for the URL) is no
// UploadException, so the task gets the executor's generic message.
const locationImportFailure = "Task failed due to Internal Error"

// hashDigestSizes are the digest sizes (bytes) of the algorithms the
// location schema allows.
var hashDigestSizes = map[string]int{"sha1": 20, "sha256": 32, "sha512": 64, "md5": 16}

// defaultHashAlgo is Glance's hashing_algorithm default.
const defaultHashAlgo = "sha512"

// Locations returns the locations of an image the caller may get: its
// file in the store once it has data, none before. The API checks
// fetch_image_location.
func (s *Service) Locations(ctx context.Context, p *auth.Principal, id string) ([]Location, error) {
	img, err := getVisible(ctx, s.db, p, id)
	if err != nil {
		return nil, err
	}
	if img.Status != StatusActive && img.Status != StatusDeactivated {
		return []Location{}, nil
	}
	// glance_store's file store reports no metadata unless
	// filesystem_store_metadata_file is set.
	return []Location{{URL: "file://" + s.dataPath(img.ID), Metadata: map[string]any{}}}, nil
}

// LocationRequest is a POST /v2/images/{id}/locations body that passed
// Glance's location schema.
type LocationRequest struct {
	URL string
	// ValidationData is the body's validation_data (os_hash_algo and
	// os_hash_value); nil when the body has none.
	ValidationData map[string]any
	RequestID      string
	// Authorize is the API's add_image_location check of the image, made
	// where Glance makes it: after the status check.
	Authorize func(img *Image) error
}

// AddLocation is Glance's add_location: the checks in Glance's order,
// then a pending location_import task holding the image's import lock.
// The import workers fail the task (locationImportFailure) and drop the
// lock; the image stays queued.
func (s *Service) AddLocation(ctx context.Context, p *auth.Principal, id string, req LocationRequest) (*Task, error) {
	valData := req.ValidationData
	if valData == nil {
		valData = map[string]any{}
	}
	now := store.Now()
	t := &Task{ID: uuid.NewString(), Type: TaskTypeLocationImport, Status: TaskPending, Owner: projectOf(p), ImageID: id,
		RequestID: req.RequestID, UserID: userOf(p), CreatedAt: now, UpdatedAt: now,
		Input: map[string]any{"image_id": id, "loc_url": req.URL, "validation_data": valData}}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		img, err := getVisible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if img.Status != StatusQueued {
			return errs.Conflict("It's not allowed to add locations if image status is %s.", img.Status)
		}
		if req.Authorize != nil {
			if err := req.Authorize(img); err != nil {
				return err
			}
		}
		// Only the http store takes locations from callers without the
		// service role, and kumo has none.
		if !p.HasRole("service") {
			return errs.Forbidden("http store must be enabled to use location API by normal user.")
		}
		if err := checkHashingData(valData); err != nil {
			return err
		}
		if other, held := img.Properties[propImportTask]; held {
			if err := s.bustImportLock(ctx, tx, id, other); err != nil {
				return err
			}
		}
		if t.Owner == "" {
			t.Owner = img.Owner
		}
		if err := insertTask(ctx, tx, t); err != nil {
			return err
		}
		// Glance's set_property_atomic: the lock is taken only if free.
		res, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value)
			SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM image_properties WHERE image_id = ? AND name = ?)`,
			id, propImportTask, t.ID, id, propImportTask)
		if err != nil {
			return fmt.Errorf("lock image %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Conflict("New operation on image '%s' is not permitted as prior operation is still in progress", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wakeImports()
	return t, nil
}

// checkHashingData is Glance's _validate_hashing_data: os_hash_value,
// when given, is hexadecimal of the digest size of os_hash_algo (the
// schema makes each need the other).
func checkHashingData(val map[string]any) error {
	raw, ok := val["os_hash_value"]
	if !ok {
		return nil
	}
	value, _ := raw.(string)
	n, ok := fromHex(value)
	if !ok {
		return errs.Invalid("os_hash_value (%s) is not a valid hexadecimal value", value)
	}
	algo := defaultHashAlgo
	if a, ok := val["os_hash_algo"].(string); ok {
		algo = a
	}
	if want := hashDigestSizes[algo]; n != want {
		return errs.Invalid("os_hash_value: (%s) is not the correct size for (%s) (should be (%d) bytes)", value, algo, want)
	}
	return nil
}

// fromHex is Python's bytearray.fromhex: pairs of hexadecimal digits,
// ASCII whitespace allowed between pairs; it returns the byte count.
func fromHex(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); {
		if strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
			i++
			continue
		}
		if i+1 >= len(s) || !isHexDigit(s[i]) || !isHexDigit(s[i+1]) {
			return 0, false
		}
		n++
		i += 2
	}
	return n, true
}

func isHexDigit(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
