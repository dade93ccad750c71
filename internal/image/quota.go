package image

// Glance's per-project quotas with Keystone unified limits
// (glance/quota/keystone.py): usage is counted from the image rows, the
// limits come from the identity service's registered limits and project
// limits, and a request that would go over answers 413 with oslo.limit's
// text. The image filesystem keeps a reserve of free space no upload may
// take (Glance's 413 "Image storage media is full").

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hostinfo"
	"github.com/kumocloud/kumo/internal/store"
)

// Glance's unified-limit resources (sizes in MiB).
const (
	QuotaImageSizeTotal      = "image_size_total"
	QuotaImageStageTotal     = "image_stage_total"
	QuotaImageCountTotal     = "image_count_total"
	QuotaImageCountUploading = "image_count_uploading"
)

// QuotaResources are the resources in the order Glance reports them.
var QuotaResources = []string{QuotaImageSizeTotal, QuotaImageCountTotal, QuotaImageStageTotal, QuotaImageCountUploading}

const mib = int64(1) << 20

// LimitSource reads a project's limits for resources in q, the image
// service's transaction: -1 is unlimited, a resource without any limit
// is 0 (nothing allowed), as oslo.limit decides.
type LimitSource func(ctx context.Context, q store.Querier, projectID string, resources []string) (map[string]int64, error)

// storageFullMessage is Glance's 413 for glance_store's StorageFull.
const storageFullMessage = "Image storage media is full: There is not enough disk space on the image storage media."

func storageFull() error { return errs.TooLarge(storageFullMessage) }

// Usage is one resource's limit and usage.
type Usage struct {
	Limit int64
	Usage int64
}

// overLimit is oslo.limit's OverLimitInfo.
type overLimit struct {
	resource            string
	limit, usage, delta int64
}

// limitExceeded is Glance's LimitExceeded carrying oslo.limit's
// ProjectOverLimit text.
func limitExceeded(project string, over []overLimit) error {
	parts := make([]string, len(over))
	for i, o := range over {
		parts[i] = fmt.Sprintf("Resource %s is over limit of %d due to current usage %d and delta %d", o.resource, o.limit, o.usage, o.delta)
	}
	return errs.TooLarge("The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota threshold was breached.\n\nThe response body:\nProject %s is over a limit for [%s]", project, strings.Join(parts, ", "))
}

// quotaProject is whose quota a request consumes: the caller's project,
// as Glance charges context.owner, or the image's owner when compute
// acts for it (snapshot uploads run without a project).
func quotaProject(p *auth.Principal, owner string) string {
	if pr := projectOf(p); pr != "" {
		return pr
	}
	return owner
}

// projectUsage is what a project consumes: the size of its images (in
// bytes) and their number, not counting deleted or killed ones, the
// images it is uploading, staging or importing, and the bytes its
// staged images hold (Glance's staging usage: images uploading or
// importing).
type projectUsage struct {
	sizeBytes, count, uploading, stagedBytes int64
}

// usageOf counts a project's consumption.
func usageOf(ctx context.Context, q store.Querier, project string) (projectUsage, error) {
	var u projectUsage
	// Staged data is not in the store yet: it counts against
	// image_stage_total, not image_size_total, as in Glance.
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN size > 0 AND status NOT IN (?, ?) THEN size ELSE 0 END), 0),
		COUNT(*), COUNT(CASE WHEN status IN (?, ?, ?) THEN 1 END),
		COALESCE(SUM(CASE WHEN size > 0 AND status IN (?, ?) THEN size ELSE 0 END), 0)
		FROM images WHERE owner = ? AND deleted = FALSE AND status NOT IN (?, ?)`,
		StatusUploading, StatusImporting, StatusSaving, StatusUploading, StatusImporting, StatusUploading, StatusImporting,
		project, StatusKilled, StatusDeleted).Scan(&u.sizeBytes, &u.count, &u.uploading, &u.stagedBytes)
	if err != nil {
		return u, fmt.Errorf("count image usage of %s: %w", project, err)
	}
	return u, nil
}

// usage is a project's usage of each resource in Glance's units.
func usage(ctx context.Context, q store.Querier, project string) (map[string]int64, error) {
	u, err := usageOf(ctx, q, project)
	if err != nil {
		return nil, err
	}
	return map[string]int64{
		QuotaImageSizeTotal: u.sizeBytes / mib, QuotaImageCountTotal: u.count,
		QuotaImageStageTotal: u.stagedBytes / mib, QuotaImageCountUploading: u.uploading,
	}, nil
}

// enforce refuses (413) when usage plus delta goes over a limit for any
// resource in deltas, as oslo.limit's enforce; without a LimitSource
// (Glance's use_keystone_limits off) everything is allowed.
func (s *Service) enforce(ctx context.Context, q store.Querier, project string, deltas map[string]int64) error {
	if s.Limits == nil {
		return nil
	}
	var names []string
	for _, r := range QuotaResources {
		if _, ok := deltas[r]; ok {
			names = append(names, r)
		}
	}
	limits, err := s.Limits(ctx, q, project, names)
	if err != nil {
		return err
	}
	used, err := usage(ctx, q, project)
	if err != nil {
		return err
	}
	var over []overLimit
	for _, r := range names {
		if l := limits[r]; l >= 0 && used[r]+deltas[r] > l {
			over = append(over, overLimit{r, l, used[r], deltas[r]})
		}
	}
	if len(over) > 0 {
		return limitExceeded(project, over)
	}
	return nil
}

// sizeBudget is how many bytes a project may still upload into one
// image: the largest size whose MiB, added to the project's usage in
// MiB, stays within image_size_total (Glance's own test, so an upload
// streamed without a size stops where a declared one is refused); -1
// when unlimited.
func (s *Service) sizeBudget(ctx context.Context, q store.Querier, project string) (budget int64, usedMiB, limitMiB int64, err error) {
	return s.budget(ctx, q, project, QuotaImageSizeTotal)
}

// budget is sizeBudget for resource: image_size_total, or
// image_stage_total for data being staged.
func (s *Service) budget(ctx context.Context, q store.Querier, project, resource string) (budget int64, usedMiB, limitMiB int64, err error) {
	if s.Limits == nil {
		return -1, 0, -1, nil
	}
	limits, err := s.Limits(ctx, q, project, []string{resource})
	if err != nil {
		return 0, 0, 0, err
	}
	used, err := usage(ctx, q, project)
	if err != nil {
		return 0, 0, 0, err
	}
	limitMiB, usedMiB = limits[resource], used[resource]
	if limitMiB < 0 {
		return -1, usedMiB, limitMiB, nil
	}
	return max((limitMiB-usedMiB+1)*mib-1, 0), usedMiB, limitMiB, nil
}

// Usage reports the caller's project's limits and usage of Glance's
// resources (GET /v2/info/usage); none without a LimitSource, as Glance
// reports nothing when unified limits are off.
func (s *Service) Usage(ctx context.Context, p *auth.Principal) (map[string]Usage, error) {
	if s.Limits == nil {
		return map[string]Usage{}, nil
	}
	project := projectOf(p)
	limits, err := s.Limits(ctx, s.db, project, QuotaResources)
	if err != nil {
		return nil, err
	}
	used, err := usage(ctx, s.db, project)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Usage, len(QuotaResources))
	for _, r := range QuotaResources {
		out[r] = Usage{Limit: limits[r], Usage: used[r]}
	}
	return out, nil
}

// diskGuard keeps uploads from taking the image filesystem's reserve:
// before each write it checks that the free space, less what is being
// written, stays at or above the reserve. It asks the filesystem again
// at least every MiB written, or when its estimate nears the reserve.
type diskGuard struct {
	dir     string
	reserve int64
	free    int64 // free space when last asked
	pending int64 // bytes written since
	known   bool
}

const diskGuardRecheck = 1 << 20

// allow reports whether n more bytes may be written (413 otherwise).
func (g *diskGuard) allow(n int64) error {
	if g.reserve <= 0 {
		return nil
	}
	if !g.known || g.pending+n > diskGuardRecheck || g.free-g.pending-n < g.reserve {
		free, err := freeSpace(g.dir)
		if err != nil {
			return err
		}
		g.free, g.pending, g.known = free, 0, true
	}
	if g.free-g.pending-n < g.reserve {
		return storageFull()
	}
	g.pending += n
	return nil
}

// freeSpace is the free space of the filesystem holding dir, which may
// not exist yet (then its nearest existing parent's).
func freeSpace(dir string) (int64, error) {
	for {
		free, err := hostinfo.FreeBytes(dir)
		if err == nil {
			return free, nil
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) || filepath.Dir(dir) == dir {
			return 0, fmt.Errorf("free space of the image store: %w", err)
		}
		dir = filepath.Dir(dir)
	}
}

// checkDiskReserve refuses an upload of size bytes (-1: unknown, then
// only a filesystem already into its reserve refuses) before anything
// is written.
func (s *Service) checkDiskReserve(size int64) error {
	g := diskGuard{dir: s.dir, reserve: s.DiskReserve}
	return g.allow(max(size, 0))
}
