package quota

import (
	"context"
	"math/big"
	"strconv"

	"github.com/kumocloud/kumo/internal/store"
)

// CheckUpsize is Nova's _check_quota_for_upsize: a resize (or its revert)
// that grows a server by cores vCPUs and ramMB MiB must fit the quotas of
// the server's project and user. Only growth counts (Nova's
// upsize_quota_delta) and only cores and RAM are checked; the error is
// Nova's TooManyInstances, shown as a 403.
func (s *Service) CheckUpsize(ctx context.Context, tx *store.Tx, projectID, userID string, cores, ramMB int) error {
	cores, ramMB = max(cores, 0), max(ramMB, 0)
	if cores == 0 && ramMB == 0 {
		return nil
	}
	d := deltas{}
	for res, v := range map[string]int{Cores: cores, RAM: ramMB} {
		if v > 0 {
			d[res] = big.NewInt(int64(v))
		}
	}
	sc, err := s.loadInstanceScope(ctx, tx, projectID, userID)
	if err != nil {
		return err
	}
	o := sc.check(d)
	if o == nil {
		return nil
	}
	// Only cores and RAM are part of the check; an instances count already
	// at its limit does not stop a resize.
	var overs []string
	for _, res := range o.resources {
		if res == Cores || res == RAM {
			overs = append(overs, res)
		}
	}
	if len(overs) == 0 {
		return nil
	}
	o.resources = overs
	return o.tooMany(map[string]string{Cores: strconv.Itoa(cores), RAM: strconv.Itoa(ramMB)})
}
