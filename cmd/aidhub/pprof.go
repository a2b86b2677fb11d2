package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveAdmin serves the runtime profiles (net/http/pprof) and the metrics
// on addr, apart from the API, until the returned function is called:
// `serve --pprof 127.0.0.1:6060` lets `go tool pprof
// http://127.0.0.1:6060/debug/pprof/profile` profile a running hub under
// load, and Prometheus scrape http://127.0.0.1:6060/metrics. Neither
// belongs on the public address.
func serveAdmin(addr string, metrics http.Handler) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
