package app

import (
	"testing"

	"github.com/kumocloud/kumo/internal/quota/netquota"
)

// Every networking quota resource has its counter: the details show them
// all and every create checks its limit (Check refuses a resource without
// one).
func TestNetworkQuotaCountersCoverEveryResource(t *testing.T) {
	counters := networkQuotaCounters()
	for _, res := range netquota.Resources() {
		if counters[res] == nil {
			t.Errorf("no counter for the %s quota", res)
		}
	}
	if len(counters) != len(netquota.Resources()) {
		t.Errorf("%d counters for %d resources", len(counters), len(netquota.Resources()))
	}
}
