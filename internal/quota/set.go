package quota

import (
	"context"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Change is one requested limit, in request order.
type Change struct {
	Resource string
	Limit    int
}

// Set stores limits for a project, or for a user in it when userID is not
// empty, and returns the resulting limits. Unless force is set, each limit
// must lie within what Nova calls the settable range: at least the current
// usage (and, for a project, the sum of its users' limits), and for a user
// at most what the project has left to give out.
func (s *Service) Set(ctx context.Context, projectID, userID string, changes []Change, force bool) (Limits, error) {
	var out Limits
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if !force {
			ranges, err := s.settable(ctx, tx, projectID, userID)
			if err != nil {
				return err
			}
			for _, c := range changes {
				if err := ranges[c.Resource].check(c.Resource, c.Limit); err != nil {
					return err
				}
			}
		}
		for _, c := range changes {
			if err := upsertLimit(ctx, tx, projectID, userID, c.Resource, c.Limit); err != nil {
				return err
			}
		}
		var err error
		out, err = scopeLimits(ctx, tx, projectID, userID)
		return err
	})
	return out, err
}

// bounds is the range a new limit must lie in; -1 is infinity.
type bounds struct{ min, max int }

func inf(v int) float64 {
	if v == Unlimited {
		return 1e300
	}
	return float64(v)
}

func (b bounds) check(resource string, limit int) error {
	if inf(limit) < inf(b.min) {
		return errs.Invalid("Quota limit %d for %s must be greater than or equal to already used and reserved %d.", limit, resource, b.min)
	}
	if inf(limit) > inf(b.max) {
		return errs.Invalid("Quota limit %d for %s must be less than or equal to %d.", limit, resource, b.max)
	}
	return nil
}

func isUnlimited(v int) bool { return v <= Unlimited }

func addLimits(a, b int) int {
	if isUnlimited(a) || isUnlimited(b) {
		return Unlimited
	}
	return AddSat(a, b)
}

func subLimits(a, b int) int {
	if isUnlimited(a) || isUnlimited(b) {
		return Unlimited
	}
	return SubSat(a, b)
}

// settable computes Nova's settable quota ranges (DbQuotaDriver.
// get_settable_quotas) for a project or a user in it.
func (s *Service) settable(ctx context.Context, q store.Querier, projectID, userID string) (map[string]bounds, error) {
	proj, err := s.detail(ctx, q, projectID, "")
	if err != nil {
		return nil, err
	}
	given, err := sumUserLimits(ctx, q, projectID)
	if err != nil {
		return nil, err
	}
	// remains is what the project limit leaves after its users' limits.
	remains := map[string]int{}
	for res, u := range proj {
		remains[res] = SubSat(u.Limit, given[res])
	}
	out := map[string]bounds{}
	if userID == "" {
		for res, u := range proj {
			out[res] = bounds{min: max(subLimits(u.Limit, remains[res]), u.InUse), max: Unlimited}
		}
		return out, nil
	}
	user, err := s.detail(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	own, err := userRows(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	for res, u := range user {
		out[res] = bounds{min: u.InUse, max: addLimits(remains[res], own[res])}
	}
	return out, nil
}
