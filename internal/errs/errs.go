// Package errs defines kumo's typed domain errors. Services return them;
// each API maps a Kind to its own status code and error body in one place.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error.
type Kind int

// Kinds of domain error, with the HTTP status they usually map to.
const (
	KindInternal         Kind = iota // 500
	KindInvalid                      // 400
	KindUnauthorized                 // 401
	KindForbidden                    // 403
	KindNotFound                     // 404
	KindMethodNotAllowed             // 405
	KindNotAcceptable                // 406
	KindConflict                     // 409
	KindGone                         // 410
	KindTooLarge                     // 413
	KindUnsupportedMedia             // 415
	KindOverQuota                    // 403 in Nova ("overLimit")
	KindNotImplemented               // 501, only where the real service answers so
)

// Error is a domain error with a user-facing message.
type Error struct {
	Kind    Kind
	Message string
	Err     error // optional cause, never shown to users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a 400: the request is malformed or fails validation.
func Invalid(format string, args ...any) error { return newf(KindInvalid, format, args...) }

// Unauthorized is a 401.
func Unauthorized(format string, args ...any) error { return newf(KindUnauthorized, format, args...) }

// Forbidden is a 403 for policy refusals.
func Forbidden(format string, args ...any) error { return newf(KindForbidden, format, args...) }

// NotFound is a 404; also used for other projects' objects so their
// existence never leaks.
func NotFound(format string, args ...any) error { return newf(KindNotFound, format, args...) }

// Conflict is a 409: the object is in the wrong state or already exists.
func Conflict(format string, args ...any) error { return newf(KindConflict, format, args...) }

// Gone is a 410 for APIs the real service has removed.
func Gone(format string, args ...any) error { return newf(KindGone, format, args...) }

// TooLarge is a 413 for oversize request bodies.
func TooLarge(format string, args ...any) error { return newf(KindTooLarge, format, args...) }

// OverQuota is a quota or limit breach (Nova answers 403 overLimit).
func OverQuota(format string, args ...any) error { return newf(KindOverQuota, format, args...) }

// NotAcceptable is a 406 (e.g. an unsupported microversion).
func NotAcceptable(format string, args ...any) error { return newf(KindNotAcceptable, format, args...) }

// MethodNotAllowed is a 405.
func MethodNotAllowed(format string, args ...any) error {
	return newf(KindMethodNotAllowed, format, args...)
}

// UnsupportedMedia is a 415.
func UnsupportedMedia(format string, args ...any) error {
	return newf(KindUnsupportedMedia, format, args...)
}

// KindOf reports the Kind of err, KindInternal for untyped errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Is reports whether err is a domain error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Message is the user-facing text of err; internal errors get a generic
// text so causes never leak to clients.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible."
}

// typed is an error with the name an API's error body gives it.
type typed struct {
	name string
	err  error
}

func (t *typed) Error() string { return t.err.Error() }
func (t *typed) Unwrap() error { return t.err }

// Named gives err the name of the upstream exception it stands for
// (Neutron's bodies carry it: "NetworkNotFound", "SubnetInUse"); its kind
// and message stay err's.
func Named(name string, err error) error { return &typed{name: name, err: err} }

// NameOf is the name Named gave err, "" when none.
func NameOf(err error) string {
	var t *typed
	if errors.As(err, &t) {
		return t.name
	}
	return ""
}
