package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// maxProjectTags is Keystone's limit of tags on one project.
const maxProjectTags = 80

// validateTags applies Keystone's tag schema: at most 80 unique tags of
// 1 to 255 characters without '/' or ','.
func validateTags(tags []string) error {
	if len(tags) > maxProjectTags {
		return errs.Invalid("Invalid input for field 'tags': too many tags (maximum %d)", maxProjectTags)
	}
	for i, t := range tags {
		if t == "" || len(t) > 255 || strings.ContainsAny(t, "/,") {
			return errs.Invalid("Invalid input for field 'tags': '%s' is not a valid tag", t)
		}
		if slices.Contains(tags[:i], t) {
			return errs.Invalid("Invalid input for field 'tags': %q has non-unique elements", tags)
		}
	}
	return nil
}

// matchesTags applies Keystone's tag filters to one project's tags.
func (f ProjectFilter) matchesTags(tags []string) bool {
	has := func(t string) bool { return slices.Contains(tags, t) }
	all := func(want []string) bool {
		for _, t := range want {
			if !has(t) {
				return false
			}
		}
		return true
	}
	if len(f.Tags) > 0 && !all(f.Tags) {
		return false
	}
	if len(f.TagsAny) > 0 && !slices.ContainsFunc(f.TagsAny, has) {
		return false
	}
	if len(f.NotTags) > 0 && all(f.NotTags) {
		return false
	}
	if len(f.NotTagsAny) > 0 && slices.ContainsFunc(f.NotTagsAny, has) {
		return false
	}
	return true
}

// AddProjectTag adds one tag to a project (adding it twice is a no-op).
func (s *Service) AddProjectTag(ctx context.Context, projectID, tag string) error {
	return s.changeTags(ctx, projectID, func(tags []string) ([]string, error) {
		if slices.Contains(tags, tag) {
			return tags, nil
		}
		return append(tags, tag), nil
	})
}

// RemoveProjectTag removes one tag, or reports Keystone's 404.
func (s *Service) RemoveProjectTag(ctx context.Context, projectID, tag string) error {
	return s.changeTags(ctx, projectID, func(tags []string) ([]string, error) {
		i := slices.Index(tags, tag)
		if i < 0 {
			return nil, notFound("project tag", tag)
		}
		return slices.Delete(tags, i, i+1), nil
	})
}

func (s *Service) changeTags(ctx context.Context, projectID string, change func([]string) ([]string, error)) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := getProject(ctx, tx, projectID)
		if err != nil {
			return err
		}
		tags, err := change(slices.Clone(p.Tags))
		if err != nil {
			return err
		}
		if err := validateTags(tags); err != nil {
			return err
		}
		encoded, err := encodeTags(tags)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET tags = ? WHERE id = ?`, encoded, projectID); err != nil {
			return fmt.Errorf("update tags of %s: %w", projectID, err)
		}
		return nil
	})
}
