package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

// novaFaultNames are Nova's fault body keys by status; others are
// "computeFault".
var novaFaultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
	429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable",
}

// NovaFault renders Nova's fault body: {"itemNotFound": {"code": 404, "message": "..."}}.
func NovaFault(status int, message string) (string, []byte) {
	name, ok := novaFaultNames[status]
	if !ok {
		name = "computeFault"
	}
	b, _ := json.Marshal(map[string]any{name: map[string]any{"code": status, "message": message}})
	return "application/json; charset=UTF-8", b
}

// KeystoneError renders Keystone's error body:
// {"error": {"code": 404, "message": "...", "title": "Not Found"}}.
func KeystoneError(status int, message string) (string, []byte) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": status, "message": message, "title": http.StatusText(status),
	}})
	return "application/json", b
}

// GlanceError renders Glance's plain-text error body, as webob writes it.
func GlanceError(status int, message string) (string, []byte) {
	return "text/plain; charset=UTF-8", fmt.Appendf(nil, "%d %s\n\n%s\n\n   ", status, http.StatusText(status), message)
}
