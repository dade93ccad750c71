package image

import (
	"context"
	"errors"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// projectOf is the viewer's project, "" for a nil viewer.
func projectOf(p *auth.Principal) string {
	if p == nil {
		return ""
	}
	return p.ProjectID
}

// canSee is Glance's is_image_visible: admins see everything; public and
// community images are visible to all; the owner sees its images; shared
// images are visible to member projects whatever their member status.
func canSee(p *auth.Principal, img *Image, membership string) bool {
	switch {
	case p.IsAdmin():
		return true
	case img.Visibility == Public || img.Visibility == Community:
		return true
	case projectOf(p) != "" && img.Owner == projectOf(p):
		return true
	case img.Visibility == Shared && membership != "":
		return true
	}
	return false
}

// canModify reports whether p may change img: its owner or an admin.
func canModify(p *auth.Principal, img *Image) bool {
	return p.IsAdmin() || (projectOf(p) != "" && img.Owner == projectOf(p))
}

func notFound(id string) error { return errs.NotFound("No image found with ID %s", id) }

func notAuthorized(action string) error {
	return errs.Forbidden("You are not authorized to complete %s action.", action)
}

// getVisible loads an image the viewer may see; images it may not see are
// reported as missing so their existence never leaks.
func getVisible(ctx context.Context, q store.Querier, p *auth.Principal, id string) (*Image, error) {
	img, err := loadImage(ctx, q, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, err
	}
	membership := ""
	if img.Visibility == Shared && !p.IsAdmin() && img.Owner != projectOf(p) {
		if membership, err = memberStatus(ctx, q, id, projectOf(p)); err != nil {
			return nil, err
		}
	}
	if !canSee(p, img, membership) {
		return nil, notFound(id)
	}
	return img, nil
}

// getModifiable loads an image the viewer may change: 404 when it cannot
// see it, 403 naming action when it can see but not change it.
func getModifiable(ctx context.Context, q store.Querier, p *auth.Principal, id, action string) (*Image, error) {
	img, err := getVisible(ctx, q, p, id)
	if err != nil {
		return nil, err
	}
	if !canModify(p, img) {
		return nil, notAuthorized(action)
	}
	return img, nil
}

// checkVisibilityChange enforces who may give an image a visibility:
// only admins may publicize.
func checkVisibilityChange(p *auth.Principal, visibility string) error {
	if err := validVisibility(visibility); err != nil {
		return err
	}
	if visibility == Public && !p.IsAdmin() {
		return notAuthorized("publicize_image")
	}
	return nil
}

// Get returns an image the viewer may see.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*Image, error) {
	return getVisible(ctx, s.db, p, id)
}
