package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveProfiler serves Go's profiler on addr until the returned stop is
// called. It has its own mux (not http.DefaultServeMux) so the profiler
// is never reachable through the API listener.
func serveProfiler(addr string, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveAside("profiler", addr, mux, log)
}

// serveMetrics serves Prometheus metrics (/metrics) on addr until the
// returned stop is called. They say which routes are used and how much,
// and which Go kumo runs on: not for the API's clients, so not on the
// API listener.
func serveMetrics(addr string, metrics http.Handler, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return serveAside("metrics", addr, mux, log)
}

// serveAside serves h on an address of its own, apart from the APIs.
func serveAside(what, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the %s on %s: %w", what, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error(what, "error", err)
		}
	}()
	log.Info(what+" listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
