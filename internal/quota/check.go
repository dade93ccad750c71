package quota

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// instanceResources are checked together when servers are created, in
// the sorted order Nova reports them.
var instanceResources = []string{Cores, Instances, RAM}

// instanceScope is what an instance check compares against: the project's
// limits and usage, and the user's when the user has limits of their own.
type instanceScope struct {
	projectLimits, userLimits Limits
	projectUsed, userUsed     counts
}

// loadInstanceScope reads limits and counts inside tx. Like Nova, a user's
// own usage is only counted when the user has a limit of their own on
// instances, cores or RAM.
func (s *Service) loadInstanceScope(ctx context.Context, tx *store.Tx, projectID, userID string) (*instanceScope, error) {
	sc := &instanceScope{}
	class, project, own, err := scopeRows(ctx, tx, projectID, userID)
	if err != nil {
		return nil, err
	}
	sc.projectLimits = limitsOf(class, project)
	if sc.projectUsed, err = s.countInstances(ctx, tx, projectID, ""); err != nil {
		return nil, err
	}
	if userID == "" {
		return sc, nil
	}
	if _, ok := own[Instances]; !ok {
		if _, ok := own[Cores]; !ok {
			if _, ok := own[RAM]; !ok {
				return sc, nil
			}
		}
	}
	sc.userLimits = overlay(sc.projectLimits, own)
	if sc.userUsed, err = s.countInstances(ctx, tx, projectID, userID); err != nil {
		return nil, err
	}
	return sc, nil
}

// over is the outcome of a failed check: the resources over their limit,
// and the limits and usage of the scope that was exceeded.
type over struct {
	resources []string
	limits    Limits
	used      counts
}

// deltas are what a check adds to the usage, exactly: a request may ask
// for any number of servers (Nova reads counts with Python's int()).
type deltas map[string]*big.Int

// instanceDeltas are n servers of vcpus and ramMB each.
func instanceDeltas(n *big.Int, vcpus, ramMB int) deltas {
	return deltas{
		Instances: n,
		Cores:     new(big.Int).Mul(n, big.NewInt(int64(vcpus))),
		RAM:       new(big.Int).Mul(n, big.NewInt(int64(ramMB))),
	}
}

// check compares usage plus deltas with the limits. The project is
// checked first; a user over their own limit is reported with the user's
// limits and usage (Nova's limit_check_project_and_user).
func (sc *instanceScope) check(d deltas) *over {
	var overs []string
	userOver := false
	for _, res := range instanceResources {
		delta, ok := d[res]
		if !ok {
			continue
		}
		if exceedsBig(sc.projectLimits[res], sc.projectUsed[res], delta) {
			overs = append(overs, res)
		} else if sc.userLimits != nil && exceedsBig(sc.userLimits[res], sc.userUsed[res], delta) {
			overs = append(overs, res)
			userOver = true
		}
	}
	if len(overs) == 0 {
		return nil
	}
	if userOver {
		return &over{overs, sc.userLimits, sc.userUsed}
	}
	return &over{overs, sc.projectLimits, sc.projectUsed}
}

// tooMany is Nova's TooManyInstances, which the API shows as a 403.
func (o *over) tooMany(requested map[string]string) error {
	reqs := make([]string, len(o.resources))
	used := make([]string, len(o.resources))
	allowed := make([]string, len(o.resources))
	for i, res := range o.resources {
		reqs[i] = requested[res]
		used[i] = strconv.Itoa(o.used[res])
		allowed[i] = strconv.Itoa(o.limits[res])
	}
	names := strings.Join(o.resources, ", ")
	return errs.OverQuota("Quota exceeded for %s: Requested %s, but already used %s of %s %s",
		names, strings.Join(reqs, ", "), strings.Join(used, ", "), strings.Join(allowed, ", "), names)
}

// CheckInstances checks that n more servers of vcpus vCPUs and ramMB MiB
// of RAM each fit the quotas of projectID and userID. It reads inside tx,
// so the caller's insert of the instances in the same transaction cannot
// race another creation. The error is Nova's TooManyInstances ("Quota
// exceeded for instances: Requested 1, but already used 10 of 10
// instances"), which the API shows as a 403.
func (s *Service) CheckInstances(ctx context.Context, tx *store.Tx, projectID, userID string, n, vcpus, ramMB int) error {
	sc, err := s.loadInstanceScope(ctx, tx, projectID, userID)
	if err != nil {
		return err
	}
	d := instanceDeltas(big.NewInt(int64(n)), vcpus, ramMB)
	o := sc.check(d)
	if o == nil {
		return nil
	}
	return o.tooMany(map[string]string{Instances: d[Instances].String(), Cores: d[Cores].String(), RAM: d[RAM].String()})
}

// CheckInstanceCount is CheckInstanceRange for counts that fit an int.
func (s *Service) CheckInstanceCount(ctx context.Context, tx *store.Tx, projectID, userID string, minCount, maxCount, vcpus, ramMB int) (int, error) {
	return s.CheckInstanceRange(ctx, tx, projectID, userID, big.NewInt(int64(minCount)), big.NewInt(int64(maxCount)), vcpus, ramMB)
}

// CheckInstanceRange is Nova's check_num_instances_quota: it returns how
// many servers of a flavor (vcpus, ramMB each) to create, maxCount if they
// fit, else the most that fit if that is at least minCount, else Nova's
// TooManyInstances for the request. Counts may be of any size and the
// arithmetic is exact, so no request passes by overflowing; the result
// is math.MaxInt when more than an int holds fit (no limit applies).
func (s *Service) CheckInstanceRange(ctx context.Context, tx *store.Tx, projectID, userID string, minCount, maxCount *big.Int, vcpus, ramMB int) (int, error) {
	sc, err := s.loadInstanceScope(ctx, tx, projectID, userID)
	if err != nil {
		return 0, err
	}
	count := maxCount
	for {
		d := instanceDeltas(count, vcpus, ramMB)
		o := sc.check(d)
		if o == nil {
			return clampInt(count), nil
		}
		allowed := big.NewInt(int64(o.allowed(vcpus, ramMB)))
		if allowed.Sign() > 0 && minCount.Cmp(allowed) <= 0 && allowed.Cmp(count) < 0 {
			count = allowed
			continue
		}
		requested := minCount.String()
		if minCount.Cmp(count) != 0 {
			requested = minCount.String() + "-" + count.String()
		}
		return 0, o.tooMany(map[string]string{Instances: requested, Cores: d[Cores].String(), RAM: d[RAM].String()})
	}
}

// allowed is how many instances fit the headroom of the exceeded scope
// (Nova's get_headroom). An unlimited cores or RAM limit gets the
// instances headroom times the flavor's size, so it never narrows the
// count; Nova computes that headroom the same way, and also keeps its
// quirk that an unlimited instances limit leaves a negative headroom.
func (o *over) allowed(vcpus, ramMB int) int {
	allowed := SubSat(o.limits[Instances], o.used[Instances])
	for _, r := range []struct {
		res string
		per int
	}{{Cores, vcpus}, {RAM, ramMB}} {
		if r.per > 0 && o.limits[r.res] >= 0 {
			allowed = min(allowed, floorDiv(SubSat(o.limits[r.res], o.used[r.res]), r.per))
		}
	}
	return allowed
}

// MaxAllowed is how many more instances of vcpus and ramMB each fit the
// quotas of the project and user right now; math.MaxInt when nothing
// limits them, so min(maxCount, allowed) is always the count to create.
func (s *Service) MaxAllowed(ctx context.Context, tx *store.Tx, projectID, userID string, vcpus, ramMB int) (int, error) {
	sc, err := s.loadInstanceScope(ctx, tx, projectID, userID)
	if err != nil {
		return 0, err
	}
	best := math.MaxInt
	fit := func(limits Limits, used counts) {
		for _, res := range instanceResources {
			per := 1
			switch res {
			case Cores:
				per = vcpus
			case RAM:
				per = ramMB
			}
			if limits[res] < 0 || per <= 0 {
				continue
			}
			n := max(SubSat(limits[res], used[res])/per, 0)
			best = min(best, n)
		}
	}
	fit(sc.projectLimits, sc.projectUsed)
	if sc.userLimits != nil {
		fit(sc.userLimits, sc.userUsed)
	}
	return best, nil
}

// CheckGroupMembers is Nova's server_group_members check of a create: n
// more servers of userID must fit in server group groupID. Nova counts a
// group's members per user and compares them with the user's limit (the
// project's unless the user has their own); the error is its 403 "Quota
// exceeded, too many servers in group".
func (s *Service) CheckGroupMembers(ctx context.Context, tx *store.Tx, projectID, userID, groupID string, n int) error {
	limits, err := userLimits(ctx, tx, projectID, userID)
	if err != nil {
		return err
	}
	limit := limits[ServerGroupMembers]
	if limit < 0 {
		return nil
	}
	used, err := s.countGroupMembers(ctx, tx, groupID, userID)
	if err != nil {
		return err
	}
	if Exceeds(limit, used, n) {
		return errs.OverQuota("Quota exceeded, too many servers in group")
	}
	return nil
}

// Limit returns the limit of resource that applies to a user of a project:
// the lower of the project's and the user's own (Nova checks per-user
// resources such as key_pairs against both); -1 is unlimited.
func (s *Service) Limit(ctx context.Context, projectID, userID, resource string) (int, error) {
	if !Known(resource) {
		return 0, fmt.Errorf("unknown quota resource %q", resource)
	}
	proj, err := projectLimits(ctx, s.db, projectID)
	if err != nil {
		return 0, err
	}
	if userID == "" {
		return proj[resource], nil
	}
	own, err := userRows(ctx, s.db, projectID, userID)
	if err != nil {
		return 0, err
	}
	u, ok := own[resource]
	if !ok {
		return proj[resource], nil
	}
	return minLimit(proj[resource], u), nil
}

// minLimit is the stricter of two limits.
func minLimit(a, b int) int {
	if a < 0 {
		return b
	}
	if b < 0 {
		return a
	}
	return min(a, b)
}

// CheckMetadataItems checks that a server may carry n metadata items. The
// error is Nova's MetadataLimitExceeded, a 403.
func (s *Service) CheckMetadataItems(ctx context.Context, projectID string, n int) error {
	limit, err := s.Limit(ctx, projectID, "", MetadataItems)
	if err != nil {
		return err
	}
	if exceeds(limit, n) {
		return errs.OverQuota("Maximum number of metadata items exceeds %d", limit)
	}
	return nil
}

// CheckInjectedFiles checks personality files: how many, the longest path
// and the largest content, with Nova's OnsetFile*LimitExceeded errors.
func (s *Service) CheckInjectedFiles(ctx context.Context, projectID string, files, longestPath, largestContent int) error {
	limits, err := projectLimits(ctx, s.db, projectID)
	if err != nil {
		return err
	}
	if exceeds(limits[InjectedFiles], files) {
		return errs.OverQuota("Personality file limit exceeded")
	}
	if exceeds(limits[InjectedFilePathBytes], longestPath) {
		return errs.OverQuota("Personality file path exceeds maximum %d", limits[InjectedFilePathBytes])
	}
	if exceeds(limits[InjectedFileContentBytes], largestContent) {
		return errs.OverQuota("Personality file content exceeds maximum %d", limits[InjectedFileContentBytes])
	}
	return nil
}
