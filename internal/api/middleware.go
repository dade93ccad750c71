package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kumocloud/kumo/internal/reqlog"
)

type requestInfoKey struct{}

// requestInfo travels in the request context so inner layers can report
// what the outer middleware logs and counts.
type requestInfo struct {
	id      string
	route   string
	maxBody int64 // the JSON body limit, for declaredTooLarge

	// What the service that served the request learnt of it (its name,
	// the negotiated microversion, the caller, the server the path
	// names), for the recent requests: set by Service.ServeHTTP.
	service, microversion string
	projectID, userID     string
	serverID              string
}

// RequestIDFrom returns the request id (req-<uuid>) of ctx's request.
func RequestIDFrom(ctx context.Context) string {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri.id
	}
	return ""
}

// SetRouteName records which route served the request, for metrics.
func SetRouteName(ctx context.Context, name string) {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		ri.route = name
	}
}

// Metrics holds the request counters and latency histogram.
type Metrics struct {
	requests *prometheus.CounterVec
	faults   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reg      *prometheus.Registry
}

// NewMetrics registers kumo's HTTP metrics in a fresh registry.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kumo_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kumo_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kumo_faults_injected_total", Help: "Injected faults by rule name and action type.",
		}, []string{"rule", "action"}),
		reg: reg,
	}
	reg.MustRegister(m.requests, m.latency, m.faults, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// FaultInjected counts one injected fault.
func (m *Metrics) FaultInjected(rule, action string) {
	if m != nil {
		m.faults.WithLabelValues(rule, action).Inc()
	}
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (an
// injected reset hijacks it).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush lets streamed downloads flush through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Middleware wraps next with what every request gets: a request id in
// X-Compute-Request-Id and X-Openstack-Request-Id, a body size limit, a
// panic guard that answers 500 with the request id, one structured log
// line, metrics and, when recent is set, an entry in the process's recent
// requests (not for /healthz, which load balancers poll).
func Middleware(next http.Handler, log *slog.Logger, m *Metrics, recent *reqlog.Log, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: "req-" + uuid.NewString(), route: "unmatched", maxBody: maxBody}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
		w.Header().Set("X-Compute-Request-Id", ri.id)
		w.Header().Set("X-Openstack-Request-Id", ri.id)
		if maxBody > 0 && !isUpload(r) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			p := recover()
			// A handler that broke off a reply it had started (a streamed
			// listing whose encoding failed) panics with ErrAbortHandler so
			// net/http cuts the connection; that must go on up, or the
			// chunked body would end cleanly and look whole.
			if p == http.ErrAbortHandler {
				defer panic(p)
			} else if p != nil {
				log.ErrorContext(r.Context(), "panic in handler", "request_id", ri.id, "panic", p)
				if rec.status == 0 {
					ct, body := NovaFault(http.StatusInternalServerError, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.")
					writeBytes(rec, http.StatusInternalServerError, ct, body)
				}
			}
			elapsed := time.Since(start)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if m != nil {
				m.requests.WithLabelValues(ri.route, r.Method, strconv.Itoa(status)).Inc()
				m.latency.WithLabelValues(ri.route, r.Method).Observe(elapsed.Seconds())
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("request_id", ri.id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int("bytes", rec.bytes),
				slog.Duration("duration", elapsed),
				slog.String("route", ri.route),
			)
			if recent != nil && r.URL.Path != "/healthz" {
				recent.Add(ri.entry(r, rec, start, elapsed, status))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// entry is the request as the recent requests keep it: no body, no
// header, secrets in the query redacted.
func (ri *requestInfo) entry(r *http.Request, w http.ResponseWriter, start time.Time, elapsed time.Duration, status int) reqlog.Entry {
	server := ri.serverID
	if server == "" && ri.service == "compute" && status < 300 {
		server = serverInLocation(w.Header().Get("Location"))
	}
	return reqlog.Entry{Time: start.UTC(), Method: r.Method, Path: reqlog.Redact(r.URL.Path, r.URL.RawQuery),
		Service: ri.service, Microversion: ri.microversion, Status: status,
		DurationMS: float64(elapsed.Microseconds()) / 1000, RequestID: ri.id,
		ProjectID: ri.projectID, UserID: ri.userID, ServerID: server}
}

// serverInLocation is the server id of a create's Location
// (.../servers/{id}), "" for any other.
func serverInLocation(loc string) string {
	_, rest, ok := strings.Cut(loc, "/servers/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// infoOf is ctx's requestInfo; a throwaway one outside Middleware, so
// the service can note what it learns without asking.
func infoOf(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// isUpload reports whether the request streams image data (PUT
// /image/v2/images/{id}/file), which the image service bounds itself;
// every other body is subject to the JSON body limit.
func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/image/") &&
		strings.HasSuffix(r.URL.Path, "/file") && r.Header.Get("Content-Type") == "application/octet-stream"
}
