package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// passwordChunks is how many system_metadata items hold the encrypted
// password a guest posts to the metadata service (Nova's password.py:
// password_0 to password_3).
const passwordChunks = 4

// ServerPassword returns the encrypted password a guest posted, "" when
// none (os-server-password).
func (s *Service) ServerPassword(ctx context.Context, p *auth.Principal, id string) (string, error) {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return "", err
	}
	return postedPassword(srv), nil
}

// PostedPassword is the password server id's guest posted to the
// metadata service, "" when none: the guest asks it back there.
func (s *Service) PostedPassword(ctx context.Context, id string) (string, error) {
	srv, err := s.get(ctx, s.DB, id, false)
	if err != nil {
		return "", err
	}
	return postedPassword(srv), nil
}

// PostPassword keeps the encrypted password server id's guest posts to
// the metadata service, as Nova's password.py: in password_0..3 of its
// system metadata, 255 characters each; a password already there is a
// conflict (errs.Conflict), one too long a bad request.
func (s *Service) PostPassword(ctx context.Context, id, password string) error {
	if len(password) > passwordChunks*255 {
		return errs.TooLarge("Request is too large.")
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if postedPassword(srv) != "" {
			return errs.Conflict("Password already set.")
		}
		sysmeta := maps.Clone(srv.SystemMetadata)
		if sysmeta == nil {
			sysmeta = map[string]string{}
		}
		for i := 0; i < passwordChunks; i++ {
			chunk := ""
			if lo := i * 255; lo < len(password) {
				chunk = password[lo:min(lo+255, len(password))]
			}
			sysmeta[fmt.Sprintf("password_%d", i)] = chunk
		}
		b, err := json.Marshal(sysmeta)
		if err != nil {
			return fmt.Errorf("encode system metadata: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET system_metadata = ?, updated_at = ? WHERE id = ?`,
			string(b), s.now().UnixMicro(), id); err != nil {
			return fmt.Errorf("keep posted password: %w", err)
		}
		return nil
	})
}

// postedPassword joins srv's password_N system metadata in order.
func postedPassword(srv *Server) string {
	keys := make([]string, 0, passwordChunks)
	for k := range srv.SystemMetadata {
		if strings.HasPrefix(k, "password_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(srv.SystemMetadata[k])
	}
	return b.String()
}

// ClearServerPassword empties the posted password, as Nova does: the
// password_N items stay, with empty values.
func (s *Service) ClearServerPassword(ctx context.Context, p *auth.Principal, id string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if !canSee(p, srv) {
			return notFound(id)
		}
		sysmeta := map[string]string{}
		for k, v := range srv.SystemMetadata {
			sysmeta[k] = v
		}
		for i := 0; i < passwordChunks; i++ {
			sysmeta[fmt.Sprintf("password_%d", i)] = ""
		}
		b, err := json.Marshal(sysmeta)
		if err != nil {
			return fmt.Errorf("encode system metadata: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET system_metadata = ?, updated_at = ? WHERE id = ?`,
			string(b), s.now().UnixMicro(), id); err != nil {
			return fmt.Errorf("clear server password: %w", err)
		}
		return nil
	})
}
