package image

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// onlyShared is why images that are not shared have no members.
const onlyShared = "Only shared images have members."

// sharedImage loads a visible image whose members are asked about; only
// shared images have members, others are refused with Glance's message
// for the call.
func sharedImage(ctx context.Context, q store.Querier, p *auth.Principal, id, refusal string) (*Image, error) {
	img, err := getVisible(ctx, q, p, id)
	if err != nil {
		return nil, err
	}
	if img.Visibility != Shared {
		return nil, errs.Forbidden("%s", refusal)
	}
	return img, nil
}

func scanMembers(rows *sql.Rows) ([]Member, error) {
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ImageID, &m.MemberID, &m.Status, &m.CreatedAt, &m.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan image member: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const memberColumns = `image_id, member_id, status, created_at, updated_at`

// Members lists an image's members: all of them for the owner and
// admins, only its own membership for a member project.
func (s *Service) Members(ctx context.Context, p *auth.Principal, id string) ([]Member, error) {
	img, err := sharedImage(ctx, s.db, p, id, "Not allowed to list members for image "+id+": "+onlyShared)
	if err != nil {
		return nil, err
	}
	q, args := `SELECT `+memberColumns+` FROM image_members WHERE image_id = ?`, []any{id}
	if !canModify(p, img) {
		q += ` AND member_id = ?`
		args = append(args, projectOf(p))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, member_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list image members: %w", err)
	}
	return scanMembers(rows)
}

// GetMember shows one membership, to the owner, an admin or that member.
func (s *Service) GetMember(ctx context.Context, p *auth.Principal, id, memberID string) (*Member, error) {
	img, err := sharedImage(ctx, s.db, p, id, onlyShared)
	if err != nil {
		// Glance answers 404 here rather than leak why.
		return nil, errs.NotFound("%s", errs.Message(err))
	}
	if !canModify(p, img) && projectOf(p) != memberID {
		return nil, memberNotFound(id, memberID)
	}
	return getMember(ctx, s.db, id, memberID)
}

func memberNotFound(id, memberID string) error {
	return errs.NotFound("%s not found in the member list of the image %s.", memberID, id)
}

func getMember(ctx context.Context, q store.Querier, id, memberID string) (*Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+memberColumns+` FROM image_members WHERE image_id = ? AND member_id = ?`, id, memberID)
	if err != nil {
		return nil, fmt.Errorf("load image member: %w", err)
	}
	ms, err := scanMembers(rows)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, memberNotFound(id, memberID)
	}
	return &ms[0], nil
}

// AddMember shares an image the caller owns with a project; the
// membership starts pending.
func (s *Service) AddMember(ctx context.Context, p *auth.Principal, id, memberID string) (*Member, error) {
	if memberID == "" || len(memberID) > 255 {
		return nil, errs.Invalid("Invalid member id: it must be 1 to 255 characters")
	}
	var out *Member
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		refusal := fmt.Sprintf("Not allowed to create members for image %s.", id)
		img, err := sharedImage(ctx, tx, p, id, refusal)
		if err != nil {
			return err
		}
		if !canModify(p, img) {
			return errs.Forbidden("%s", refusal)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM image_members WHERE image_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("count image members: %w", err)
		}
		if n >= MaxMembers {
			return errs.TooLarge("Image member limit exceeded for image %s: The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d", id, n+1, MaxMembers)
		}
		now := store.Now()
		m := &Member{ImageID: id, MemberID: memberID, Status: MemberPending, CreatedAt: now, UpdatedAt: now}
		_, err = tx.ExecContext(ctx, `INSERT INTO image_members (`+memberColumns+`) VALUES (?,?,?,?,?)`,
			m.ImageID, m.MemberID, m.Status, m.CreatedAt, m.UpdatedAt)
		if store.IsUniqueViolation(err) {
			return errs.Conflict("Member %s is duplicated for image %s", memberID, id)
		}
		if err != nil {
			return fmt.Errorf("add image member: %w", err)
		}
		out = m
		return nil
	})
	return out, err
}

// SetMemberStatus lets a member project (or an admin) accept or reject
// an image shared with it.
func (s *Service) SetMemberStatus(ctx context.Context, p *auth.Principal, id, memberID, status string) (*Member, error) {
	if status != MemberPending && status != MemberAccepted && status != MemberRejected {
		return nil, errs.Invalid("Incorrect request: Status must be \"pending\", \"accepted\" or \"rejected\".")
	}
	var out *Member
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		refusal := fmt.Sprintf("Not allowed to update members for image %s.", id)
		img, err := sharedImage(ctx, tx, p, id, refusal)
		if err != nil {
			return err
		}
		if !p.IsAdmin() && projectOf(p) != memberID {
			if canModify(p, img) {
				return errs.Forbidden("%s", refusal)
			}
			return memberNotFound(id, memberID)
		}
		m, err := getMember(ctx, tx, id, memberID)
		if err != nil {
			return err
		}
		m.Status, m.UpdatedAt = status, store.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member_id = ?`,
			m.Status, m.UpdatedAt, id, memberID); err != nil {
			return fmt.Errorf("update image member: %w", err)
		}
		out = m
		return nil
	})
	return out, err
}

// RemoveMember stops sharing an image with a project (owner or admin).
func (s *Service) RemoveMember(ctx context.Context, p *auth.Principal, id, memberID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		img, err := sharedImage(ctx, tx, p, id, fmt.Sprintf("Not allowed to delete members for image %s.", id))
		if err != nil {
			return err
		}
		if !canModify(p, img) {
			if projectOf(p) == memberID {
				return errs.Forbidden("You cannot delete image member.")
			}
			return memberNotFound(id, memberID)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM image_members WHERE image_id = ? AND member_id = ?`, id, memberID)
		if err != nil {
			return fmt.Errorf("remove image member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return memberNotFound(id, memberID)
		}
		return nil
	})
}
