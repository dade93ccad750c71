package networking

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/policy"
)

// statusTypes are the exception names of errors that carry none: webob's
// HTTP exceptions, as Neutron's API raises them for its own checks.
var statusTypes = map[int]string{
	http.StatusBadRequest: "HTTPBadRequest", http.StatusUnauthorized: "HTTPUnauthorized",
	http.StatusForbidden: "HTTPForbidden", http.StatusNotFound: "HTTPNotFound",
	http.StatusMethodNotAllowed: "HTTPMethodNotAllowed", http.StatusConflict: "HTTPConflict",
	http.StatusRequestEntityTooLarge: "HTTPRequestEntityTooLarge", http.StatusUnsupportedMediaType: "HTTPUnsupportedMediaType",
	http.StatusNotImplemented: "HTTPNotImplemented", http.StatusTooManyRequests: "HTTPTooManyRequests",
	http.StatusServiceUnavailable: "HTTPServiceUnavailable",
}

// errorBody renders Neutron's error body, {"NeutronError": {"type":
// "NetworkNotFound", "message": "...", "detail": ""}}; the type is the
// name the domain gave the error (errs.Named), else the status's.
func errorBody(status int, err error) (string, []byte) {
	typ := errs.NameOf(err)
	if typ == "" {
		typ = statusTypes[status]
	}
	if typ == "" {
		typ = "HTTPInternalServerError"
	}
	msg := errs.Message(err)
	if errs.KindOf(err) == errs.KindInternal {
		msg = "Request Failed: internal server error while processing your request."
	}
	b, _ := json.Marshal(map[string]any{"NeutronError": map[string]any{"type": typ, "message": msg, "detail": ""}})
	return "application/json", b
}

// denied is Neutron's 403 for a failed rule. kumo's rules for the
// checks of Neutron's quota controller answer as those checks do.
func denied(rule string) error {
	switch rule {
	case policy.NetworkQuota:
		rule = "get_quota"
	case policy.NetworkQuotaDetails:
		return errs.Named("AdminRequired", errs.Forbidden("User does not have admin privileges: %s.",
			"Only admin is authorized to access quotas for another project"))
	}
	return errs.Named("PolicyNotAuthorized", errs.Forbidden("(rule:%s) is disallowed by policy", rule))
}

// badRequest is webob's HTTPBadRequest with Neutron's explanation.
func badRequest(format string, args ...any) error { return errs.Invalid(format, args...) }

// invalidInput is neutron-lib's InvalidInput, the 400 of attribute
// validation.
func invalidInput(format string, args ...any) error {
	return errs.Named("InvalidInput", errs.Invalid("Invalid input for operation: %s.", fmt.Sprintf(format, args...)))
}
