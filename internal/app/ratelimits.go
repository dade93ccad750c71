package app

import (
	"context"
	"net/http"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apirate"
)

// openRateLimits builds the rate limiter --rate-limits asks for (one
// without rules when it is off).
func (a *App) openRateLimits() error {
	rules, err := apirate.Load(a.Config.RateLimits)
	if err != nil {
		return err
	}
	if a.RateLimits, err = apirate.New(a.DB, rules, a.Config.Clock); err != nil {
		return err
	}
	if a.RateLimits.On() {
		a.Log.Info("rate limits on", "rules", len(rules), "source", a.Config.RateLimits)
	}
	return nil
}

// rateLimiter is the rate limiter as the compute APIs ask it: a request
// over a limit gets Nova's v2 413 overLimit (limits.py
// RateLimitingMiddleware, wsgi.RateLimitFault).
type rateLimiter struct{ l *apirate.Limiter }

func (r rateLimiter) InjectFault(ctx context.Context, q api.FaultRequest) (*api.Fault, error) {
	path := q.Path
	if q.Query != "" {
		path += "?" + q.Query
	}
	ref, err := r.l.Take(ctx, q.ProjectID, q.Method, path)
	if ref == nil || err != nil {
		return nil, err
	}
	return &api.Fault{Type: api.FaultStatus, Status: http.StatusRequestEntityTooLarge,
		Message: "This request was rate-limited.", Details: ref.Rule.Details(),
		RetryAfter: strconv.FormatInt(ref.RetryAfterSeconds(), 10)}, nil
}
