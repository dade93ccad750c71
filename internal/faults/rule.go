// Package faults makes kumo misbehave on purpose, so the retry and error
// paths of the tools tested against it run: rules (stored in the
// database, so every API and compute process of a cloud reads the same
// ones) that answer an API request with an error status, delay it or
// reset its connection, or make a compute host's driver operation fail
// or hang. This file is the rule and its validation, match.go the
// matching, store.go the rows.
package faults

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// Action types.
const (
	// ActionStatus answers the request with an error status and the
	// service's own fault body, before the handler runs.
	ActionStatus = "status"
	// ActionLatency delays the request, then serves it.
	ActionLatency = "latency"
	// ActionReset resets the connection (the client sees ECONNRESET).
	ActionReset = "reset"
	// ActionDriverError fails a compute host's driver operation.
	ActionDriverError = "driver_error"
	// ActionDriverHang delays a driver operation, then runs it.
	ActionDriverHang = "driver_hang"
)

// MaxDelay bounds every delay a rule asks for: a fault slows a request or
// an operation down, it never parks it for good.
const MaxDelay = 10 * time.Minute

// serviceNames are the service names a rule may name (api.Service.Name).
const serviceNames = "compute, identity, image, network, volume"

// Source of a rule: made through the API, or loaded from a --faults file
// ("file:" and the file's absolute path).
const SourceAPI = "api"

// Action is what a rule does when it fires.
type Action struct {
	Type string `json:"type" yaml:"type"`
	// Status is the HTTP status of a status action (400-599).
	Status int `json:"status" yaml:"status"`
	// RetryAfter, when set, is sent as Retry-After (seconds) with a
	// status action (and as retryAfter in Nova's and Cinder's overLimit
	// body).
	RetryAfter *int `json:"retry_after" yaml:"retry_after"`
	// DelayMS is the delay of a latency or driver_hang action.
	DelayMS int `json:"delay_ms" yaml:"delay_ms"`
	// Message is the status fault's message or the driver error's
	// (the server's fault message); a default when empty.
	Message string `json:"message" yaml:"message"`
}

// Delay is the action's delay.
func (a Action) Delay() time.Duration { return time.Duration(a.DelayMS) * time.Millisecond }

// Driver reports whether the action is a driver fault.
func (a Action) Driver() bool { return a.Type == ActionDriverError || a.Type == ActionDriverHang }

// Rule is one fault: what it matches and what it does. Empty match fields
// match anything.
type Rule struct {
	ID   string `json:"id" yaml:"-"`
	Name string `json:"name" yaml:"name"`
	// Service is compute, identity, image, network or volume.
	Service string `json:"service" yaml:"service"`
	Method  string `json:"method" yaml:"method"`
	// Path is a regular expression (RE2, unanchored) matched against the
	// request's path after the service's prefix and the optional project
	// id segment: "/servers/detail" for GET /v2.1/{project}/servers/detail,
	// "/v3/auth/tokens" for /identity/v3/auth/tokens, "/v2/images" for
	// /image/v2/images, "/v2.0/networks" for /networking/v2.0/networks,
	// "/volumes" for /volume/v3/{project}/volumes.
	Path      string `json:"path" yaml:"path"`
	ProjectID string `json:"project_id" yaml:"project_id"`
	// Microversion is the request's negotiated compute or volume
	// microversion ("2.79").
	Microversion string `json:"microversion" yaml:"microversion"`
	// Probability is the chance (0..1) that a matching request fires the
	// rule; 1 when not given.
	Probability *float64 `json:"probability" yaml:"probability"`
	// Count is how many more times the rule fires (shared by every
	// process); nil is unlimited.
	Count  *int64 `json:"count" yaml:"count"`
	Action Action `json:"action" yaml:"action"`
	// Operation names the driver operation a driver fault fails or
	// delays (build, delete, reboot, stop, start, pause, unpause,
	// suspend, resume, rebuild, resize, ...: see OperationOf).
	Operation string `json:"operation" yaml:"operation"`
	ServerID  string `json:"server_id" yaml:"server_id"`
	// Hits is how many times the rule fired.
	Hits      int64     `json:"hits" yaml:"-"`
	Source    string    `json:"source" yaml:"-"`
	CreatedAt time.Time `json:"created_at" yaml:"-"`
}

// chance is the rule's probability.
func (r *Rule) chance() float64 {
	if r.Probability == nil {
		return 1
	}
	return *r.Probability
}

var (
	microversionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	operationRE    = regexp.MustCompile(`^[a-z_]+$`)
	methodRE       = regexp.MustCompile(`^[A-Z]+$`)
)

// Normalize fills a rule's defaults (method in upper case) and checks
// it; the errors are 400s naming the field.
func Normalize(r *Rule) error {
	r.Name = strings.TrimSpace(r.Name)
	r.Method = strings.ToUpper(r.Method)
	switch {
	case r.Name == "":
		return errs.Invalid("fault name is required")
	case len(r.Name) > 255:
		return errs.Invalid("fault name is longer than 255 characters")
	case r.Service != "" && !slices.Contains(strings.Split(serviceNames, ", "), r.Service):
		return errs.Invalid("fault service %q is not one of %s (or empty for any)", r.Service, serviceNames)
	case r.Method != "" && !methodRE.MatchString(r.Method):
		return errs.Invalid("fault method %q is not an HTTP method", r.Method)
	case len(r.Path) > 1024:
		return errs.Invalid("fault path is longer than 1024 characters")
	case r.Microversion != "" && !microversionRE.MatchString(r.Microversion):
		return errs.Invalid("fault microversion %q is not MAJOR.MINOR", r.Microversion)
	case r.Probability != nil && !(*r.Probability >= 0 && *r.Probability <= 1):
		return errs.Invalid("fault probability must be between 0 and 1")
	case r.Count != nil && *r.Count < 1:
		return errs.Invalid("fault count must be at least 1 (leave it out for no limit)")
	}
	if _, err := regexp.Compile(r.Path); err != nil {
		return errs.Invalid("fault path is not a regular expression: %v", err)
	}
	return checkAction(r)
}

func checkAction(r *Rule) error {
	a := &r.Action
	delay := func() error {
		if a.DelayMS < 1 || a.Delay() > MaxDelay {
			return errs.Invalid("fault action %s needs delay_ms between 1 and %d", a.Type, MaxDelay.Milliseconds())
		}
		return nil
	}
	if a.RetryAfter != nil && (a.Type != ActionStatus || *a.RetryAfter < 0) {
		return errs.Invalid("fault action retry_after is a number of seconds (0 or more) for a status action only")
	}
	if a.Type != ActionStatus && a.Status != 0 {
		return errs.Invalid("fault action status is for a status action only")
	}
	if a.Driver() {
		if r.Operation == "" || !operationRE.MatchString(r.Operation) {
			return errs.Invalid("fault action %s needs an operation (build, delete, reboot, stop, start, resize, ...)", a.Type)
		}
		if r.Method != "" || r.Path != "" || r.Microversion != "" || (r.Service != "" && r.Service != "compute") {
			return errs.Invalid("a driver fault matches by operation, project_id and server_id only")
		}
		if a.Type == ActionDriverHang {
			return delay()
		}
		return nil
	}
	if r.Operation != "" || r.ServerID != "" {
		return errs.Invalid("operation and server_id are for driver faults (driver_error, driver_hang) only")
	}
	switch a.Type {
	case ActionStatus:
		if a.Status < 400 || a.Status > 599 {
			return errs.Invalid("fault action status must be an HTTP error status (400-599)")
		}
	case ActionLatency:
		return delay()
	case ActionReset:
	case "":
		return errs.Invalid("fault action type is required (status, latency, reset, driver_error, driver_hang)")
	default:
		return errs.Invalid("fault action type %q is not one of status, latency, reset, driver_error, driver_hang", a.Type)
	}
	if a.DelayMS != 0 && a.Type != ActionLatency {
		return errs.Invalid("fault action delay_ms is for latency and driver_hang actions only")
	}
	return nil
}

// StatusMessage is the message of a status fault: the rule's, else one in the
// words of the HTTP status.
func (a Action) StatusMessage() string {
	if a.Message != "" {
		return a.Message
	}
	return fmt.Sprintf("%s (injected fault)", http.StatusText(a.Status))
}

// RetryAfterHeader is the Retry-After value, "" for none.
func (a Action) RetryAfterHeader() string {
	if a.RetryAfter == nil {
		return ""
	}
	return strconv.Itoa(*a.RetryAfter)
}
