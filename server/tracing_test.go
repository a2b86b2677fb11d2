package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/server"
)

// TestTracingSpans: each GraphQL operation has a span named after it, with
// its type and error codes, and without its variables.
func TestTracingSpans(t *testing.T) {
	d := dbtest.SQLite(t)
	dir := regions.Chongqing()
	svc := catalog.NewService(d, dir, audit.New(d, fixedNow), fixedNow)
	if _, err := svc.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	srv := httptest.NewServer(server.New(server.Config{}, server.Deps{DB: d, Catalog: svc, Tokens: auth.NewTokens(d, dir, fixedNow), Log: zerolog.Nop(), Tracer: tp}))
	defer srv.Close()
	post := func(body string) {
		resp, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(`{"query":"query Who { viewer { role } }"}`)
	post(`{"query":"query Org($id: ID!) { organization(id: $id) { nope } }","variables":{"id":"secret-looking-value"}}`)

	got := spans.GetSpans()
	if len(got) != 2 {
		t.Fatalf("%d spans, want 2: %v", len(got), got)
	}
	// The second fails validation: no operation was chosen.
	if got[0].Name != "query Who" || got[1].Name != "GraphQL" {
		t.Errorf("span names %q, %q", got[0].Name, got[1].Name)
	}
	for _, s := range got {
		for _, a := range s.Attributes {
			if strings.Contains(a.Value.String(), "secret-looking-value") {
				t.Errorf("span %s records a variable: %s=%s", s.Name, a.Key, a.Value.String())
			}
		}
	}
	var codes []string
	for _, a := range got[1].Attributes {
		if a.Key == "graphql.error_codes" {
			codes = a.Value.AsStringSlice()
		}
	}
	if len(codes) == 0 {
		t.Errorf("the failed operation's span has no error codes: %v", got[1].Attributes)
	}
}

// TestTracing_RefusedBeforeParsing: with tracing on (as serve always has
// it: a no-op provider without an endpoint), a request refused before it
// has an operation (no query, a bad body, no content type) keeps its 4xx
// answer instead of panicking in the tracer (a 500).
func TestTracing_RefusedBeforeParsing(t *testing.T) {
	d := dbtest.SQLite(t)
	dir := regions.Chongqing()
	svc := catalog.NewService(d, dir, audit.New(d, fixedNow), fixedNow)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	srv := httptest.NewServer(server.New(server.Config{}, server.Deps{DB: d, Catalog: svc, Tokens: auth.NewTokens(d, dir, fixedNow), Log: zerolog.Nop(), Tracer: tp}))
	defer srv.Close()
	for _, c := range []struct{ name, contentType, body string }{
		{"no query", "application/json", `{}`},
		{"query not a string", "application/json", `{"query":1}`},
		{"no content type", "", `{"query":"{ __typename }"}`},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode > 499 {
			t.Errorf("%s: status %d, want 4xx", c.name, resp.StatusCode)
		}
	}
}
