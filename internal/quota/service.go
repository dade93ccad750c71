package quota

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ProjectExists reports whether a project is known to the identity
// service.
type ProjectExists func(ctx context.Context, projectID string) (bool, error)

// Options configure a Service.
type Options struct {
	// ProjectExists, when set, lets the API refuse quota calls for
	// projects the identity service does not know, as Nova asks Keystone.
	ProjectExists ProjectExists
	// Instances counts servers (compute.Inventory); required.
	Instances InstanceCounter
}

// Service reads and sets quotas and checks requests against them.
type Service struct {
	db   *store.DB
	opts Options
}

// New returns a quota service on db; it panics without o.Instances, a
// wiring error.
func New(db *store.DB, o Options) *Service {
	if o.Instances == nil {
		panic("quota.New: Options.Instances is required")
	}
	return &Service{db: db, opts: o}
}

// VerifyProject fails with Nova's 400 when the identity service knows no
// project projectID. Without an identity check every id is accepted.
func (s *Service) VerifyProject(ctx context.Context, projectID string) error {
	if s.opts.ProjectExists == nil {
		return nil
	}
	ok, err := s.opts.ProjectExists(ctx, projectID)
	if err != nil {
		return fmt.Errorf("verify project %s: %w", projectID, err)
	}
	if !ok {
		return errs.Invalid("Project ID %s is not a valid project.", projectID)
	}
	return nil
}

// overlay returns base with the values of top replacing its own.
func overlay(base, top Limits) Limits {
	out := make(Limits, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		if Known(k) {
			out[k] = v
		}
	}
	return out
}

// defaults are the configured defaults overridden by the "default" class.
func defaults(ctx context.Context, q store.Querier) (Limits, error) {
	cls, err := classRows(ctx, q, DefaultClass)
	if err != nil {
		return nil, err
	}
	return overlay(configDefaults, cls), nil
}

// projectLimits are a project's limits: its own rows, else the defaults.
func projectLimits(ctx context.Context, q store.Querier, projectID string) (Limits, error) {
	def, err := defaults(ctx, q)
	if err != nil {
		return nil, err
	}
	own, err := projectRows(ctx, q, projectID)
	if err != nil {
		return nil, err
	}
	return overlay(def, own), nil
}

// limitsOf are a project's limits from the rows of its default class
// and its own (scopeRows'), as projectLimits reads them.
func limitsOf(class, project Limits) Limits {
	return overlay(overlay(configDefaults, class), project)
}

// userLimits are a user's limits in a project: the user's rows, else the
// project's.
func userLimits(ctx context.Context, q store.Querier, projectID, userID string) (Limits, error) {
	proj, err := projectLimits(ctx, q, projectID)
	if err != nil {
		return nil, err
	}
	own, err := userRows(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	return overlay(proj, own), nil
}

// scopeLimits are the limits of a user when userID is set, else of the
// project.
func scopeLimits(ctx context.Context, q store.Querier, projectID, userID string) (Limits, error) {
	if userID != "" {
		return userLimits(ctx, q, projectID, userID)
	}
	return projectLimits(ctx, q, projectID)
}

// Defaults returns the limits a project gets when none are set for it.
func (s *Service) Defaults(ctx context.Context) (Limits, error) {
	return defaults(ctx, s.db)
}

// Class returns the limits of a quota class: its rows over the configured
// defaults.
func (s *Service) Class(ctx context.Context, class string) (Limits, error) {
	rows, err := classRows(ctx, s.db, class)
	if err != nil {
		return nil, err
	}
	return overlay(configDefaults, rows), nil
}

// SetClass sets limits of a quota class and returns the class's limits.
func (s *Service) SetClass(ctx context.Context, class string, values Limits) (Limits, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, res := range Resources() {
			if v, ok := values[res]; ok {
				if err := upsertClassLimit(ctx, tx, class, res, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Class(ctx, class)
}

// Get returns the limits of a project, or of a user in it when userID is
// not empty.
func (s *Service) Get(ctx context.Context, projectID, userID string) (Limits, error) {
	return scopeLimits(ctx, s.db, projectID, userID)
}

// Detail returns limits with usage, for a project or a user in it.
// It reads outside a transaction: on SQLite every transaction takes the
// write lock, and a view needs no snapshot.
func (s *Service) Detail(ctx context.Context, projectID, userID string) (map[string]Usage, error) {
	return s.detail(ctx, s.db, projectID, userID)
}

func (s *Service) detail(ctx context.Context, q store.Querier, projectID, userID string) (map[string]Usage, error) {
	limits, err := scopeLimits(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	used, err := s.usage(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Usage, len(limits))
	for res, l := range limits {
		out[res] = Usage{Limit: l, InUse: used[res]}
	}
	return out, nil
}

// Delete removes the limits set for a project (and for all its users), or
// for one user of it, so the defaults apply again.
func (s *Service) Delete(ctx context.Context, projectID, userID string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if userID != "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM quotas WHERE project_id = ? AND user_id = ?`, projectID, userID)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM quotas WHERE project_id = ?`, projectID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete quotas of project %s: %w", projectID, err)
	}
	return nil
}
