package compute

import (
	"context"
	"maps"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// ListQuery exposes the listing's SQL to the query plan tests.
func (s *Service) ListQuery(ctx context.Context, o ListOptions) (string, []any, error) {
	return s.listQuery(ctx, o)
}

// WithTaskKind is s on a host of a newer build that also knows task kind
// name up to version (its params read as DeleteParams).
func (s *Service) WithTaskKind(name string, version int) *Service {
	newer := *s
	newer.kinds = maps.Clone(s.kinds)
	newer.kinds[name] = taskKind{version: version, params: func() TaskParams { return &DeleteParams{} }}
	return &newer
}

// RecordEvent records a successful event of action actionID that started
// at started, in a transaction of its own.
func (s *Service) RecordEvent(ctx context.Context, actionID, event string, started time.Time) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		return recordEvent(ctx, tx, actionID, event, "h", started, nil, started)
	})
}
