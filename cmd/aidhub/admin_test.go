package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServeAdminAddress: --pprof's address serves the profiles and the
// Prometheus metrics; the public address serves neither.
func TestServeAdminAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := ln.Addr().String()
	ln.Close()
	s := startServe(t, env{}, "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--pprof", admin)
	if status, g := s.graphql(`query Groups { catalog { groups { code } } }`); status != http.StatusOK || len(g.Errors) > 0 {
		t.Fatalf("catalog: %d %+v", status, g.Errors)
	}

	get := func(url string) (int, string) {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get("http://" + admin + "/metrics")
	if status != http.StatusOK {
		t.Fatalf("admin /metrics: %d", status)
	}
	for _, want := range []string{"aidhub_build_info{", `aidhub_graphql_requests_total{code="OK",operation="Groups"} 1`, "go_sql_", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("admin /metrics lacks %s", want)
		}
	}
	if status, _ := get("http://" + admin + "/debug/pprof/cmdline"); status != http.StatusOK {
		t.Errorf("admin /debug/pprof/cmdline: %d", status)
	}
	if r := s.get("/metrics"); r.status != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", r.status)
	}
}
