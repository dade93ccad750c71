package quota

import (
	"context"
	"strconv"

	"github.com/kumocloud/kumo/internal/store"
)

// CheckUpsize is Nova's _check_quota_for_upsize: a resize (or its revert)
// that grows a server by cores vCPUs and ramMB MiB must fit the quotas of
// the server's project and user. Only growth counts (Nova's
// upsize_quota_delta) and only cores and RAM are checked; the error is
// Nova's TooManyInstances, shown as a 403.
func (s *Service) CheckUpsize(ctx context.Context, tx *store.Tx, projectID, userID string, cores, ramMB int) error {
	deltas := counts{Cores: max(cores, 0), RAM: max(ramMB, 0)}
	if deltas[Cores] == 0 && deltas[RAM] == 0 {
		return nil
	}
	sc, err := loadInstanceScope(ctx, tx, projectID, userID)
	if err != nil {
		return err
	}
	o := sc.check(deltas)
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
	return o.tooMany(map[string]string{Cores: strconv.Itoa(deltas[Cores]), RAM: strconv.Itoa(deltas[RAM])})
}
