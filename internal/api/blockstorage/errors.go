package blockstorage

import (
	"encoding/json"
	"net/http"

	"github.com/kumocloud/kumo/internal/errs"
)

// faultNames are the keys of Cinder's fault bodies by status
// (cinder/api/openstack/wsgi.py, Fault); others are "computeFault".
var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
	501: "notImplemented", 503: "serviceUnavailable",
}

// internalMessage is webob's explanation of a 500: Cinder's fault
// wrapper hides what an unexpected exception says.
const internalMessage = "The server has either erred or is incapable of performing the requested operation."

// faultBody renders Cinder's fault: {"itemNotFound": {"code": 404,
// "message": "..."}}. Quota errors reach Cinder's FaultWrapper as
// "safe" exceptions, whose message it prefixes with the exception's
// name, and carry Retry-After: 0, echoed in the body as retryAfter.
func faultBody(status int, err error) (string, []byte) {
	name, ok := faultNames[status]
	if !ok {
		name = "computeFault"
	}
	msg := errs.Message(err)
	if errs.KindOf(err) == errs.KindInternal {
		msg = internalMessage
	}
	fault := map[string]any{"code": status, "message": msg}
	if errs.KindOf(err) == errs.KindOverQuota {
		if n := errs.NameOf(err); n != "" {
			fault["message"] = n + ": " + msg
		}
		fault["retryAfter"] = "0"
	}
	b, _ := json.Marshal(map[string]any{name: fault})
	return "application/json; charset=UTF-8", b
}

// faultHeaders are the headers of a quota error (QuotaError.headers).
func faultHeaders(_ int, err error) http.Header {
	if errs.KindOf(err) == errs.KindOverQuota {
		return http.Header{"Retry-After": {"0"}}
	}
	return nil
}

// statusOf maps quota errors to 413, as Cinder's QuotaError's code.
func statusOf(k errs.Kind) (int, bool) {
	if k == errs.KindOverQuota {
		return http.StatusRequestEntityTooLarge, true
	}
	return 0, false
}

// denied is Cinder's PolicyNotAuthorized (403).
func denied(rule string) error {
	return errs.Named("PolicyNotAuthorized", errs.Forbidden("Policy doesn't allow %s to be performed.", rule))
}
