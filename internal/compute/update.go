package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

// UpdateRequest is a validated PUT /servers/{id}; nil fields are unchanged.
type UpdateRequest struct {
	Name        *string
	Description **string // set to a nil *string to clear
	AccessIPv4  *string
	AccessIPv6  *string
	DiskConfig  *string
	Hostname    *string
}

// Update changes a server's editable attributes and returns it.
func (s *Service) Update(ctx context.Context, p *auth.Principal, id string, req UpdateRequest) (*Server, error) {
	var out *Server
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if !canSee(p, srv) {
			return notFound(id)
		}
		sets, args := []string{}, []any{}
		set := func(col string, v any) { sets = append(sets, col+" = ?"); args = append(args, v) }
		if req.Name != nil {
			set("name", *req.Name)
		}
		if req.Description != nil {
			set("description", *req.Description)
		}
		if req.AccessIPv4 != nil {
			set("access_ip_v4", CanonicalIP(*req.AccessIPv4))
		}
		if req.AccessIPv6 != nil {
			set("access_ip_v6", CanonicalIP(*req.AccessIPv6))
		}
		if req.DiskConfig != nil {
			set("disk_config", *req.DiskConfig)
		}
		if req.Hostname != nil {
			set("hostname", *req.Hostname)
		}
		set("updated_at", s.now().UnixMicro())
		args = append(args, id)
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET `+joinComma(sets)+` WHERE id = ?`, args...); err != nil {
			return fmt.Errorf("update server: %w", err)
		}
		out, err = s.get(ctx, tx, id, false)
		return err
	})
	return out, err
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
