package metadata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// password serves /openstack/<version>/password as Nova's password.py: GET
// gives the stored password (empty when none), POST stores one once.
func (h *handler) password(ctx context.Context, req *http.Request, id string) (reply, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		pw, err := h.src.Password(ctx, id)
		if err != nil {
			return reply{}, fmt.Errorf("password of server %s: %w", id, err)
		}
		return text(pw), nil
	case http.MethodPost:
	default:
		// Nova answers 400 here, not 405.
		return badRequest("GET and POST only are supported."), nil
	}
	pw, err := h.src.Password(ctx, id)
	if err != nil {
		return reply{}, fmt.Errorf("password of server %s: %w", id, err)
	}
	if pw != "" {
		return conflict(), nil
	}
	if req.ContentLength > MaxPasswordSize {
		return badRequest("Request is too large."), nil
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxPasswordSize+1))
	if err != nil {
		return badRequest("The request body could not be read."), nil
	}
	if len(body) > MaxPasswordSize {
		return badRequest("Request is too large."), nil
	}
	// Nova decodes it as UTF-8 (and fails with 500 when it is not).
	if !utf8.Valid(body) {
		return badRequest("The password is not UTF-8 text."), nil
	}
	if err := h.src.SetPassword(ctx, id, string(body)); err != nil {
		if errors.Is(err, ErrConflict) {
			return conflict(), nil
		}
		return reply{}, fmt.Errorf("set password of server %s: %w", id, err)
	}
	return text(""), nil
}
