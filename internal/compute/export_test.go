package compute

import "context"

// ListQuery exposes the listing's SQL to the query plan tests.
func (s *Service) ListQuery(ctx context.Context, o ListOptions) (string, []any, error) {
	return s.listQuery(ctx, o)
}
