package dashboard

import (
	"errors"
	"net/http"
	"net/url"
)

// apiRequest is an entry of the request inspector (GET /kumo/v1/requests).
type apiRequest struct {
	Time         string  `json:"time"`
	Method       string  `json:"method"`
	Path         string  `json:"path"`
	Service      string  `json:"service"`
	Microversion string  `json:"microversion"`
	Status       int     `json:"status"`
	DurationMS   float64 `json:"duration_ms"`
	RequestID    string  `json:"request_id"`
	ProjectID    string  `json:"project_id"`
	UserID       string  `json:"user_id"`
	ServerID     string  `json:"server_id"`
}

// Changes reports whether the request could have caused an instance
// action (a GET never does).
func (r apiRequest) Changes() bool {
	return r.ServerID != "" && r.Method != http.MethodGet && r.Method != http.MethodHead
}

// requestFilters are the inspector API's filters, which the page's form
// sends as they are.
var requestFilters = []string{"method", "status", "path", "project_id", "request_id", "server_id", "limit"}

type requestsPage struct {
	Unavailable bool
	Filter      map[string]string
	// Invalid is the API's 400 for the filters, shown above the form.
	Invalid  string
	Requests []apiRequest
}

// requests is the request inspector: the API requests this kumo process
// served lately, filtered as the form says.
func (d *Dashboard) requests(s *session) error {
	p := requestsPage{Filter: map[string]string{}}
	q := url.Values{}
	for _, name := range requestFilters {
		if v := s.req.URL.Query().Get(name); v != "" {
			q.Set(name, v)
			p.Filter[name] = v
		}
	}
	api := "/kumo/v1/requests"
	if len(q) > 0 {
		api += "?" + q.Encode()
	}
	var body struct {
		Requests []apiRequest `json:"requests"`
	}
	err := s.get(api, &body)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		p.Unavailable = true
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		p.Invalid = ae.Message
	case err != nil:
		return err
	}
	p.Requests = body.Requests
	return s.render("requests", "Recent API requests", p)
}

type actionPage struct {
	ServerID string
	Action   instanceAction
}

// instanceAction shows the instance action a request caused on a server
// (GET /servers/{id}/os-instance-actions/{request_id}) with its events.
func (d *Dashboard) instanceAction(s *session) error {
	id, req := s.req.PathValue("id"), s.req.PathValue("request_id")
	var one struct {
		Action instanceAction `json:"instanceAction"`
	}
	if err := s.get(path("/v2.1/servers", id, "os-instance-actions", req), &one); err != nil {
		return err
	}
	return s.render("action", "Action "+one.Action.Action, actionPage{ServerID: id, Action: one.Action})
}
